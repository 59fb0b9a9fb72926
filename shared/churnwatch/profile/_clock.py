"""Event time as whole seconds, and exponentially decayed counts that forgive late events.

The profile keeps every instant as an ``int`` of seconds since the Unix epoch, clamped to
``[1, 2**32 - 1]`` (1970-01-01T00:00:01Z to 2106-02-07), so that it fits an unsigned 32-bit
field and ``0`` can mean "never".
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

__all__ = [
    "DAY",
    "NEVER",
    "WEEK",
    "add_decayed",
    "at_time",
    "from_seconds",
    "to_seconds",
]

DAY = 86_400
"""Seconds in a day."""

WEEK = 7 * DAY
"""Seconds in a week: the width of the purchase buckets."""

NEVER = 0
"""The time stored for something that never happened."""

_MAX = 2**32 - 1


def to_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch (floored), clamped to the profile's range.

    >>> to_seconds(datetime(2026, 3, 1, 10, 15, 0, 999_999, tzinfo=UTC))
    1772360100
    >>> to_seconds(datetime(1900, 1, 1, tzinfo=UTC))
    1
    """
    seconds = math.floor(moment.timestamp())
    return 1 if seconds < 1 else min(seconds, _MAX)


def from_seconds(seconds: int) -> datetime:
    """The UTC datetime of a stored instant.

    >>> from_seconds(1772360100).isoformat()
    '2026-03-01T10:15:00+00:00'
    """
    return datetime.fromtimestamp(seconds, UTC)


def add_decayed(value: float, ref: int, weight: float, at: int, tau: float) -> tuple[float, int]:
    """Add ``weight`` at time ``at`` to a count decayed with time constant ``tau`` seconds.

    The count is kept as (value at ``ref``, ``ref``) with ``ref`` the latest time seen, so a
    late event (``at < ref``) is decayed to ``ref`` and added: the result is the same, up to
    float rounding, as if the events had come in time order.

    >>> v, ref = add_decayed(0.0, 0, 1.0, 1_000, 100.0)
    >>> v, ref = add_decayed(v, ref, 1.0, 1_100, 100.0)
    >>> w, ref2 = add_decayed(*add_decayed(0.0, 0, 1.0, 1_100, 100.0), 1.0, 1_000, 100.0)
    >>> ref == ref2 == 1_100, abs(v - w) < 1e-12, round(v, 6)
    (True, True, 1.367879)
    """
    if at >= ref:
        if at == ref:
            return value + weight, ref
        return value * math.exp((ref - at) / tau) + weight, at
    return value + weight * math.exp((at - ref) / tau), ref


def at_time(value: float, ref: int, now: float, tau: float) -> float:
    """A decayed count as of ``now`` (seconds): ``value`` decayed from ``ref`` to ``now``.

    >>> round(at_time(2.0, 1_000, 1_100.0, 100.0), 6)
    0.735759
    """
    if value == 0.0:
        return 0.0
    return value * math.exp((ref - now) / tau)
