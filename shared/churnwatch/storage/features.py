"""Compact feature vectors for stored label snapshots: float32 values plus a name-set id.

A snapshot's features were a JSONB object (~1.6 KB: every name spelled out in every row). Here a
row keeps the values only, as big-endian float32 (PostgreSQL's ``float4send`` byte order, so SQL
can build the same bytes), and a 64-bit id of the ordered name tuple; the names are stored once
per set (``label_feature_sets``). Absent values (``None``/NaN) are NaN in the vector and absent
again when decoded, as the JSON ``null`` was. float32 keeps 7 significant digits: days, counts
and money are far coarser than that; timestamps are never features.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["decode_features", "encode_features", "feature_set_id"]

_BE_F32 = np.dtype(">f4")


def feature_set_id(names: Sequence[str]) -> int:
    """A stable signed 64-bit id of an ordered name tuple (first 8 bytes of its SHA-256).

    >>> feature_set_id(["a", "b"]) == feature_set_id(("a", "b")) != feature_set_id(["b", "a"])
    True
    >>> -(2**63) <= feature_set_id(["a"]) < 2**63
    True
    """
    digest = hashlib.sha256("\x1f".join(names).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def encode_features(values: Mapping[str, float | None]) -> tuple[tuple[str, ...], bytes]:
    """``(names, vector)``: the names in the mapping's order, the values as big-endian float32.

    >>> names, blob = encode_features({"recency_days": 2.5, "nps_score": None})
    >>> names, len(blob), blob[:4].hex()
    (('recency_days', 'nps_score'), 8, '40200000')
    """
    names = tuple(values)
    array = np.array([math.nan if v is None else float(v) for v in values.values()], dtype=_BE_F32)
    return names, array.tobytes()


def decode_features(names: Sequence[str], vector: bytes) -> dict[str, float]:
    """The mapping `encode_features` was given, absent values dropped, floats at float32 precision.

    >>> decode_features(*encode_features({"a": 1.0, "b": None, "c": 0.1}))
    {'a': 1.0, 'c': 0.10000000149011612}
    >>> decode_features(["a"], b"\\x00")
    Traceback (most recent call last):
    ...
    ValueError: feature vector of 1 bytes for 1 names (4 bytes each)
    """
    if len(vector) != 4 * len(names):
        raise ValueError(
            f"feature vector of {len(vector)} bytes for {len(names)} names (4 bytes each)"
        )
    array = np.frombuffer(vector, dtype=_BE_F32).astype(np.float64)
    return {n: float(v) for n, v in zip(names, array, strict=True) if not math.isnan(v)}
