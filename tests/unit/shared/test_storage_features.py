"""Compact snapshot features: the float32 vector decodes to what the JSONB object held."""

from __future__ import annotations

import math

import numpy as np
import orjson
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.profile import FEATURE_NAMES
from churnwatch.storage import decode_features, encode_features, feature_set_id

values = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False, width=32))


@given(st.lists(values, min_size=len(FEATURE_NAMES), max_size=len(FEATURE_NAMES)))
def test_vector_round_trip_equals_the_json_path_at_float32(raw: list[float | None]) -> None:
    features = dict(zip(FEATURE_NAMES, raw, strict=True))
    names, vector = encode_features(features)
    decoded = decode_features(names, vector)
    # the JSON path: NaN and None became null, and the learner dropped nulls
    json_path = {k: v for k, v in orjson.loads(orjson.dumps(features)).items() if v is not None}
    assert decoded.keys() == json_path.keys()
    for key, value in json_path.items():
        assert decoded[key] == float(np.float32(value)), key
    assert len(vector) == 4 * len(FEATURE_NAMES)


def test_vector_is_a_fraction_of_the_json_object() -> None:
    features = {name: 12.345678 for name in FEATURE_NAMES}
    _, vector = encode_features(features)
    assert len(vector) * 4 < len(orjson.dumps(features))


def test_feature_set_id_changes_with_names_or_order() -> None:
    names = list(FEATURE_NAMES)
    assert feature_set_id(names) == feature_set_id(tuple(names))
    assert feature_set_id(names) != feature_set_id(names[::-1])
    assert feature_set_id(names) != feature_set_id([*names, "extra"])


def test_nan_and_infinity() -> None:
    names, vector = encode_features({"a": math.inf, "b": math.nan})
    assert decode_features(names, vector) == {"a": math.inf}
