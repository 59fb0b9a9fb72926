"""Per-activity features from the business's own ``feature_use`` names (``attributes.feature``).

Which activities predict churn differs by business ("unfriend" in a social app, "export" in a
SaaS tool), so the profile keeps a small table of decayed counts per activity name and the
model reads them through an `ActivityVocabulary`: the business's top names by volume, each with
its short (τ 7 d) and long (τ 90 d) rate per day and their trend, plus a few hashed buckets for
every other name. Bounded twice: the profile keeps at most ``ACTIVITY_CAPACITY`` names per
customer (the smallest long-term count is evicted: a customer's rare activities are forgotten
first), and the vocabulary fixes the number of features whatever names a business sends.

The table (``CustomerProfile.activities``) is keyed by the CRC-32 of the name, values rounded to
float32 (as stored: a reloaded profile equals the live one); ``activity_ref`` is its reference
time, as ``feature_ref`` for the total.
"""

from __future__ import annotations

import functools
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from zlib import crc32

from ._clock import DAY
from ._derived import tenure_start, trend
from ._state import ACTIVITY_CAPACITY, TAU_LONG_DAYS, TAU_SHORT_DAYS, CustomerProfile

__all__ = ["ActivityVocabulary", "activity_key", "add_activity", "f32"]

_TAU_S = TAU_SHORT_DAYS * DAY
_TAU_L = TAU_LONG_DAYS * DAY
_F32 = struct.Struct("<f")
_SLUG = re.compile(r"[^a-z0-9]+")


def f32(x: float) -> float:
    """``x`` rounded to float32, as the binary form stores it.

    >>> f32(0.1) == 0.1, abs(f32(0.1) - 0.1) < 1e-8
    (False, True)
    """
    return float(_F32.unpack(_F32.pack(x))[0])


def activity_key(name: str) -> int:
    """The table key of an activity name: CRC-32 of its UTF-8 bytes.

    >>> activity_key("post") == activity_key("post") != activity_key("like")
    True
    """
    return crc32(name.encode())


def add_activity(p: CustomerProfile, name: str, count: float, t: int) -> None:
    """Fold ``count`` uses of activity ``name`` at ``t`` into the profile's table (in place).

    >>> p = CustomerProfile()
    >>> add_activity(p, "post", 2.0, 1_000_000); add_activity(p, "like", 1.0, 1_000_000)
    >>> sorted(v[0] for v in p.activities.values())
    [1.0, 2.0]
    """
    table, ref = p.activities, p.activity_ref
    if t > ref:
        short, long = math.exp((ref - t) / _TAU_S), math.exp((ref - t) / _TAU_L)
        for values in table.values():
            values[0], values[1] = f32(values[0] * short), f32(values[1] * long)
        p.activity_ref = t
        add_s = add_l = count
    else:  # a late event, decayed to the reference time
        add_s, add_l = count * math.exp((t - ref) / _TAU_S), count * math.exp((t - ref) / _TAU_L)
    key = activity_key(name)
    entry = table.get(key)
    if entry is None:
        table[key] = [f32(add_s), f32(add_l)]
        if len(table) > ACTIVITY_CAPACITY:  # forget the least used (ties: the larger key)
            del table[min(table, key=lambda k: (table[k][1], -k))]
    else:
        entry[0], entry[1] = f32(entry[0] + add_s), f32(entry[1] + add_l)


def _slug(name: str) -> str:
    return _SLUG.sub("_", name.lower()).strip("_")[:32] or "unnamed"


@dataclass(frozen=True, slots=True)
class ActivityVocabulary:
    """The activity features a model reads: ``names`` (the business's top activities) each as
    ``activity_<slug>_short``/``_long`` (uses per day, τ 7 d / 90 d) and ``_trend``, then
    ``buckets`` hashed buckets ``activity_other<k>_short``/``_long`` for every other name.

    >>> vocab = ActivityVocabulary(("Post", "unfriend"), buckets=1)
    >>> vocab.feature_names()[:3]
    ('activity_post_short', 'activity_post_long', 'activity_post_trend')
    >>> len(vocab.feature_names())
    8
    """

    names: tuple[str, ...] = ()
    buckets: int = 2

    def __post_init__(self) -> None:
        if self.buckets < 0 or len(set(map(_slug, self.names))) != len(self.names):
            raise ValueError("activity vocabulary needs buckets >= 0 and distinct names")

    @classmethod
    def top_by_volume(
        cls, volumes: Mapping[str, float], top: int = 8, buckets: int = 2
    ) -> ActivityVocabulary:
        """The ``top`` names by volume (ties by name), the rest hashed into ``buckets``.

        >>> ActivityVocabulary.top_by_volume({"like": 90, "post": 10, "unfriend": 2}, top=2).names
        ('like', 'post')
        """
        ranked = sorted(volumes.items(), key=lambda kv: (-kv[1], kv[0]))
        names: list[str] = []
        for name, _ in ranked:
            if len(names) < top and _slug(name) not in map(_slug, names):
                names.append(name)
        return cls(tuple(names), buckets)

    def feature_names(self) -> tuple[str, ...]:
        """The feature names, in the order of `values`."""
        return _layout(self)[0]

    def _names(self) -> tuple[str, ...]:
        out: list[str] = []
        for name in self.names:
            slug = _slug(name)
            out += [f"activity_{slug}_short", f"activity_{slug}_long", f"activity_{slug}_trend"]
        for k in range(self.buckets):
            out += [f"activity_other{k}_short", f"activity_other{k}_long"]
        return tuple(out)

    def values(self, p: CustomerProfile, now: float) -> list[float]:
        """The features of profile ``p`` at ``now`` (seconds), in `feature_names` order."""
        _, known, zeros = _layout(self)
        table, ref = p.activities, p.activity_ref
        if not table or not ref:
            return list(zeros)  # every rate 0 (`decayed_rates` without a reference time)
        # `decayed_rates` of every entry, its factors computed once (the same floats)
        age = max(now - tenure_start(p), DAY)
        decay_s, decay_l = math.exp((ref - now) / _TAU_S), math.exp((ref - now) / _TAU_L)
        norm_s = TAU_SHORT_DAYS * (1.0 - math.exp(-age / _TAU_S))
        norm_l = TAU_LONG_DAYS * (1.0 - math.exp(-age / _TAU_L))
        named = [(0.0, 0.0)] * len(self.names)
        other = [[0.0, 0.0] for _ in range(self.buckets)]
        for key, (short, long) in table.items():
            rates = (short * decay_s / norm_s, long * decay_l / norm_l)
            index = known.get(key)
            if index is not None:
                named[index] = rates
            elif self.buckets:
                bucket = other[key % self.buckets]
                bucket[0] += rates[0]
                bucket[1] += rates[1]
        out: list[float] = []
        for short, long in named:
            out += [short, long, trend(short, long)]
        for short, long in other:
            out += [short, long]
        return out

    def features(self, p: CustomerProfile, now: float) -> dict[str, float]:
        """`values` keyed by `feature_names`."""
        return dict(zip(_layout(self)[0], self.values(p, now), strict=True))


@functools.lru_cache(maxsize=16)
def _layout(
    vocab: ActivityVocabulary,
) -> tuple[tuple[str, ...], dict[int, int], tuple[float, ...]]:
    """A vocabulary's feature names, its names' table keys → index, and its values for a
    profile without activities, computed once: all are read at every score (the dict is never
    handed out to be changed).

    >>> names, known, zeros = _layout(ActivityVocabulary(("post",), buckets=1))
    >>> names[1:3], zeros
    (('activity_post_long', 'activity_post_trend'), (0.0, 0.0, 1.0, 0.0, 0.0))
    """
    zeros = (0.0, 0.0, trend(0.0, 0.0)) * len(vocab.names) + (0.0, 0.0) * vocab.buckets
    return vocab._names(), {activity_key(n): i for i, n in enumerate(vocab.names)}, zeros
