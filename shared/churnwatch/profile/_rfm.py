"""RFM: a customer's recency, frequency and monetary values, quintile scores, named segments.

The quintile cut points come from the live population (a streaming quantile sketch kept by the
service), so they are plain arguments here: `RfmCuts` holds the 20/40/60/80% quantiles of each
value. Segments follow the usual RFM grid on R and FM = ⌈(F + M) / 2⌉ (docs/profile.md).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise

from ._derived import days_between, window_sums
from ._state import CustomerProfile

__all__ = [
    "RfmCuts",
    "RfmScores",
    "RfmSegment",
    "RfmValues",
    "rfm_scores",
    "rfm_segment",
    "rfm_values",
]

Quintiles = tuple[float, float, float, float]


class RfmSegment(StrEnum):
    """The named cells of the RFM grid (docs/kpis.md)."""

    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL_LOYALIST = "potential_loyalist"
    NEW = "new"
    PROMISING = "promising"
    NEED_ATTENTION = "need_attention"
    ABOUT_TO_SLEEP = "about_to_sleep"
    AT_RISK = "at_risk"
    CANNOT_LOSE_THEM = "cannot_lose_them"
    HIBERNATING = "hibernating"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class RfmValues:
    """Days since the last purchase, purchases and spend over the last 365 days."""

    recency_days: float
    frequency: float
    monetary: float


@dataclass(frozen=True, slots=True)
class RfmCuts:
    """The population's 20/40/60/80% quantiles of recency days, frequency and monetary.

    >>> RfmCuts(recency=(10, 30, 60, 120), frequency=(1, 1, 2, 4), monetary=(20, 50, 90, 200))
    RfmCuts(recency=(10, 30, 60, 120), frequency=(1, 1, 2, 4), monetary=(20, 50, 90, 200))
    """

    recency: Quintiles
    frequency: Quintiles
    monetary: Quintiles

    def __post_init__(self) -> None:
        for name in ("recency", "frequency", "monetary"):
            cuts = getattr(self, name)
            if len(cuts) != 4 or any(a > b for a, b in pairwise(cuts)):
                raise ValueError(f"{name} cuts must be 4 ascending quantiles, got {cuts}")


@dataclass(frozen=True, slots=True)
class RfmScores:
    """Quintile scores 1-5; 5 is best (most recent, most frequent, highest spend)."""

    r: int
    f: int
    m: int


def rfm_values(profile: CustomerProfile, now: datetime) -> RfmValues | None:
    """The profile's RFM values at ``now``; None if it has never purchased.

    >>> from datetime import UTC
    >>> rfm_values(CustomerProfile(), datetime(2026, 3, 1, tzinfo=UTC)) is None
    True
    """
    if not profile.tx_count:
        return None
    t = now.timestamp()
    _, _, count, _, _, cents = window_sums(profile, t)
    return RfmValues(days_between(t, profile.last_tx), float(count), cents / 100)


def rfm_scores(recency_days: float, frequency: float, monetary: float, cuts: RfmCuts) -> RfmScores:
    """Quintile scores against the population's cut points.

    A value equal to a cut point falls in the lower quintile (higher for recency, where fewer
    days is better).

    >>> cuts = RfmCuts((10, 30, 60, 120), (1, 1, 2, 4), (20, 50, 90, 200))
    >>> rfm_scores(5, 6, 95, cuts)
    RfmScores(r=5, f=5, m=4)
    >>> rfm_scores(200, 1, 20, cuts)
    RfmScores(r=1, f=1, m=1)
    """
    return RfmScores(
        r=5 - bisect_left(cuts.recency, recency_days),
        f=1 + bisect_left(cuts.frequency, frequency),
        m=1 + bisect_left(cuts.monetary, monetary),
    )


def _cell(r: int, fm: int) -> RfmSegment:
    if r <= 2:
        if fm == 5:
            return RfmSegment.CANNOT_LOSE_THEM
        if fm >= 3:
            return RfmSegment.AT_RISK
        return RfmSegment.LOST if r == fm == 1 else RfmSegment.HIBERNATING
    if fm >= 4:
        return RfmSegment.CHAMPIONS if r == 5 else RfmSegment.LOYAL
    if r == 3:
        return RfmSegment.NEED_ATTENTION if fm == 3 else RfmSegment.ABOUT_TO_SLEEP
    if fm == 1:
        return RfmSegment.NEW if r == 5 else RfmSegment.PROMISING
    return RfmSegment.POTENTIAL_LOYALIST


_GRID = {(r, fm): _cell(r, fm) for r in range(1, 6) for fm in range(1, 6)}
"""(R, FM) -> segment: the whole 5 x 5 grid."""


def rfm_segment(r: int, f: int, m: int) -> RfmSegment:
    """The named segment of scores ``r``, ``f``, ``m`` (each 1-5), from R and FM.

    >>> [str(rfm_segment(*scores)) for scores in [(5, 5, 4), (1, 1, 1), (1, 5, 5), (5, 1, 1)]]
    ['champions', 'lost', 'cannot_lose_them', 'new']
    """
    for name, score in (("r", r), ("f", f), ("m", m)):
        if not 1 <= score <= 5:
            raise ValueError(f"{name} score must be 1-5, got {score}")
    return _GRID[r, (f + m + 1) // 2]
