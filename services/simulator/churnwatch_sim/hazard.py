"""The planted hazard model: a daily churn rate per cause, and what follows from it.

Each customer alive on day ``t`` has one continuous-time rate per cause ``k`` (per day)::

    baseline     mu_i                                   (Pareto/NBD dropout rate)
    engagement   b_eng * (1 - e_i(t)) ** power          (e = sigmoid of the drifting logit)
    complaint    b_c * (0.25 + s_serv) * open * (1 + 0.5 * escalated)
    payment      b_p * max(failures - 1, 0)             (consecutive failed attempts)
    price        b_pr * s_price**2 * (pct / 0.1) * exp(-(t - t_inc) / tau)   for t >= t_inc
    competitor   b_co * (0.3 + s_price) * [t < shock_until]   (unobserved offer)

The total ``L = m * sum_k rate_k`` (``m`` is a treatment multiplier, 1 unless an action is in
force); the customer churns that day with probability ``1 - exp(-L)`` and the cause is drawn with
probability ``rate_k / sum_k rate_k``. All functions work on scalars and numpy arrays alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from churnwatch_sim.config import SimConfig

__all__ = [
    "CAUSES",
    "Exposure",
    "churn_probability",
    "competitor_hazard",
    "complaint_hazard",
    "draw_causes",
    "engagement",
    "engagement_hazard",
    "integrated_hazard",
    "payment_hazard",
    "price_hazard",
    "remaining_value",
    "weighted_exposure",
]

CAUSES = ("baseline", "engagement", "complaint", "payment", "price", "competitor")

F = NDArray[np.float64]


def engagement(logit: ArrayLike) -> F:
    """Engagement in (0, 1) from its logit.

    >>> float(engagement(0.0))
    0.5
    """
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(logit, dtype=np.float64))))


def engagement_hazard(logit: ArrayLike, b: float, power: float) -> F:
    """Fading engagement: ``b * (1 - e) ** power``.

    >>> round(float(engagement_hazard(0.0, 0.008, 4.0)), 6)
    0.0005
    """
    return np.asarray(b * (1.0 - engagement(logit)) ** power)


def complaint_hazard(open_state: ArrayLike, service_sens: ArrayLike, b: float) -> F:
    """Unresolved complaints: state 0 none, 1 open, 2 escalated.

    >>> complaint_hazard([0, 1, 2], 0.75, 0.01).round(4).tolist()
    [0.0, 0.01, 0.015]
    """
    state = np.asarray(open_state, dtype=np.float64)
    factor = (state > 0) * (1.0 + 0.5 * (state == 2))
    return np.asarray(b * (0.25 + np.asarray(service_sens, dtype=np.float64)) * factor)


def payment_hazard(failures: ArrayLike, b: float) -> F:
    """Repeated payment failures: nothing after one failure, then ``b`` per further failure.

    >>> payment_hazard([0, 1, 2, 3], 0.03).round(2).tolist()
    [0.0, 0.0, 0.03, 0.06]
    """
    return np.asarray(b * np.maximum(np.asarray(failures, dtype=np.float64) - 1.0, 0.0))


def price_hazard(
    price_sens: ArrayLike, days_since: ArrayLike, pct: float, b: float, tau: float
) -> F:
    """A price increase ``days_since`` days ago (negative: not yet) for price-sensitive customers.

    >>> price_hazard(0.5, [-1, 0, 45], 0.1, 0.006, 45.0).round(6).tolist()
    [0.0, 0.0015, 0.000552]
    """
    age = np.asarray(days_since, dtype=np.float64)
    s = np.asarray(price_sens, dtype=np.float64)
    return np.asarray(np.where(age >= 0, b * s**2 * (pct / 0.1) * np.exp(-np.abs(age) / tau), 0.0))


def competitor_hazard(price_sens: ArrayLike, shocked: ArrayLike, b: float) -> F:
    """An unobserved competitor offer in force (``shocked``).

    >>> competitor_hazard([0.2, 0.2], [True, False], 0.01).round(4).tolist()
    [0.005, 0.0]
    """
    s = np.asarray(price_sens, dtype=np.float64)
    return np.asarray(b * (0.3 + s) * np.asarray(shocked, dtype=np.float64))


def churn_probability(rate: ArrayLike) -> F:
    """Probability of churning within a day at a continuous daily ``rate``.

    >>> round(float(churn_probability(0.01)), 6)
    0.00995
    """
    return np.asarray(-np.expm1(-np.asarray(rate, dtype=np.float64)))


def draw_causes(rates: NDArray[np.floating], u: NDArray[np.floating]) -> NDArray[np.int8]:
    """Pick a cause per column of ``rates`` (causes x customers) in proportion to its rate.

    ``u`` are uniforms in [0, 1), one per customer.

    >>> draw_causes(np.array([[1.0, 0.0], [3.0, 2.0]]), np.array([0.2, 0.9])).tolist()
    [0, 1]
    """
    cum = np.cumsum(rates, axis=0)
    target = u * cum[-1]
    cause = (cum <= target[np.newaxis, :]).sum(axis=0)
    return np.asarray(np.minimum(cause, len(rates) - 1), dtype=np.int8)


@dataclass(frozen=True, slots=True)
class Exposure:
    """How each cause's rate runs on from today (for integrating the hazard)."""

    complaint_stuck: NDArray[np.bool_]
    shock_days_left: NDArray[np.integer[Any]]


def integrated_hazard(rates: F, t: float | F, e: Exposure, config: SimConfig) -> F:
    """Cumulative hazard per cause (rows as in ``hazard.CAUSES``) over the next ``t`` days.

    ``rates`` is causes x customers; ``t`` one horizon or one per customer.

    >>> cfg = SimConfig()
    >>> e = Exposure(np.array([True]), np.array([0]))
    >>> rates = np.array([[0.001], [0], [0.01], [0], [0], [0]])
    >>> integrated_hazard(rates, 10, e, cfg).ravel().round(3).tolist()
    [0.01, 0.0, 0.1, 0.0, 0.0, 0.0]
    """
    ac, bc, hc = config.activity, config.billing, config.hazard
    t = np.asarray(t, dtype=np.float64)
    out = rates * t
    rho = ac.complaint_resolve
    out[2] = np.where(e.complaint_stuck, rates[2] * t, rates[2] * -np.expm1(-rho * t) / rho)
    fixr = max(bc.card_fix_rate, 1e-9)
    out[3] = rates[3] * -np.expm1(-fixr * t) / fixr
    tau = hc.price_decay_days
    out[4] = rates[4] * tau * -np.expm1(-t / tau)
    out[5] = rates[5] * np.minimum(t, np.maximum(e.shock_days_left, 0))
    return np.asarray(out)


def weighted_exposure(
    rates: F,
    horizon: float,
    e: Exposure,
    config: SimConfig,
    multiplier: ArrayLike = 1.0,
    days: ArrayLike = 0,
) -> F:
    """Integrated hazard per cause over ``horizon`` with ``multiplier`` in force for ``days``.

    >>> e = Exposure(np.array([False]), np.array([0]))
    >>> r = np.array([[0.01], [0], [0], [0], [0], [0]])
    >>> weighted_exposure(r, 100, e, SimConfig(), 0.5, 20).sum(axis=0).round(3).tolist()
    [0.9]
    """
    d = np.minimum(np.asarray(days, dtype=np.float64), horizon)
    full = integrated_hazard(rates, horizon, e, config)
    early = integrated_hazard(rates, d, e, config)
    return np.asarray(early * np.asarray(multiplier, dtype=np.float64) + (full - early))


def remaining_value(
    daily_value: ArrayLike,
    rates: F,
    e: Exposure,
    config: SimConfig,
    *,
    multiplier: ArrayLike = 1.0,
    days: ArrayLike = 0,
    steps: int = 24,
) -> F:
    """True expected discounted value over ``config.clv_horizon_days`` (the "true CLV").

    ``sum_t v * (1 + d) ** (-t / 365) * S(t)`` with the survival ``S(t) = exp(-Lambda(t))`` of
    :func:`weighted_exposure`, evaluated at the midpoints of ``steps`` equal slices.

    >>> cfg = SimConfig(clv_discount=0.0)
    >>> e = Exposure(np.array([False]), np.array([0]))
    >>> round(float(remaining_value(np.array([2.0]), np.zeros((6, 1)), e, cfg)[0]), 6)
    730.0
    """
    horizon = float(config.clv_horizon_days)
    width = horizon / steps
    total = np.zeros(np.asarray(rates).shape[1])
    for k in range(steps):
        t = (k + 0.5) * width
        lam = weighted_exposure(rates, t, e, config, multiplier, days).sum(axis=0)
        total += np.exp(-lam) * (1.0 + config.clv_discount) ** (-t / 365.0) * width
    return np.asarray(np.asarray(daily_value, dtype=np.float64) * total)
