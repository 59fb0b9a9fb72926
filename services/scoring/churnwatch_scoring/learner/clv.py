"""Pure side of the CLV refit: when it is due, the fit, and the ``clv_params`` JSON.

The learner streams every retail customer's `RetailStats` out of ``customer_profiles``,
`observe`s them at the global watermark and fits BG/NBD and Gamma-Gamma on the whole
population. Workers hot-load the newest ``clv_params`` row; `fits_from_json` rebuilds the
`BgNbdFit`/`GammaGammaFit` (with their covariances, for `retail_clv_interval`) from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from churnwatch.value import (
    BgNbdFit,
    BgNbdParams,
    GammaGammaFit,
    GammaGammaParams,
    fit_bgnbd,
    fit_gamma_gamma,
)

__all__ = ["ClvFit", "clv_due", "fit_clv", "fits_from_json"]

_DAYS_PER_MONTH = 30.0
"""`retail_clv`'s month in days (lifetimes' ``freq="D"`` factor)."""


@dataclass(frozen=True, slots=True)
class ClvFit:
    """One population fit and the summaries behind it."""

    bgnbd: BgNbdFit
    gamma_gamma: GammaGammaFit
    customers: int
    repeat_customers: int
    unit_days: float
    penalizer: float

    def bgnbd_json(self) -> dict[str, Any]:
        """``clv_params.bgnbd``: params, log covariance, and the units the worker must use."""
        p = self.bgnbd.params
        return {
            "r": p.r,
            "alpha": p.alpha,
            "a": p.a,
            "b": p.b,
            "log_cov": [list(row) for row in self.bgnbd.log_cov],
            "n": self.bgnbd.n,
            "neg_log_likelihood": self.bgnbd.neg_log_likelihood,
            "unit_days": self.unit_days,
            "periods_per_month": _DAYS_PER_MONTH / self.unit_days,
            "penalizer": self.penalizer,
        }

    def gamma_gamma_json(self) -> dict[str, Any]:
        """``clv_params.gamma_gamma``: params and log covariance."""
        p = self.gamma_gamma.params
        return {
            "p": p.p,
            "q": p.q,
            "v": p.v,
            "log_cov": [list(row) for row in self.gamma_gamma.log_cov],
            "n": self.gamma_gamma.n,
            "neg_log_likelihood": self.gamma_gamma.neg_log_likelihood,
            "penalizer": self.penalizer,
        }


def clv_due(
    *,
    elapsed_s: float | None,
    customers: int,
    customers_at_last_fit: int,
    interval_s: float,
    growth: float,
) -> bool:
    """A refit is due on the first call, after ``interval_s``, or when customers grew.

    >>> clv_due(elapsed_s=None, customers=5, customers_at_last_fit=0, interval_s=600, growth=0.1)
    True
    >>> clv_due(elapsed_s=30, customers=1099, customers_at_last_fit=1000, interval_s=600,
    ...         growth=0.1)
    False
    >>> clv_due(elapsed_s=30, customers=1100, customers_at_last_fit=1000, interval_s=600,
    ...         growth=0.1)
    True
    """
    if elapsed_s is None or elapsed_s >= interval_s:
        return True
    grown = customers - customers_at_last_fit
    return grown > 0 and grown >= growth * customers_at_last_fit


def fit_clv(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    *,
    min_customers: int,
    min_repeat: int,
    unit_days: float = 1.0,
    penalizer: float = 0.0,
) -> ClvFit | None:
    """Fit both models, or ``None`` when the population is too small to trust.

    Too small: fewer than ``min_customers`` customers, or fewer than ``min_repeat`` with a
    repeat purchase (Gamma-Gamma learns only from them). Raises `FitDidNotConverge` as the fits.

    >>> fit_clv([0, 1], [0, 3], [10, 10], [0, 5.0], min_customers=3, min_repeat=1) is None
    True
    """
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    repeat = int(np.count_nonzero((x > 0) & (m > 0)))
    if x.size < min_customers or repeat < min_repeat:
        return None
    keep = (x == 0) | (m > 0)  # a repeat customer with zero spend carries no spend information
    bg = fit_bgnbd(x, recency, T, penalizer=penalizer)
    gg = fit_gamma_gamma(x[keep], m[keep], penalizer=penalizer)
    return ClvFit(bg, gg, int(x.size), repeat, unit_days, penalizer)


def fits_from_json(
    bgnbd: dict[str, Any], gamma_gamma: dict[str, Any]
) -> tuple[BgNbdFit, GammaGammaFit]:
    """The fits back from a ``clv_params`` row (for the workers).

    >>> bg = {"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.0, "log_cov": [[0.0] * 4] * 4,
    ...       "n": 10.0, "neg_log_likelihood": 1.0}
    >>> gg = {"p": 6.0, "q": 4.0, "v": 15.0, "log_cov": [[0.0] * 3] * 3, "n": 5.0,
    ...       "neg_log_likelihood": 2.0}
    >>> fits_from_json(bg, gg)[1].params.population_mean
    30.0
    """
    bg = BgNbdFit(
        params=BgNbdParams(bgnbd["r"], bgnbd["alpha"], bgnbd["a"], bgnbd["b"]),
        log_cov=tuple(tuple(float(v) for v in row) for row in bgnbd["log_cov"]),
        n=float(bgnbd["n"]),
        neg_log_likelihood=float(bgnbd["neg_log_likelihood"]),
    )
    gg = GammaGammaFit(
        params=GammaGammaParams(gamma_gamma["p"], gamma_gamma["q"], gamma_gamma["v"]),
        log_cov=tuple(tuple(float(v) for v in row) for row in gamma_gamma["log_cov"]),
        n=float(gamma_gamma["n"]),
        neg_log_likelihood=float(gamma_gamma["neg_log_likelihood"]),
    )
    return bg, gg
