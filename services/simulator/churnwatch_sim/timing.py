"""When things happen: time-of-day profiles by weekday, and event-time formatting.

Times inside a simulated day are integer milliseconds since midnight UTC (0 … 86,399,999).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DAY_MS",
    "HMS",
    "PROFILES",
    "WEEKDAY_FACTOR",
    "format_ms",
    "iso_now",
    "sample_ms",
    "weekday_of",
]

DAY_MS = 86_400_000
HMS: list[str] = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]

_CONSUMER_WEEKDAY = [1, 1, 1, 1, 1, 2, 4, 7, 8, 7, 6, 6, 8, 7, 6, 6, 7, 8, 10, 12, 13, 12, 8, 4]
_CONSUMER_WEEKEND = [2, 1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 10, 9, 9, 9, 9, 9, 10, 11, 11, 10, 8, 5]
_OFFICE_WEEKDAY = [0, 0, 0, 0, 0, 0, 0, 1, 6, 10, 11, 10, 7, 8, 10, 10, 9, 7, 3, 1, 0, 0, 0, 0]
_OFFICE_WEEKEND = [0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 3, 2, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]
_BILLING = [8, 10, 8, 6, 4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
_CAMPAIGN = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

PROFILES: dict[str, tuple[list[int], list[int]]] = {
    "consumer": (_CONSUMER_WEEKDAY, _CONSUMER_WEEKEND),
    "office": (_OFFICE_WEEKDAY, _OFFICE_WEEKEND),
    "billing": (_BILLING, _BILLING),
    "campaign": (_CAMPAIGN, _CAMPAIGN),
}
"""Relative activity per hour of day (UTC), for weekdays and for weekends."""

WEEKDAY_FACTOR = np.array([0.92, 0.94, 0.96, 1.0, 1.08, 1.1, 1.0])
WEEKDAY_FACTOR = WEEKDAY_FACTOR / WEEKDAY_FACTOR.mean()
"""Shopping intensity by weekday (Monday first); its mean is exactly 1."""

_CDF = {
    (name, weekend): np.cumsum(np.asarray(w, dtype=np.float64)) / float(sum(w))
    for name, pair in PROFILES.items()
    for weekend, w in enumerate(pair)
}


def weekday_of(start: date, day: int) -> int:
    """Weekday (Monday = 0) of simulated ``day`` counted from ``start``.

    >>> weekday_of(date(2025, 1, 6), 5)
    5
    """
    return (start + timedelta(days=day)).weekday()


def sample_ms(rng: np.random.Generator, n: int, profile: str, weekday: int) -> NDArray[np.int32]:
    """``n`` times of day (ms) drawn from the hourly ``profile`` of that weekday.

    >>> rng = np.random.default_rng(0)
    >>> ms = sample_ms(rng, 1000, "office", 0)
    >>> bool((ms >= 7 * 3_600_000).all() and (ms < 20 * 3_600_000).all())
    True
    """
    cdf = _CDF[(profile, int(weekday >= 5))]
    hour = np.searchsorted(cdf, rng.random(n), side="right").clip(0, 23)
    return (hour * 3_600_000 + rng.integers(0, 3_600_000, n)).astype(np.int32)


def format_ms(day_start: date, ms: int) -> str:
    """The contract's ``occurred_at`` for ``ms`` after midnight of ``day_start``.

    >>> format_ms(date(2025, 1, 6), 3_723_004)
    '2025-01-06T01:02:03.004Z'
    """
    return f"{day_start.isoformat()}T{HMS[ms // 1000]}.{ms % 1000:03d}Z"


def iso_now(now: datetime | None = None) -> str:
    """Wall-clock time in the same fixed-width format (24 characters).

    >>> iso_now(datetime(2025, 1, 6, 9, 30, 0, 123456, tzinfo=UTC))
    '2025-01-06T09:30:00.123Z'
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
