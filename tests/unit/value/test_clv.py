"""Retail CLV against lifetimes on CDNOW; what its interval means (delta vs bootstrap)."""

from __future__ import annotations

import numpy as np
import pytest

from churnwatch.value import (
    BgNbdFit,
    BgNbdParams,
    GammaGammaFit,
    GammaGammaParams,
    expected_purchases,
    expected_spend,
    monthly_discount_rate,
    retail_clv,
    retail_clv_interval,
)

from .cdnow import WEEKS_PER_MONTH, churnwatch_fits, lifetimes_fits, load_summary, quiet_lifetimes


@pytest.fixture(scope="module")
def summary():
    return load_summary()


def lifetimes_clv(summary, months: int, monthly_rate: float) -> np.ndarray:
    bgf, ggf = lifetimes_fits()
    frame = summary.frame
    with quiet_lifetimes():
        clv = ggf.customer_lifetime_value(
            bgf,
            frame["frequency"],
            frame["recency"],
            frame["T"],
            frame["monetary_value"],
            time=months,
            discount_rate=monthly_rate,
            freq="W",
        )
    return np.asarray(clv.to_numpy(), dtype=np.float64)


@pytest.mark.parametrize(("months", "annual_rate"), [(12, 0.10), (24, 0.0), (6, 0.25)])
def test_clv_equals_lifetimes_on_every_customer(summary, months, annual_rate) -> None:
    theirs = lifetimes_clv(summary, months, monthly_discount_rate(annual_rate))
    bgf, ggf = lifetimes_fits()
    data = (summary.frequency, summary.recency, summary.T, summary.monetary)
    options = {"horizon_months": months, "annual_discount_rate": annual_rate}
    same = retail_clv(
        BgNbdParams(*bgf.params_.to_numpy()),
        GammaGammaParams(*ggf.params_.to_numpy()),
        *data,
        periods_per_month=WEEKS_PER_MONTH,
        **options,
    )
    np.testing.assert_allclose(same, theirs, rtol=1e-10)
    bg, gg = churnwatch_fits()
    own = retail_clv(bg.params, gg.params, *data, periods_per_month=WEEKS_PER_MONTH, **options)
    np.testing.assert_allclose(own, theirs, rtol=1e-5)
    assert (own > 0).all()


def test_monthly_rate_compounds_to_the_annual_rate() -> None:
    for annual in (0.0, 0.1, 0.35):
        assert (1 + monthly_discount_rate(annual)) ** 12 == pytest.approx(1 + annual, rel=1e-12)
    with pytest.raises(ValueError, match="annual_rate"):
        monthly_discount_rate(-1.0)


def test_undiscounted_clv_is_expected_purchases_times_expected_spend(summary) -> None:
    bg, gg = churnwatch_fits()[0].params, churnwatch_fits()[1].params
    data = (summary.frequency, summary.recency, summary.T)
    clv = retail_clv(
        bg, gg, *data, summary.monetary, annual_discount_rate=0.0, periods_per_month=7.0, margin=0.4
    )
    purchases = expected_purchases(bg, 12 * 7.0, *data)
    spend = expected_spend(gg, summary.frequency, summary.monetary)
    np.testing.assert_allclose(clv, 0.4 * purchases * spend, rtol=1e-10)
    zero = retail_clv(bg, gg, *data, summary.monetary, horizon_months=0)
    assert (zero == 0).all()


def test_interval_brackets_the_value_and_widens_with_the_level(summary) -> None:
    bg, gg = churnwatch_fits()
    data = (summary.frequency, summary.recency, summary.T, summary.monetary)
    narrow = retail_clv_interval(bg, gg, *data, level=0.5, periods_per_month=WEEKS_PER_MONTH)
    wide = retail_clv_interval(bg, gg, *data, level=0.95, periods_per_month=WEEKS_PER_MONTH)
    own = retail_clv(bg.params, gg.params, *data, periods_per_month=WEEKS_PER_MONTH)
    np.testing.assert_array_equal(narrow.value, own)
    assert ((wide.low < narrow.low) & (narrow.low < own) & (own < narrow.high)).all()
    assert (narrow.high < wide.high).all()
    with pytest.raises(ValueError, match="level"):
        retail_clv_interval(bg, gg, *data, level=1.0)


def test_interval_agrees_with_a_parametric_bootstrap(summary) -> None:
    """Delta method vs 2,000 draws of the parameters from their asymptotic distribution."""
    bg, gg = churnwatch_fits()
    pick = np.arange(0, summary.T.size, 47)
    data = (summary.frequency[pick], summary.recency[pick], summary.T[pick], summary.monetary[pick])
    delta = retail_clv_interval(bg, gg, *data, level=0.9, periods_per_month=WEEKS_PER_MONTH)
    theta = np.log([*bg.params.as_array(), gg.params.p, gg.params.q, gg.params.v])
    covariance = np.zeros((7, 7))
    covariance[:4, :4], covariance[4:, 4:] = bg.log_cov, gg.log_cov
    draws = np.exp(np.random.default_rng(7).multivariate_normal(theta, covariance, size=2000))
    values = np.array(
        [
            retail_clv(
                BgNbdParams(*d[:4]),
                GammaGammaParams(*d[4:]),
                *data,
                periods_per_month=WEEKS_PER_MONTH,
            )
            for d in draws
        ]
    )
    low, high = np.percentile(values, [5, 95], axis=0)
    assert np.abs(np.log(delta.low / low)).max() < 0.06
    assert np.abs(np.log(delta.high / high)).max() < 0.06


def test_interval_narrows_as_the_population_grows(summary) -> None:
    """Four times the customers: same estimates, half the log-width of the interval."""
    bg, gg = churnwatch_fits()
    data = (summary.frequency[:50], summary.recency[:50], summary.T[:50], summary.monetary[:50])
    bigger_bg = BgNbdFit(bg.params, tuple(tuple(c / 4 for c in r) for r in bg.log_cov), 4 * bg.n, 0)
    bigger_gg = GammaGammaFit(
        gg.params, tuple(tuple(c / 4 for c in r) for r in gg.log_cov), 4 * gg.n, 0
    )
    small = retail_clv_interval(bg, gg, *data)
    big = retail_clv_interval(bigger_bg, bigger_gg, *data)
    ratio = np.log(big.high / big.low) / np.log(small.high / small.low)
    np.testing.assert_allclose(ratio, 0.5, rtol=1e-6)
