"""Tiers from the sketch vs tiers from exact quantiles; value at risk."""

from __future__ import annotations

import numpy as np
import pytest

from churnwatch.value import (
    QuantileSketch,
    Tier,
    TierCuts,
    TierThresholds,
    assign_tier,
    tier_for_rank,
    tier_thresholds,
    value_at_risk,
)

ORDER = [Tier.BRONZE, Tier.SILVER, Tier.GOLD, Tier.PLATINUM]


def exact_tiers(values: np.ndarray, cuts: TierCuts) -> list[Tier]:
    thresholds = TierThresholds(
        *(float(np.quantile(values, 1 - top, method="lower")) for top in cuts.cumulative())
    )
    return [assign_tier(float(v), thresholds) for v in values]


def sketch_tiers(values: np.ndarray, cuts: TierCuts, alpha: float) -> list[Tier]:
    sketch = QuantileSketch(relative_accuracy=alpha)
    for value in values:
        sketch.add(float(value))
    thresholds = tier_thresholds(sketch, cuts)
    return [assign_tier(float(v), thresholds) for v in values]


@pytest.mark.parametrize("cuts", [TierCuts(), TierCuts(platinum=0.01, gold=0.09, silver=0.4)])
def test_exact_shares_on_distinct_values(cuts) -> None:
    values = np.random.default_rng(2).permutation(np.arange(1.0, 2001.0))
    tiers = sketch_tiers(values, cuts, alpha=0.0001)  # γ - 1 below the values' spacing
    shares = {tier: tiers.count(tier) / len(tiers) for tier in Tier}
    expected = [cuts.platinum, cuts.gold, cuts.silver, 1 - sum(cuts.cumulative()[2:])]
    assert [shares[t] for t in Tier] == pytest.approx(expected, abs=1 / 2000)


@pytest.mark.parametrize("alpha", [0.01, 0.05])
def test_sketch_tiers_differ_only_by_demotion_near_a_boundary(alpha) -> None:
    """The documented error: a customer within a factor γ above a threshold may be one lower."""
    rng = np.random.default_rng(4)
    values = np.concatenate([np.zeros(3000), rng.lognormal(4, 1.5, 17_000)])
    cuts = TierCuts()
    exact, approx = exact_tiers(values, cuts), sketch_tiers(values, cuts, alpha)
    gamma = (1 + alpha) / (1 - alpha)
    thresholds = [float(np.quantile(values, 1 - top, method="lower")) for top in cuts.cumulative()]
    wrong = [i for i, (e, a) in enumerate(zip(exact, approx, strict=True)) if e != a]
    for i in wrong:
        assert ORDER.index(exact[i]) - ORDER.index(approx[i]) == 1
        assert any(t < values[i] <= gamma * t for t in thresholds)
    assert len(wrong) < 0.05 * len(values)


def test_ties_at_a_threshold_stay_together_in_the_lower_tier() -> None:
    """60% share one CLV, the silver threshold: all of them stay bronze, as with exact ranks."""
    values = np.concatenate([np.full(6000, 12.5), np.linspace(100, 200, 4000)])
    exact, approx = exact_tiers(values, TierCuts()), sketch_tiers(values, TierCuts(), 0.01)
    assert set(exact[:6000]) == set(approx[:6000]) == {Tier.BRONZE}


def test_tier_for_rank_matches_the_cut_points() -> None:
    cuts = TierCuts()
    assert tier_for_rank(1.0, cuts) is Tier.PLATINUM
    assert tier_for_rank(0.951, cuts) is Tier.PLATINUM
    assert tier_for_rank(0.95, cuts) is Tier.GOLD
    assert tier_for_rank(0.80, cuts) is Tier.SILVER
    assert tier_for_rank(0.5, cuts) is Tier.BRONZE
    assert tier_for_rank(0.001, TierCuts(platinum=1.0, gold=0.0, silver=0.0)) is Tier.PLATINUM
    with pytest.raises(ValueError, match="rank"):
        tier_for_rank(1.2)


@pytest.mark.parametrize(
    "shares", [(0.5, 0.5, 0.5), (-0.1, 0.1, 0.1), (1.5, 0.0, 0.0)], ids=["sum", "neg", "big"]
)
def test_bad_cuts_are_refused(shares) -> None:
    with pytest.raises(ValueError, match="tier shares"):
        TierCuts(*shares)


def test_value_at_risk() -> None:
    assert value_at_risk(0.0, 900.0) == 0.0
    assert value_at_risk(1.0, 900.0) == 900.0
    assert value_at_risk(0.3, 200.0) == pytest.approx(0.3 * 200.0)
    with pytest.raises(ValueError, match="p_churn"):
        value_at_risk(1.01, 10.0)
