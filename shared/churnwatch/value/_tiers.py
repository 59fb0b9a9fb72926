"""Value tiers by value percentile among live customers, and value at risk.

Platinum / gold / silver / bronze are the top 5% / next 15% / next 30% / rest of the live
population by value (docs kpis.md), with configurable shares. Which value is the caller's
choice; the scoring worker ranks by the value if retained (`_retained`), not the risk-discounted
CLV, so that being at risk does not by itself make a customer bronze. A scoring worker keeps the
population's CLVs in a `QuantileSketch`, turns it into `TierThresholds` when the sketch is
refreshed (three quantiles), and places each customer with `assign_tier` in constant time.
The sketch's relative accuracy α bounds the error: only customers whose CLV is within a factor
``γ = (1 + α) / (1 - α)`` above a tier boundary can land one tier lower (`tier_thresholds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ._sketch import QuantileSketch

__all__ = [
    "Tier",
    "TierCuts",
    "TierThresholds",
    "assign_tier",
    "tier_for_rank",
    "tier_thresholds",
    "value_at_risk",
]


class Tier(StrEnum):
    """Value tiers, most valuable first."""

    PLATINUM = "platinum"
    GOLD = "gold"
    SILVER = "silver"
    BRONZE = "bronze"


@dataclass(frozen=True, slots=True)
class TierCuts:
    """Shares of the population in each tier from the top; bronze takes the rest.

    >>> TierCuts().cumulative()
    (0.05, 0.2, 0.5)
    """

    platinum: float = 0.05
    gold: float = 0.15
    silver: float = 0.30

    def __post_init__(self) -> None:
        shares = (self.platinum, self.gold, self.silver)
        if any(not 0 <= s <= 1 for s in shares) or sum(shares) > 1 + 1e-12:
            raise ValueError(f"tier shares must be in [0, 1] and sum to <= 1, got {shares}")

    def cumulative(self) -> tuple[float, float, float]:
        """Top shares at the lower edge of platinum, gold and silver."""
        gold = self.platinum + self.gold
        return (self.platinum, round(gold, 12), round(gold + self.silver, 12))


@dataclass(frozen=True, slots=True)
class TierThresholds:
    """A customer is in a tier when their CLV is strictly above its threshold."""

    platinum: float
    gold: float
    silver: float


def tier_thresholds(sketch: QuantileSketch, cuts: TierCuts | None = None) -> TierThresholds:
    """Tier thresholds from the population's CLV sketch: its ``1 - top share`` quantiles.

    Each threshold is `QuantileSketch.upper_quantile`, at or above the exact quantile ``v``
    and below ``γ v``: customers tied with the quantile stay in the lower tier, as with exact
    quantiles, and the sketch's only error is to leave customers with a CLV in ``(v, γ v)``
    one tier lower (γ ≈ 1 + 2α; 1.02 at the default α = 1%).

    Examples
    --------
    >>> sketch = QuantileSketch(relative_accuracy=0.001)
    >>> for clv in range(1, 101):
    ...     sketch.add(float(clv))
    >>> thresholds = tier_thresholds(sketch)
    >>> [assign_tier(float(clv), thresholds).value for clv in (96, 95, 81, 80, 51, 50)]
    ['platinum', 'gold', 'gold', 'silver', 'silver', 'bronze']
    """
    top_platinum, top_gold, top_silver = (cuts or TierCuts()).cumulative()
    return TierThresholds(
        platinum=sketch.upper_quantile(1 - top_platinum),
        gold=sketch.upper_quantile(1 - top_gold),
        silver=sketch.upper_quantile(1 - top_silver),
    )


def assign_tier(clv: float, thresholds: TierThresholds) -> Tier:
    """The tier of a customer with this CLV (ties at a threshold go to the lower tier).

    >>> assign_tier(120.0, TierThresholds(platinum=500.0, gold=100.0, silver=20.0))
    <Tier.GOLD: 'gold'>
    """
    if clv > thresholds.platinum:
        return Tier.PLATINUM
    if clv > thresholds.gold:
        return Tier.GOLD
    if clv > thresholds.silver:
        return Tier.SILVER
    return Tier.BRONZE


def tier_for_rank(rank: float, cuts: TierCuts | None = None) -> Tier:
    """The tier from a percentile rank (share of the population with CLV ``<=`` the customer's).

    >>> tier_for_rank(0.97), tier_for_rank(0.95), tier_for_rank(0.5)
    (<Tier.PLATINUM: 'platinum'>, <Tier.GOLD: 'gold'>, <Tier.BRONZE: 'bronze'>)
    """
    if not 0 <= rank <= 1:
        raise ValueError(f"rank must be in [0, 1], got {rank}")
    top_platinum, top_gold, top_silver = (cuts or TierCuts()).cumulative()
    above = 1 - rank
    if above < top_platinum - 1e-12:
        return Tier.PLATINUM
    if above < top_gold - 1e-12:
        return Tier.GOLD
    if above < top_silver - 1e-12:
        return Tier.SILVER
    return Tier.BRONZE


def value_at_risk(p_churn: float, clv: float) -> float:
    """Churn probability × value: the value expected to be lost (summed over customers in view).

    Pass the value *if retained* (`retail_retained_value`), not a CLV that already discounts
    the same churn risk, or the risk is counted twice; the scoring worker does (docs/scoring.md).

    >>> value_at_risk(0.25, 400.0)
    100.0
    """
    if not 0 <= p_churn <= 1:
        raise ValueError(f"p_churn must be in [0, 1], got {p_churn}")
    return p_churn * clv
