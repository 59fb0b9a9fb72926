"""The payment hazard's expected course: the billing process of ``commerce.billing``, exactly.

The payment hazard ``b_p * max(failures - 1, 0)`` is zero at a first failed payment, yet that
customer is likely to fail the retries and sit in dunning: the oracle must average over the
billing paths, not extrapolate today's rate. Given the path, churn is independent of billing, so
``P(survive T) = exp(-Lambda_other(T)) * E[exp(-sum_{t<T} m_t * payment_t)]``; the expectation is
computed day by day over the few billing states of a subscriber:

- paid: the next invoice falls on the schedule ``bill_in + k * period``; its first attempt fails
  with ``pay_fail`` (-> 1 failure);
- ``j`` failures (``j <= len(retry_days)``): retry ``j`` on day ``retry_days[j-1]`` of the invoice
  fails with ``min(0.95, pay_fail + 0.35)`` (-> ``j + 1``), a success pays the invoice;
- final dunning: the card is fixed with ``card_fix_rate`` a day (-> paid). Once the invoice is a
  period old a fix pays it but leaves the next due day in the past: never billed again (what
  ``commerce.billing`` does, so modelled as is);
- never billed (retail, or off the schedule).

Billing comes before the day's churn, so a day's hazard uses its post-billing failures; ``m_t``
is a treatment multiplier for the first ``days`` days. Assumes ``max(retry_days) < period``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from churnwatch_sim.config import SimConfig

__all__ = ["days_needed", "exposure_at", "log_survival"]

F = NDArray[np.float64]
I64 = NDArray[np.int64]


def log_survival(
    failures: ArrayLike,
    bill_in: ArrayLike,
    period: ArrayLike,
    pay_fail: ArrayLike,
    config: SimConfig,
    keep: I64,
    multiplier: ArrayLike = 1.0,
    days: ArrayLike = 0,
) -> F:
    """``log E[exp(-sum_{t<T} m_t * payment_t)]`` at the days ``T`` in ``keep`` (sorted, unique).

    Rows follow ``keep``, columns the customers. ``bill_in`` is the due day of the open invoice
    (failures > 0) or of the next one minus today; ``period`` 0 means never billed.

    A bad card (p = 0.6) that failed yesterday: retries on days 2 and 6 fail with 0.95.

    >>> cfg = SimConfig()
    >>> s = np.exp(log_survival([1], [-1], [30], [0.6], cfg, np.arange(8))[:, 0])
    >>> bool(np.all(s[:3] == 1.0)), round(float(1 - s[3] / s[2]), 4)  # 0.95 * (1 - e^-0.03)
    (True, 0.0281)
    """
    f_all = np.atleast_1d(np.asarray(failures, dtype=np.int64))
    n = len(f_all)
    out = np.zeros((len(keep), n))
    horizon = int(keep[-1]) if len(keep) else 0
    bc, b = config.billing, config.hazard.payment
    bill_all = np.broadcast_to(np.asarray(bill_in, dtype=np.int64), (n,))
    period_all = np.broadcast_to(np.asarray(period, dtype=np.int64), (n,))
    risky = (period_all > 0) & ((f_all > 0) | ((bill_all >= 0) & (bill_all < horizon)))
    cols = np.flatnonzero(risky)
    if not len(cols) or horizon <= 0 or b <= 0:
        return out
    nr = len(bc.retry_days)
    offs = np.asarray(bc.retry_days, dtype=np.int64)
    ok, term, late, off = 0, nr + 1, nr + 2, nr + 3
    f = np.minimum(f_all[cols], nr + 1)
    bill, per = bill_all[cols], period_all[cols]
    p = np.broadcast_to(np.asarray(pay_fail, dtype=np.float64), (n,))[cols]
    q = np.minimum(0.95, p + 0.35)
    c = bc.card_fix_rate
    start = np.where(f == 0, ok, np.where((f == nr + 1) & (-bill >= per), late, f))
    mass = np.zeros((nr + 4, len(cols)))
    mass[start, np.arange(len(cols))] = 1.0
    haz = b * np.array([0.0, *range(nr), nr, nr, 0.0])[:, np.newaxis]
    mult = np.broadcast_to(np.asarray(multiplier, dtype=np.float64), (n,))[cols]
    until = np.broadcast_to(np.asarray(days, dtype=np.float64), (n,))[cols]
    treated_until = int(np.max(until, initial=0.0)) if np.any(mult != 1.0) else 0
    plain = np.exp(-haz)
    first = 1 if nr else term
    row = int(np.searchsorted(keep, 0))  # log S(0) = 0 is already in place
    row += int(row < len(keep) and keep[row] == 0)
    for t in range(horizon):
        u = t - bill
        phase = np.where(u >= 0, np.mod(u, per), -1)
        factor = np.exp(-haz * np.where(t < until, mult, 1.0)) if t < treated_until else plain
        stale = np.flatnonzero((phase == 0) & (u > 0))  # final dunning a period old: too late
        mass[late, stale] += mass[term, stale]
        mass[term, stale] = 0.0
        fix_now, fix_late = c * mass[term], c * mass[late]
        mass[term] -= fix_now
        mass[late] -= fix_late
        due = np.flatnonzero(phase == 0)
        failed = mass[ok, due] * p[due]
        mass[ok, due] -= failed
        mass[first, due] += failed
        for j in range(nr, 0, -1):
            r = np.flatnonzero(phase == offs[j - 1])
            moving = mass[j, r]
            mass[j, r] = 0.0
            mass[j + 1, r] += moving * q[r]
            mass[ok, r] += moving * (1.0 - q[r])
        mass[ok] += fix_now
        mass[off] += fix_late
        mass *= factor
        if row < len(keep) and keep[row] == t + 1:
            out[row, cols] = np.log(np.maximum(mass.sum(axis=0), 1e-300))
            row += 1
    return out


def exposure_at(logs: F, keep: I64, t: float | F) -> F:
    """``-log S(t)`` per customer from :func:`log_survival` rows, log-linear within a day.

    ``keep`` must hold ``floor(t)`` and ``ceil(t)`` (``t`` one value or one per customer).

    >>> exposure_at(np.log(np.array([[1.0], [0.5], [0.25]])), np.arange(3), 1.5).round(4).tolist()
    [1.0397]
    """
    n = logs.shape[1]
    tt = np.maximum(np.broadcast_to(np.asarray(t, dtype=np.float64), (n,)), 0.0)
    lo, hi = np.floor(tt), np.ceil(tt)
    i_lo = np.searchsorted(keep, lo.astype(np.int64))
    i_hi = np.searchsorted(keep, hi.astype(np.int64))
    cols = np.arange(n)
    w = tt - lo
    return np.asarray(-((1.0 - w) * logs[i_lo, cols] + w * logs[i_hi, cols]))


def days_needed(*t: float | F) -> I64:
    """The whole days :func:`exposure_at` needs for the horizons ``t`` (0 always included).

    >>> days_needed(2.5, np.array([4.0, 0.0])).tolist()
    [0, 2, 3, 4]
    """
    parts = [np.zeros(1)]
    for x in t:
        a = np.maximum(np.atleast_1d(np.asarray(x, dtype=np.float64)), 0.0)
        parts += [np.floor(a), np.ceil(a)]
    return np.unique(np.concatenate(parts)).astype(np.int64)
