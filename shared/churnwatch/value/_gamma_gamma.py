"""The Gamma-Gamma model of spend per purchase: fit and conditional expected spend.

A customer's purchase values are Gamma(p, ν) with ν ~ Gamma(q, v) across customers, independent
of the purchase process. Fitted on the customers with at least one repeat purchase, from their
number of repeat purchase periods ``x`` and mean repeat spend ``m``; likelihood, starting point
and penalty as in `lifetimes`' ``GammaGammaFitter`` (0.11.3).

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis". Journal of Marketing Research 42(4), 415-430.
Hardie, B. G. S. "The Gamma-Gamma Model of Monetary Value", http://brucehardie.com/notes/025/.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from ._mle import as_float_array, log_covariance, minimize_log_params

__all__ = [
    "GammaGammaFit",
    "GammaGammaParams",
    "expected_spend",
    "fit_gamma_gamma",
    "gamma_gamma_negative_log_likelihood",
]

_X0 = 0.1


@dataclass(frozen=True, slots=True)
class GammaGammaParams:
    """Population parameters: spend shape ``p``, and ``Gamma(q, v)`` for the spend scale."""

    p: float
    q: float
    v: float

    @property
    def population_mean(self) -> float:
        """Mean spend per purchase across customers, ``p v / (q - 1)`` (infinite if q <= 1)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("inf")


@dataclass(frozen=True, slots=True)
class GammaGammaFit:
    """A maximum-likelihood fit; ``log_cov`` is the covariance of ``(log p, log q, log v)``."""

    params: GammaGammaParams
    log_cov: tuple[tuple[float, ...], ...]
    n: float
    neg_log_likelihood: float


def gamma_gamma_negative_log_likelihood(
    log_params: NDArray[np.float64],
    frequency: NDArray[np.float64],
    monetary: NDArray[np.float64],
    weights: NDArray[np.float64],
    penalizer: float = 0.0,
) -> tuple[float, NDArray[np.float64]]:
    """Mean negative log-likelihood (+ L2 penalty) and its gradient w.r.t. the log-parameters.

    Equation (1a) of Hardie's note 025, as lifetimes' ``GammaGammaFitter``. Needs
    ``frequency > 0`` and ``monetary > 0``.

    Examples
    --------
    >>> one = np.ones(1)
    >>> value, grad = gamma_gamma_negative_log_likelihood(np.zeros(3), one, 2 * one, one)
    >>> round(value, 6), grad.shape
    (2.197225, (3,))
    """
    p, q, v = np.exp(log_params)
    x, m = frequency, monetary
    px = p * x
    log_xm_v = np.log(x * m + v)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_xm_v
    )
    d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - log_xm_v)
    d_q = digamma(px + q) - digamma(q) + np.log(v) - log_xm_v
    d_v = q / v - (px + q) / (x * m + v)
    grad = np.stack([d_p * p, d_q * q, d_v * v])
    params = np.exp(log_params)
    total = float(weights.sum())
    value = -float(weights @ ll) / total + penalizer * float(np.sum(params**2))
    gradient = -(grad @ weights) / total + 2 * penalizer * params**2
    return value, gradient


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
) -> GammaGammaFit:
    """Fit ``(p, q, v)`` by maximum likelihood on the customers with ``frequency > 0``.

    Customers without a repeat purchase carry no spend information and are left out, so the
    whole population can be passed. As lifetimes, no constraint keeps ``q > 1``; with
    ``q <= 1`` the population mean spend is infinite (look at `GammaGammaParams.q`).

    Raises
    ------
    ValueError
        A customer with ``frequency > 0`` has ``monetary <= 0``, or none has ``frequency > 0``.
    FitDidNotConverge
        No optimum found.

    Examples
    --------
    >>> fit = fit_gamma_gamma([1, 2, 0, 3, 1], [20.0, 35.5, 0.0, 18.0, 60.0], penalizer=0.01)
    >>> fit.n, round(fit.params.p, 3), round(fit.params.q, 3), round(fit.params.v, 3)
    (4.0, 4.39, 1.021, 4.05)
    """
    x = as_float_array(frequency, "frequency")
    m = as_float_array(monetary, "monetary")
    w = np.ones_like(x) if weights is None else as_float_array(weights, "weights")
    if not x.shape == m.shape == w.shape:
        raise ValueError("frequency, monetary (and weights) must have the same length")
    keep = x > 0
    x, m, w = x[keep], m[keep], w[keep]
    if x.size == 0:
        raise ValueError("no customer with frequency > 0")
    if np.any(m <= 0):
        raise ValueError("monetary must be > 0 where frequency > 0")
    if np.any(w < 0) or float(w.sum()) <= 0:
        raise ValueError("weights must be >= 0 with a positive total")

    def objective(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        return gamma_gamma_negative_log_likelihood(theta, x, m, w, penalizer)

    theta = minimize_log_params(objective, np.full(3, _X0))
    p, q, v = (float(value) for value in np.exp(theta))
    return GammaGammaFit(
        params=GammaGammaParams(p, q, v),
        log_cov=log_covariance(objective, theta, float(w.sum())),
        n=float(w.sum()),
        neg_log_likelihood=objective(theta)[0],
    )


def expected_spend(
    params: GammaGammaParams, frequency: ArrayLike, monetary: ArrayLike
) -> NDArray[np.float64]:
    """Conditional expected spend per purchase: a weighted mean of own and population means.

    ``w = p x / (p x + q - 1)``; ``E[spend] = (1 - w) p v / (q - 1) + w m`` (equation 5 of note
    025, lifetimes' ``conditional_expected_average_profit``). With ``x = 0`` it is the
    population mean. Broadcasts.

    Examples
    --------
    >>> params = GammaGammaParams(p=6.25, q=3.74, v=15.45)
    >>> expected_spend(params, [0, 2], [0.0, 22.35]).round(3)
    array([35.242, 24.668])
    """
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    p, q, v = params.p, params.q, params.v
    own = p * x / (p * x + q - 1)
    return np.asarray((1 - own) * (p * v / (q - 1)) + own * m, dtype=np.float64)
