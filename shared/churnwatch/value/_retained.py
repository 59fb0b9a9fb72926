"""Value if retained: what a customer is worth over the horizon if they do *not* churn in it.

CLV (kpis.md) is an expectation that already prices the churn risk in: a subscriber at a high
churn hazard has a small CLV, and retail BG/NBD weighs future purchases by P(alive). That is the
right figure for a forecast, and the wrong one for deciding whom to save: ranked by CLV, the
customers most at risk sink to the bottom tier by construction, and ``P(churn) × CLV`` counts the
risk twice (it peaks at P = 0.5 and falls towards zero as a customer becomes certain to leave).

The value if retained is the same horizon, discount and margin as the CLV with the dropout taken
out: the value *at stake*. Tiers and value at risk use it by default (docs/scoring.md, "Value
basis"); the CLV stays on every score for finance.

- **Retail**: while alive, BG/NBD purchases follow a Poisson process whose rate has the posterior
  Gamma(r + x, α + T) given the history (x repeat purchases by age T), so the expected purchases
  per period are ``(r + x) / (α + T)``; times the Gamma-Gamma expected spend, discounted monthly
  exactly like `retail_clv`.
- **Subscription**: the recurring revenue for every renewal in the horizon, i.e.
  `subscription_clv` at zero hazard.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._bgnbd import BgNbdParams
from ._clv import month_discounts
from ._gamma_gamma import GammaGammaParams, expected_spend
from ._subscription import subscription_clv

__all__ = ["retail_retained_value", "subscription_retained_value"]


def retail_retained_value(
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    frequency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
    periods_per_month: float = 30.0,
) -> NDArray[np.float64]:
    """Discounted value of the purchases over ``horizon_months`` if the customer stays alive.

    Always at least `retail_clv` for the same inputs (which also lets the customer drop out),
    and it does not fall as the customer goes quiet *because of* the silence alone: the rate
    only thins with age as ``1 / (α + T)``, the way the BG/NBD posterior does.

    Examples
    --------
    >>> bg = BgNbdParams(r=0.24, alpha=4.4, a=0.79, b=2.4)
    >>> gg = GammaGammaParams(p=6.25, q=3.74, v=15.45)
    >>> v = retail_retained_value(bg, gg, [0, 2, 2], [38.86] * 3, [0, 22.35, 22.35],
    ...                           periods_per_month=4.345)
    >>> v.round(2)
    array([ 9.68, 63.27, 63.27])
    >>> from churnwatch.value import retail_clv
    >>> clv = retail_clv(bg, gg, [2, 2], [30.43, 5.0], [38.86] * 2, [22.35] * 2,
    ...                  periods_per_month=4.345)
    >>> bool(np.all(clv <= v[1:])), clv.round(2)
    (True, array([36.66,  6.24]))
    """
    discount = month_discounts(horizon_months, annual_discount_rate, periods_per_month)
    x = np.atleast_1d(np.asarray(frequency, dtype=np.float64))
    age = np.atleast_1d(np.asarray(T, dtype=np.float64))
    rate = (bgnbd.r + x) / (bgnbd.alpha + age)  # purchases per time unit, while alive
    spend = expected_spend(gamma_gamma, x, monetary)
    annuity = float(discount.sum())
    return np.asarray(margin * spend * rate * periods_per_month * annuity, dtype=np.float64)


def subscription_retained_value(
    recurring_revenue: float,
    *,
    margin: float = 1.0,
    period_months: float = 1.0,
    horizon_months: float | None = 12.0,
    annual_discount_rate: float = 0.10,
) -> float:
    """Margin × recurring revenue for each renewal in the horizon, discounted: no churn.

    >>> round(subscription_retained_value(50.0), 2)
    570.02
    >>> from churnwatch.value import subscription_clv
    >>> subscription_clv(50.0, 0.0) == subscription_retained_value(50.0)
    True
    """
    return subscription_clv(
        recurring_revenue,
        0.0,
        margin=margin,
        period_months=period_months,
        horizon_months=horizon_months,
        annual_discount_rate=annual_discount_rate,
    )
