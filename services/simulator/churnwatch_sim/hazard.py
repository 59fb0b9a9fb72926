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
from churnwatch_sim.dunning import days_needed, exposure_at, log_survival

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
    "payment_survival",
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
    """How each cause's rate runs on from today (for integrating the hazard).

    The billing fields (all or none) let the payment hazard follow the dunning course (see
    :func:`payment_survival`): ``failures`` on the open invoice, ``bill_in`` = its due day (or the
    next one's when ``failures`` is 0) minus today, ``period`` in days (0: never billed) and
    ``pay_fail``, the first-attempt failure probability. Without them the current payment rate is
    held and decays at ``card_fix_rate`` (the old approximation, kept for hand-made exposures).
    """

    complaint_stuck: NDArray[np.bool_]
    shock_days_left: NDArray[np.integer[Any]]
    failures: NDArray[np.integer[Any]] | None = None
    bill_in: NDArray[np.integer[Any]] | None = None
    period: NDArray[np.integer[Any]] | None = None
    pay_fail: NDArray[np.floating[Any]] | None = None

    def card_fixed(self) -> Exposure:
        """The same customers after the open invoice is paid now (``commerce.renewed_block``).

        >>> e = Exposure(np.array([False]), np.array([0]), np.array([2]), np.array([-4]),
        ...              np.array([30]), np.array([0.6]))
        >>> f = e.card_fixed()
        >>> f.failures.tolist(), f.bill_in.tolist()
        ([0], [26])
        """
        n = len(self.complaint_stuck)
        if self.failures is None or self.bill_in is None or self.period is None:
            zero = np.zeros(n, dtype=np.int64)
            return Exposure(
                self.complaint_stuck, self.shock_days_left, zero, zero, zero, np.zeros(n)
            )
        dunning = self.failures > 0
        return Exposure(
            self.complaint_stuck,
            self.shock_days_left,
            np.where(dunning, 0, self.failures),
            np.where(dunning, self.bill_in + self.period, self.bill_in),
            self.period,
            self.pay_fail,
        )


def payment_survival(
    e: Exposure, config: SimConfig, horizon: int, multiplier: ArrayLike = 1.0, days: ArrayLike = 0
) -> F:
    """``E[exp(-sum_{t<T} m_t * payment_t)]`` for ``T = 0..horizon`` (rows) per customer.

    The billing process followed exactly (see ``churnwatch_sim.dunning``); ``m_t`` is
    ``multiplier`` for the first ``days`` days. Without billing fields in ``e``: all ones.

    >>> e = Exposure(np.array([False]), np.array([0]), np.array([1]), np.array([-1]),
    ...              np.array([30]), np.array([0.6]))
    >>> s = payment_survival(e, SimConfig(), 8)[:, 0]
    >>> bool(np.all(s[:3] == 1.0)), round(float(-np.log(s[3] / s[2])), 4)
    (True, 0.0285)
    """
    return np.exp(_log_survival(e, config, np.arange(horizon + 1), multiplier, days))


def _log_survival(
    e: Exposure, config: SimConfig, keep: NDArray[np.int64], m: ArrayLike, d: ArrayLike
) -> F:
    if e.failures is None or e.bill_in is None or e.period is None or e.pay_fail is None:
        return np.zeros((len(keep), len(e.complaint_stuck)))
    return log_survival(e.failures, e.bill_in, e.period, e.pay_fail, config, keep, m, d)


def _billed(e: Exposure) -> bool:
    return e.failures is not None


def integrated_hazard(rates: F, t: float | F, e: Exposure, config: SimConfig) -> F:
    """Cumulative hazard per cause (rows as in ``hazard.CAUSES``) over the next ``t`` days.

    ``rates`` is causes x customers; ``t`` one horizon or one per customer. With the billing
    fields of ``e`` the payment row is the effective ``-log E[exp(-Lambda_payment)]`` over the
    dunning course (:func:`payment_survival`), so ``1 - exp(-sum)`` stays P(churn within t).

    >>> cfg = SimConfig()
    >>> e = Exposure(np.array([True]), np.array([0]))
    >>> rates = np.array([[0.001], [0], [0.01], [0], [0], [0]])
    >>> integrated_hazard(rates, 10, e, cfg).ravel().round(3).tolist()
    [0.01, 0.0, 0.1, 0.0, 0.0, 0.0]
    """
    out = _smooth_exposure(rates, t, e, config)
    if _billed(e):
        keep = days_needed(t)
        out[3] = exposure_at(_log_survival(e, config, keep, 1.0, 0), keep, t)
    return out


def _smooth_exposure(rates: F, t: float | F, e: Exposure, config: SimConfig) -> F:
    """Every cause's known course in closed form (payment: the legacy fading rate)."""
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
    course = None
    if _billed(e):
        keep = days_needed(horizon)
        course = (_log_survival(e, config, keep, multiplier, days), keep)
    return _weighted(rates, horizon, e, config, multiplier, days, course)


def _weighted(
    rates: F,
    horizon: float,
    e: Exposure,
    config: SimConfig,
    multiplier: ArrayLike,
    days: ArrayLike,
    course: tuple[F, NDArray[np.int64]] | None,
) -> F:
    d = np.minimum(np.asarray(days, dtype=np.float64), horizon)
    full = _smooth_exposure(rates, horizon, e, config)
    early = _smooth_exposure(rates, d, e, config)
    out = early * np.asarray(multiplier, dtype=np.float64) + (full - early)
    if course is not None:  # the multiplier is already inside the expectation
        out[3] = exposure_at(*course, horizon)
    return np.asarray(out)


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
    :func:`weighted_exposure`, evaluated at the midpoints of ``steps`` equal slices (the dunning
    course is computed once for the whole horizon).

    >>> cfg = SimConfig(clv_discount=0.0)
    >>> e = Exposure(np.array([False]), np.array([0]))
    >>> round(float(remaining_value(np.array([2.0]), np.zeros((6, 1)), e, cfg)[0]), 6)
    730.0
    """
    horizon = float(config.clv_horizon_days)
    width = horizon / steps
    times = [(k + 0.5) * width for k in range(steps)]
    course = None
    if _billed(e):
        keep = days_needed(*times)
        course = (_log_survival(e, config, keep, multiplier, days), keep)
    total = np.zeros(np.asarray(rates).shape[1])
    for t in times:
        lam = _weighted(rates, t, e, config, multiplier, days, course).sum(axis=0)
        total += np.exp(-lam) * (1.0 + config.clv_discount) ** (-t / 365.0) * width
    return np.asarray(np.asarray(daily_value, dtype=np.float64) * total)
