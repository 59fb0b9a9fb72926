"""The worker's view of the live population: streaming sketches of CLV and of R, F, M values.

A worker only sees its own partitions; since topics are keyed by a hash of ``customer_id``, its
partitions are a hash sample of all customers, so percentiles over them estimate the population's
(docs/scoring.md). Each score adds the customer's current values; to forget old values the
sketches rotate: percentiles come from the current and the previous generation (the last
``window`` to ``2 × window`` scores). Frequently scored customers weigh more, which the silence
sweep tempers by rescoring quiet customers too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from churnwatch.profile import RfmCuts, RfmValues, rfm_scores, rfm_segment
from churnwatch.value import QuantileSketch, Tier, TierThresholds, assign_tier, tier_thresholds

_QUINTILES = (0.2, 0.4, 0.6, 0.8)


@dataclass(slots=True)
class _Rotating:
    window: int
    current: QuantileSketch = field(default_factory=QuantileSketch)
    previous: QuantileSketch | None = None

    def add(self, value: float) -> None:
        self.current.add(value)
        if self.current.count >= self.window:
            self.previous, self.current = self.current, QuantileSketch()

    def merged(self) -> QuantileSketch:
        out = QuantileSketch()
        out.merge(self.current)
        if self.previous is not None:
            out.merge(self.previous)
        return out


class Population:
    """Tier thresholds and RFM cut points from the scores seen; refreshed once per batch.

    >>> pop = Population(min_count=10)
    >>> for v in range(1, 101):
    ...     pop.add(float(v), RfmValues(float(v), float(v % 7), float(v)))
    >>> pop.refresh()
    >>> pop.tier(99.0).value, pop.tier(10.0).value
    ('platinum', 'bronze')
    >>> pop.segment(RfmValues(1.0, 6.0, 100.0))
    'champions'
    """

    def __init__(self, *, window: int = 200_000, min_count: int = 100) -> None:
        self.min_count = min_count
        self._clv = _Rotating(window)
        self._rfm = (_Rotating(window), _Rotating(window), _Rotating(window))
        self.thresholds: TierThresholds | None = None
        self.cuts: RfmCuts | None = None

    def add(self, clv: float, rfm: RfmValues | None) -> None:
        self._clv.add(clv)
        if rfm is not None:
            for sketch, value in zip(
                self._rfm, (rfm.recency_days, rfm.frequency, rfm.monetary), strict=True
            ):
                sketch.add(value)

    def refresh(self) -> None:
        """Recompute thresholds and cuts (a few hundred buckets each: well under a millisecond)."""
        clv = self._clv.merged()
        self.thresholds = tier_thresholds(clv) if clv.count >= self.min_count else None
        r, f, m = (s.merged() for s in self._rfm)
        if r.count >= self.min_count:
            self.cuts = RfmCuts(
                recency=_quintiles(r), frequency=_quintiles(f), monetary=_quintiles(m)
            )
        else:
            self.cuts = None

    def tier(self, clv: float) -> Tier:
        """Bronze until enough values were seen to place anyone above it."""
        return assign_tier(clv, self.thresholds) if self.thresholds else Tier.BRONZE

    def segment(self, rfm: RfmValues | None) -> str | None:
        """The RFM segment; None without purchases or before the population is known."""
        if rfm is None or self.cuts is None:
            return None
        s = rfm_scores(rfm.recency_days, rfm.frequency, rfm.monetary, self.cuts)
        return rfm_segment(s.r, s.f, s.m).value


def _quintiles(sketch: QuantileSketch) -> tuple[float, float, float, float]:
    a, b, c, d = (sketch.quantile(q) for q in _QUINTILES)
    return (a, b, c, d)
