"""Subscription (contractual) customer lifetime value from a per-period churn hazard.

A subscriber who is active now renews at the end of each billing period with probability
``1 - h`` (constant hazard ``h``, so survival is geometric: ``S(k) = (1 - h) ** k``). The
revenue of the current period is already earned; each future renewal ``k`` brings the
recurring revenue if the customer survives ``k`` periods, discounted by ``(1 + d) ** k`` with
``d`` the per-period rate. Over ``n`` periods, with ``x = (1 - h) / (1 + d)``::

    CLV = margin × revenue × (x + x² + … + xⁿ) = margin × revenue × x (1 - xⁿ) / (1 - x)

and without a horizon ``margin × revenue × (1 - h) / (h + d)``.
"""

from __future__ import annotations

import math

__all__ = ["expected_remaining_periods", "hazard_from_probability", "subscription_clv"]


def expected_remaining_periods(
    churn_hazard: float, *, periods: int | None, discount_per_period: float = 0.0
) -> float:
    """Expected discounted number of future paid periods, ``Σ_{k=1..n} S(k) / (1 + d)^k``.

    Parameters
    ----------
    churn_hazard
        Probability of churning before each renewal, in ``[0, 1]``.
    periods
        Number of future renewals counted; ``None`` for no horizon.
    discount_per_period
        Discount rate per billing period (``0``: the plain expected remaining lifetime).

    Examples
    --------
    Without discounting, a 10% monthly churn means ``(1 - h) / h = 9`` more months on average:

    >>> round(expected_remaining_periods(0.1, periods=None), 9)
    9.0
    >>> expected_remaining_periods(0.0, periods=12)
    12.0
    """
    _check_probability(churn_hazard, "churn_hazard")
    if discount_per_period <= -1:
        raise ValueError(f"discount_per_period must be > -1, got {discount_per_period}")
    if periods is not None and periods < 0:
        raise ValueError(f"periods must be >= 0 or None, got {periods}")
    x = (1 - churn_hazard) / (1 + discount_per_period)
    if periods is None:
        if x >= 1:
            raise ValueError("no churn and no discounting: the value has no finite horizon")
        return x / (1 - x)
    if x == 1:
        return float(periods)
    return x * (1 - x**periods) / (1 - x)


def subscription_clv(
    recurring_revenue: float,
    churn_hazard: float,
    *,
    margin: float = 1.0,
    period_months: float = 1.0,
    horizon_months: float | None = 12.0,
    annual_discount_rate: float = 0.10,
) -> float:
    """Margin × recurring revenue per period × expected remaining discounted periods.

    Parameters
    ----------
    recurring_revenue
        Revenue per billing period (after discounts, before margin).
    churn_hazard
        Probability of churning before each renewal (per billing period).
    margin
        Share of revenue that is profit.
    period_months
        Length of the billing period (1: monthly, 12: annual plan).
    horizon_months
        Only renewals within this many months count (``None``: no horizon).
    annual_discount_rate
        Converted to the billing period's rate, ``(1 + a) ** (period_months / 12) - 1``.

    Examples
    --------
    A 50/month plan with a 5% monthly churn hazard, over 12 months at 10% a year:

    >>> round(subscription_clv(50.0, 0.05), 2)
    416.85
    >>> round(subscription_clv(50.0, 0.05, margin=0.8, horizon_months=None), 2)
    655.46
    >>> subscription_clv(600.0, 0.2, period_months=12, annual_discount_rate=0.0)
    480.0
    """
    if period_months <= 0:
        raise ValueError(f"period_months must be > 0, got {period_months}")
    if annual_discount_rate <= -1:
        raise ValueError(f"annual_discount_rate must be > -1, got {annual_discount_rate}")
    periods = None
    if horizon_months is not None:
        if horizon_months < 0:
            raise ValueError(f"horizon_months must be >= 0, got {horizon_months}")
        periods = math.floor(horizon_months / period_months + 1e-9)
    rate = (1 + annual_discount_rate) ** (period_months / 12) - 1
    remaining = expected_remaining_periods(churn_hazard, periods=periods, discount_per_period=rate)
    return margin * recurring_revenue * remaining


def hazard_from_probability(p_churn: float, *, window_days: float, period_days: float) -> float:
    """Per-period hazard equivalent to churning with probability ``p_churn`` within a window.

    Turns the churn model's "probability of churning within 30 days" into the per-billing-
    period hazard above, assuming a constant hazard: ``1 - (1 - p) ** (period / window)``.

    Examples
    --------
    >>> round(hazard_from_probability(0.19, window_days=60, period_days=30), 6)
    0.1
    """
    _check_probability(p_churn, "p_churn")
    if window_days <= 0 or period_days <= 0:
        raise ValueError("window_days and period_days must be > 0")
    return float(1 - (1 - p_churn) ** (period_days / window_days))


def _check_probability(value: float, name: str) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
