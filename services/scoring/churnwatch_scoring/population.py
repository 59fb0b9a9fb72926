"""Tier thresholds and RFM quintile cuts: versioned state, the same for every worker.

The cut points are a ``population_cuts`` row (migration 0033) that `churnwatch_scoring.cuts`
computes from ``latest_scores`` and the workers hot-load like the CLV parameters
(`hotload.ModelSource`). A worker never derives them from what it happened to score, so a
restart, a rebalance or another batching cannot change a customer's tier or segment; every score
records the version it used (``cuts_version``). docs/scoring.md, "Population".

Until a row exists everyone is bronze and the RFM segment is null (version None).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from churnwatch.profile import RfmCuts, RfmValues, rfm_scores, rfm_segment
from churnwatch.value import Tier, TierCuts, TierThresholds, assign_tier

QUINTILES = (0.2, 0.4, 0.6, 0.8)


@dataclass(frozen=True, slots=True)
class Population:
    """One version of the cut points (``version`` None: no row yet, nobody above bronze).

    >>> pop = Population.from_row(4, {"silver": 10.0, "gold": 50.0, "platinum": 90.0},
    ...     {"recency": [5, 10, 20, 40], "frequency": [1, 1, 2, 4], "monetary": [10, 20, 40, 80]})
    >>> pop.tier(99.0).value, pop.tier(10.0).value, pop.version
    ('platinum', 'bronze', 4)
    >>> pop.segment(RfmValues(1.0, 6.0, 100.0))
    'champions'
    >>> Population().tier(1e9).value, Population().segment(RfmValues(1.0, 6.0, 100.0))
    ('bronze', None)
    """

    version: int | None = None
    thresholds: TierThresholds | None = None
    cuts: RfmCuts | None = None

    @classmethod
    def from_row(
        cls, version: int, tiers: Mapping[str, Any] | None, rfm: Mapping[str, Any] | None
    ) -> Population:
        """A ``population_cuts`` row (`tiers_json`/`rfm_json` are the inverse)."""
        thresholds = None
        if tiers is not None:
            thresholds = TierThresholds(
                platinum=float(tiers["platinum"]),
                gold=float(tiers["gold"]),
                silver=float(tiers["silver"]),
            )
        cuts = None
        if rfm is not None:
            cuts = RfmCuts(
                recency=_four(rfm["recency"]),
                frequency=_four(rfm["frequency"]),
                monetary=_four(rfm["monetary"]),
            )
        return cls(version, thresholds, cuts)

    @classmethod
    def from_values(
        cls,
        version: int,
        values: Sequence[float],
        rfm: Sequence[RfmValues],
        *,
        min_count: int = 100,
    ) -> Population:
        """The cut points `churnwatch_scoring.cuts` computes in SQL, from values in memory:
        ``percentile_disc`` of one value per customer (an in-process simulation's population).

        >>> pop = Population.from_values(1, [float(v) for v in range(1, 201)], [], min_count=10)
        >>> pop.thresholds, pop.cuts
        (TierThresholds(platinum=190.0, gold=160.0, silver=100.0), None)
        """
        thresholds = None
        if len(values) >= min_count:
            ordered = sorted(values)
            thresholds = TierThresholds(*(quantile_disc(ordered, q) for q in tier_quantiles()))
        cuts = None
        if len(rfm) >= min_count:
            r, f, m = (
                sorted(getattr(v, name) for v in rfm)
                for name in ("recency_days", "frequency", "monetary")
            )
            cuts = RfmCuts(
                *(_four([quantile_disc(col, q) for q in QUINTILES]) for col in (r, f, m))
            )
        return cls(version, thresholds, cuts)

    def tier(self, value: float) -> Tier:
        """Bronze until cut points exist."""
        return assign_tier(value, self.thresholds) if self.thresholds else Tier.BRONZE

    def segment(self, rfm: RfmValues | None) -> str | None:
        """The RFM segment; None without purchases or before cut points exist."""
        if rfm is None or self.cuts is None:
            return None
        s = rfm_scores(rfm.recency_days, rfm.frequency, rfm.monetary, self.cuts)
        return rfm_segment(s.r, s.f, s.m).value


def quantile_disc(ordered: Sequence[float], q: float) -> float:
    """PostgreSQL's ``percentile_disc``: the first value whose cumulative share reaches ``q``.

    >>> quantile_disc([1.0, 2.0, 3.0, 4.0], 0.5), quantile_disc([1.0, 2.0, 3.0, 4.0], 0.51)
    (2.0, 3.0)
    """
    k = max(math.ceil(q * len(ordered) - 1e-9) - 1, 0)
    return ordered[k]


def tier_quantiles(cuts: TierCuts | None = None) -> tuple[float, float, float]:
    """The quantiles of the value basis at the lower edges of platinum, gold and silver.

    >>> tier_quantiles()
    (0.95, 0.8, 0.5)
    """
    top_platinum, top_gold, top_silver = (cuts or TierCuts()).cumulative()
    return (round(1 - top_platinum, 12), round(1 - top_gold, 12), round(1 - top_silver, 12))


def tiers_json(platinum: float, gold: float, silver: float) -> dict[str, float]:
    """The ``tiers`` column: thresholds a customer must be strictly above.

    >>> tiers_json(90.0, 50.0, 10.0)
    {'platinum': 90.0, 'gold': 50.0, 'silver': 10.0}
    """
    return {"platinum": float(platinum), "gold": float(gold), "silver": float(silver)}


def rfm_json(
    recency: Sequence[float], frequency: Sequence[float], monetary: Sequence[float]
) -> dict[str, list[float]]:
    """The ``rfm`` column (validated as `RfmCuts`: four ascending quantiles each).

    >>> rfm_json([1, 2, 3, 4], [1, 1, 1, 2], [5, 6, 7, 8])["frequency"]
    [1.0, 1.0, 1.0, 2.0]
    """
    cuts = RfmCuts(_four(recency), _four(frequency), _four(monetary))
    return {
        "recency": list(cuts.recency),
        "frequency": list(cuts.frequency),
        "monetary": list(cuts.monetary),
    }


def _four(values: Sequence[Any]) -> tuple[float, float, float, float]:
    a, b, c, d = (float(v) for v in values)
    return (a, b, c, d)
