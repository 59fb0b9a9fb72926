"""Subscription CLV: closed form vs the sum it stands for, and vs simulated lifetimes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from churnwatch.value import (
    expected_remaining_periods,
    hazard_from_probability,
    subscription_clv,
)


def brute_force(hazard: float, periods: int, rate: float) -> float:
    return sum((1 - hazard) ** k / (1 + rate) ** k for k in range(1, periods + 1))


@pytest.mark.parametrize("hazard", [0.0, 0.01, 0.05, 0.3, 1.0])
@pytest.mark.parametrize("periods", [0, 1, 12, 60])
@pytest.mark.parametrize("rate", [0.0, 0.008, 0.1])
def test_closed_form_is_the_discounted_survival_sum(hazard, periods, rate) -> None:
    got = expected_remaining_periods(hazard, periods=periods, discount_per_period=rate)
    assert got == pytest.approx(brute_force(hazard, periods, rate), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("hazard", "rate"), [(0.05, 0.0), (0.0, 0.01), (0.2, 0.05)])
def test_no_horizon_is_the_limit_of_long_horizons(hazard, rate) -> None:
    limit = expected_remaining_periods(hazard, periods=None, discount_per_period=rate)
    assert limit == pytest.approx(brute_force(hazard, 5000, rate), rel=1e-9)
    assert limit == pytest.approx((1 - hazard) / (hazard + rate), rel=1e-12)


def test_matches_simulated_geometric_lifetimes() -> None:
    """Renewals survived (capped at the horizon) by simulated subscribers, hazard 8%/month."""
    hazard, horizon = 0.08, 12
    lifetimes = np.random.default_rng(3).geometric(hazard, size=400_000) - 1
    simulated = float(np.minimum(lifetimes, horizon).mean())
    assert simulated == pytest.approx(expected_remaining_periods(hazard, periods=horizon), rel=0.01)


def test_subscription_clv_scales_and_uses_the_billing_period() -> None:
    base = subscription_clv(50.0, 0.05)
    assert subscription_clv(100.0, 0.05, margin=0.5) == pytest.approx(base)
    monthly_rate = 1.1 ** (1 / 12) - 1
    assert base == pytest.approx(50.0 * brute_force(0.05, 12, monthly_rate), rel=1e-12)
    # an annual plan renews once within 12 months, three times within 36
    assert subscription_clv(600.0, 0.2, period_months=12) == pytest.approx(600 * 0.8 / 1.1)
    three = subscription_clv(600.0, 0.2, period_months=12, horizon_months=36)
    assert three == pytest.approx(600 * brute_force(0.2, 3, 0.1), rel=1e-12)
    # lower churn, longer horizon, less discounting: more value
    assert subscription_clv(50.0, 0.02) > base
    assert subscription_clv(50.0, 0.05, horizon_months=24) > base
    assert subscription_clv(50.0, 0.05, annual_discount_rate=0.0) > base
    assert subscription_clv(50.0, 1.0) == 0.0


def test_hazard_from_probability_round_trips() -> None:
    for p in (0.0, 0.1, 0.5, 0.99):
        h = hazard_from_probability(p, window_days=30, period_days=7)
        assert 1 - (1 - h) ** (30 / 7) == pytest.approx(p, abs=1e-12)
    assert hazard_from_probability(0.3, window_days=30, period_days=30) == pytest.approx(0.3)


@pytest.mark.parametrize(
    "call",
    [
        lambda: expected_remaining_periods(1.5, periods=3),
        lambda: expected_remaining_periods(0.1, periods=-1),
        lambda: expected_remaining_periods(0.0, periods=None),
        lambda: expected_remaining_periods(0.1, periods=3, discount_per_period=-1),
        lambda: subscription_clv(10.0, 0.1, period_months=0),
        lambda: subscription_clv(10.0, 0.1, horizon_months=-1),
        lambda: subscription_clv(10.0, 0.1, annual_discount_rate=-2),
        lambda: hazard_from_probability(0.1, window_days=0, period_days=30),
        lambda: hazard_from_probability(math.nan, window_days=30, period_days=30),
    ],
)
def test_bad_arguments_are_refused(call) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case names its own argument
        call()
