"""Retail customer lifetime value: BG/NBD purchases × Gamma-Gamma spend, discounted monthly.

As lifetimes' ``GammaGammaFitter.customer_lifetime_value``: for each month ``i = 1..H`` the
expected purchases in that month, ``E[N(i)] - E[N(i - 1)]``, times the expected spend, are
discounted by ``(1 + d) ** i``, where ``d`` is the monthly rate; we derive ``d`` from an annual
rate and multiply by a margin. The interval (`retail_clv_interval`) is about the *estimate*:
how much the CLV moves with the population parameters' sampling error.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._bgnbd import BgNbdFit, BgNbdParams, expected_purchases
from ._gamma_gamma import GammaGammaFit, GammaGammaParams, expected_spend

__all__ = ["ClvInterval", "monthly_discount_rate", "retail_clv", "retail_clv_interval"]

_DELTA_STEP = 1e-4
"""Central-difference step on the log-parameters for the delta method."""
_MAX_LOG_SPREAD = 700.0
"""Caps ``z se / CLV`` below float overflow for CLVs near zero."""


class ClvInterval(NamedTuple):
    """Point estimate and interval bounds, per customer."""

    value: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]


def monthly_discount_rate(annual_rate: float) -> float:
    """The monthly rate compounding to ``annual_rate`` over twelve months.

    >>> round(monthly_discount_rate(0.10), 6)
    0.007974
    """
    if annual_rate <= -1:
        raise ValueError(f"annual_rate must be > -1, got {annual_rate}")
    return float((1 + annual_rate) ** (1 / 12) - 1)


def month_discounts(
    horizon_months: int, annual_rate: float, periods_per_month: float = 30.0
) -> NDArray[np.float64]:
    """The discount factor of each month ``1..horizon_months``, ``(1 + d) ** -i``: the one
    discounting of every retail value (CLV and value if retained); checks the arguments.

    >>> month_discounts(2, 0.10).round(4)
    array([0.9921, 0.9842])
    """
    if horizon_months < 0 or periods_per_month <= 0:
        raise ValueError("horizon_months must be >= 0 and periods_per_month > 0")
    months = np.arange(1, horizon_months + 1, dtype=np.float64)
    return np.asarray((1 + monthly_discount_rate(annual_rate)) ** -months, dtype=np.float64)


def retail_clv(
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    *,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
    periods_per_month: float = 30.0,
) -> NDArray[np.float64]:
    """Discounted value of the customer's purchases over the next ``horizon_months`` months.

    Parameters
    ----------
    bgnbd, gamma_gamma
        Fitted population parameters.
    frequency, recency, T, monetary
        The customers' summaries (`observe`), in the BG/NBD fit's time unit.
    horizon_months
        Number of months summed.
    annual_discount_rate
        Converted to a monthly rate by `monthly_discount_rate`; pass that rate as lifetimes'
        ``discount_rate`` to get the same figures from lifetimes.
    margin
        Share of spend that is profit (1.0: CLV in revenue).
    periods_per_month
        Time units per month: 30 for days, 4.345 for weeks (lifetimes' ``freq`` factors).

    Examples
    --------
    >>> bg = BgNbdParams(r=0.24, alpha=4.4, a=0.79, b=2.4)
    >>> gg = GammaGammaParams(p=6.25, q=3.74, v=15.45)
    >>> clv = retail_clv(bg, gg, [0, 2], [0, 30.43], [38.86, 38.86], [0, 22.35],
    ...                  periods_per_month=4.345)
    >>> clv.round(2)
    array([ 8.37, 36.66])
    >>> retail_clv(bg, gg, 2, 30.43, 38.86, 22.35, periods_per_month=4.345, margin=0.3).round(2)
    array([11.])
    """
    discount = month_discounts(horizon_months, annual_discount_rate, periods_per_month)
    x = np.atleast_1d(np.asarray(frequency, dtype=np.float64))
    spend = expected_spend(gamma_gamma, x, monetary)
    months = np.arange(horizon_months + 1, dtype=np.float64)
    cumulative = expected_purchases(
        bgnbd,
        (months * periods_per_month)[:, None],
        x[None, :],
        np.atleast_1d(np.asarray(recency, dtype=np.float64))[None, :],
        np.atleast_1d(np.asarray(T, dtype=np.float64))[None, :],
    )
    per_month = np.diff(cumulative, axis=0)
    return np.asarray(margin * spend * (discount @ per_month), dtype=np.float64)


def retail_clv_interval(
    bgnbd: BgNbdFit,
    gamma_gamma: GammaGammaFit,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    *,
    level: float = 0.90,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
    periods_per_month: float = 30.0,
) -> ClvInterval:
    """`retail_clv` with a ``level`` interval for the *expected* CLV (parameter uncertainty).

    **What the interval means**: the range the CLV estimate would span if the population
    parameters were re-estimated from another sample of the same size; it comes from their
    asymptotic covariance (inverse Hessian of the log-likelihood, BG/NBD and Gamma-Gamma taken
    as independent, as the model assumes) by the delta method on ``log CLV`` (so it is
    asymmetric and stays positive; on the linear scale where CLV <= 0). It is **not** a
    prediction interval for what this customer will actually spend, which is much wider
    (Poisson purchase timing, dropout, spend variance). It narrows as the fitted population
    grows; the model itself is assumed right.

    Examples
    --------
    >>> from churnwatch.value import fit_bgnbd, fit_gamma_gamma
    >>> x, tx, age, m = [0, 1, 2, 0, 3, 1], [0, 5, 9, 0, 20, 2], [30, 25, 30, 10, 28, 6], [
    ...     0, 20.0, 35.5, 0, 18.0, 60.0]
    >>> bg, gg = fit_bgnbd(x, tx, age, penalizer=0.01), fit_gamma_gamma(x, m, penalizer=0.01)
    >>> out = retail_clv_interval(bg, gg, 1, 5, 25, 20.0)
    >>> [round(float(v[0]), 1) for v in out]  # six customers: a very wide interval
    [29.6, 0.9, 926.5]
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    theta = np.log(np.concatenate([bgnbd.params.as_array(), _gg_array(gamma_gamma.params)]))

    def clv_at(log_params: NDArray[np.float64]) -> NDArray[np.float64]:
        bg = BgNbdParams(*(float(v) for v in np.exp(log_params[:4])))
        gg = GammaGammaParams(*(float(v) for v in np.exp(log_params[4:])))
        return retail_clv(
            bg,
            gg,
            frequency,
            recency,
            T,
            monetary,
            horizon_months=horizon_months,
            annual_discount_rate=annual_discount_rate,
            margin=margin,
            periods_per_month=periods_per_month,
        )

    value = clv_at(theta)
    jacobian = np.empty((theta.size, value.size))
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = _DELTA_STEP
        jacobian[j] = (clv_at(theta + step) - clv_at(theta - step)) / (2 * _DELTA_STEP)
    covariance = np.zeros((7, 7))
    covariance[:4, :4] = bgnbd.log_cov
    covariance[4:, 4:] = gamma_gamma.log_cov
    se = np.sqrt(np.maximum(np.einsum("in,ij,jn->n", jacobian, covariance, jacobian), 0.0))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    positive = value > 0
    log_spread = np.minimum(z * se / np.where(positive, value, 1.0), _MAX_LOG_SPREAD)
    spread = np.where(positive, np.exp(log_spread), 1.0)
    low = np.where(positive, value / spread, value - z * se)
    high = np.where(positive, value * spread, value + z * se)
    return ClvInterval(value, low, high)


def _gg_array(params: GammaGammaParams) -> NDArray[np.float64]:
    return np.array([params.p, params.q, params.v])
