"""Value if retained: bounds and invariances that make it the right basis for tiers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnwatch.value import (
    BgNbdParams,
    GammaGammaParams,
    retail_clv,
    retail_retained_value,
    subscription_clv,
    subscription_retained_value,
)

BG = BgNbdParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426)  # CDNOW, in days
GG = GammaGammaParams(p=6.25, q=3.74, v=15.45)


@settings(max_examples=200, deadline=None)
@given(
    x=st.integers(0, 60),
    recency_share=st.floats(0, 1),
    age=st.floats(1, 2_000),
    spend=st.floats(1, 500),
)
def test_never_below_the_clv(x: int, recency_share: float, age: float, spend: float) -> None:
    recency = 0.0 if x == 0 else recency_share * age
    monetary = 0.0 if x == 0 else spend
    clv = retail_clv(BG, GG, x, recency, age, monetary)
    kept = retail_retained_value(BG, GG, x, age, monetary)
    assert kept[0] >= clv[0] * (1 - 1e-9)


def test_silence_lowers_the_clv_but_not_the_value_if_retained() -> None:
    recency = np.array([350.0, 200.0, 20.0])  # last purchase long ago for the last one
    clv = retail_clv(BG, GG, [5, 5, 5], recency, [365.0] * 3, [40.0] * 3)
    kept = retail_retained_value(BG, GG, [5, 5, 5], [365.0] * 3, [40.0] * 3)
    assert clv[0] > clv[1] > clv[2]
    assert kept[0] == kept[1] == kept[2]


def test_more_purchases_at_the_same_age_are_worth_more() -> None:
    kept = retail_retained_value(BG, GG, [1, 4, 16], [300.0] * 3, [30.0] * 3)
    assert kept[0] < kept[1] < kept[2]


def test_margin_scales_and_a_zero_horizon_is_worth_nothing() -> None:
    full = retail_retained_value(BG, GG, 3, 200.0, 50.0)
    assert retail_retained_value(BG, GG, 3, 200.0, 50.0, margin=0.25)[0] == pytest.approx(
        full[0] / 4
    )
    assert retail_retained_value(BG, GG, 3, 200.0, 50.0, horizon_months=0)[0] == 0.0
    assert subscription_retained_value(50.0, horizon_months=0) == 0.0


@pytest.mark.parametrize("hazard", [0.01, 0.1, 0.5, 0.9])
def test_subscription_value_if_retained_bounds_its_clv(hazard: float) -> None:
    assert subscription_retained_value(80.0) > subscription_clv(80.0, hazard)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="horizon_months"):
        retail_retained_value(BG, GG, 1, 10.0, 10.0, horizon_months=-1)
    with pytest.raises(ValueError, match="periods_per_month"):
        retail_retained_value(BG, GG, 1, 10.0, 10.0, periods_per_month=0)
