"""The BG/NBD model of repeat purchasing: fit, expected purchases and P(alive).

Fader, Hardie & Lee (2005): while alive, a customer buys as a Poisson process of rate
``λ ~ Gamma(r, alpha)``; after each purchase they drop out with probability ``p ~ Beta(a, b)``.
The log-likelihood, time scaling, starting point, penalty and prediction formulas are those of
`lifetimes`' ``BetaGeoFitter`` (0.11.3), so fitted parameters agree with it.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers the Easy Way: An
Alternative to the Pareto/NBD Model". Marketing Science 24(2), 275-284.
http://brucehardie.com/notes/021/ (P(alive)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, gammaln, hyp2f1

from ._mle import as_float_array, log_covariance, minimize_log_params

__all__ = [
    "BgNbdFit",
    "BgNbdParams",
    "bgnbd_negative_log_likelihood",
    "expected_purchases",
    "fit_bgnbd",
    "p_alive",
]

_X0 = 0.1
"""Start of every log-parameter, as in lifetimes."""


@dataclass(frozen=True, slots=True)
class BgNbdParams:
    """Population parameters: purchase rate ``Gamma(r, alpha)``, dropout ``Beta(a, b)``.

    ``alpha`` is in the time unit of the data the model was fitted on.
    """

    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> NDArray[np.float64]:
        """``[r, alpha, a, b]``."""
        return np.array([self.r, self.alpha, self.a, self.b])


@dataclass(frozen=True, slots=True)
class BgNbdFit:
    """A maximum-likelihood fit.

    Parameters
    ----------
    params
        The estimates.
    log_cov
        Asymptotic covariance of ``(log r, log alpha, log a, log b)``.
    n
        Number of customers (total weight) behind the fit.
    neg_log_likelihood
        Mean negative log-likelihood per customer at the optimum (with the penalty, in the
        scaled time unit, as lifetimes reports it).
    """

    params: BgNbdParams
    log_cov: tuple[tuple[float, ...], ...]
    n: float
    neg_log_likelihood: float


def _terms(
    theta: NDArray[np.float64],
    x: NDArray[np.float64],
    tx: NDArray[np.float64],
    T: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-customer log-likelihood and its gradient w.r.t. the log-parameters (k × n)."""
    r, alpha, a, b = np.exp(theta)
    repeat = x > 0
    b_x = b + np.maximum(x, 1) - 1
    log_alpha_t = np.log(alpha + T)
    log_alpha_tx = np.log(alpha + tx)
    a3 = -(r + x) * log_alpha_t
    a4 = np.where(repeat, np.log(a) - np.log(b_x) - (r + x) * log_alpha_tx, -np.inf)
    top = np.maximum(a3, a4)
    e3 = np.exp(a3 - top)
    e4 = np.exp(a4 - top)
    total = e3 + e4
    w3 = e3 / total
    w4 = e4 / total
    ll = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
        + top
        + np.log(total)
    )
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_alpha_t - w4 * log_alpha_tx
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx))
    d_ab = digamma(a + b) - digamma(a + b + x)
    d_a = d_ab + w4 / a
    d_b = d_ab + digamma(b + x) - digamma(b) - w4 / b_x
    grad = np.stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return ll, grad


def bgnbd_negative_log_likelihood(
    log_params: NDArray[np.float64],
    frequency: NDArray[np.float64],
    recency: NDArray[np.float64],
    T: NDArray[np.float64],
    weights: NDArray[np.float64],
    penalizer: float = 0.0,
) -> tuple[float, NDArray[np.float64]]:
    """Mean negative log-likelihood (+ L2 penalty on the parameters) and its gradient.

    Same value as lifetimes' ``BetaGeoFitter._negative_log_likelihood`` for the same inputs;
    the gradient is analytic (digamma), w.r.t. the log-parameters.

    Examples
    --------
    >>> one = np.ones(1)
    >>> value, grad = bgnbd_negative_log_likelihood(np.zeros(4), one, one, 2 * one, one)
    >>> round(value, 6), grad.shape
    (1.711717, (4,))
    """
    ll, grad = _terms(log_params, frequency, recency, T)
    params = np.exp(log_params)
    total = float(weights.sum())
    value = -float(weights @ ll) / total + penalizer * float(np.sum(params**2))
    gradient = -(grad @ weights) / total + 2 * penalizer * params**2
    return value, gradient


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
) -> BgNbdFit:
    """Fit ``(r, alpha, a, b)`` by maximum likelihood, as lifetimes' ``BetaGeoFitter.fit``.

    Times are divided by ``max(T)`` during the fit (so the penalty, as in lifetimes, applies
    to ``alpha`` in that scaled unit), and ``alpha`` is scaled back.

    Parameters
    ----------
    frequency, recency, T
        Per-customer repeat purchase periods, first-to-last purchase time, age (see `observe`).
    weights
        Number of customers with each ``(frequency, recency, T)`` row; 1 each by default.
    penalizer
        L2 penalty coefficient on the parameters (lifetimes' ``penalizer_coef``).

    Raises
    ------
    FitDidNotConverge
        No optimum found.

    Examples
    --------
    Six customers are too few for an unpenalised optimum (``a`` and ``b`` run off to
    infinity, and lifetimes fails too); a small penalty keeps the estimates finite:

    >>> fit = fit_bgnbd([0, 1, 2, 0, 3, 1], [0, 5, 9, 0, 20, 2], [30, 25, 30, 10, 28, 6],
    ...                 penalizer=0.01)
    >>> fit.params.as_array().round(3).tolist(), fit.n
    ([1.259, 13.09, 0.802, 1.111], 6.0)
    """
    x = as_float_array(frequency, "frequency")
    tx = as_float_array(recency, "recency")
    age = as_float_array(T, "T")
    w = np.ones_like(x) if weights is None else as_float_array(weights, "weights")
    _check(x, tx, age, w)
    scale = 1.0 / float(age.max())
    data = (x, tx * scale, age * scale, w, penalizer)

    def objective(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        return bgnbd_negative_log_likelihood(theta, *data)

    theta = minimize_log_params(objective, np.full(4, _X0))
    r, alpha, a, b = np.exp(theta)
    return BgNbdFit(
        params=BgNbdParams(float(r), float(alpha / scale), float(a), float(b)),
        log_cov=log_covariance(objective, theta, float(w.sum())),
        n=float(w.sum()),
        neg_log_likelihood=objective(theta)[0],
    )


def _check(
    x: NDArray[np.float64],
    tx: NDArray[np.float64],
    age: NDArray[np.float64],
    w: NDArray[np.float64],
) -> None:
    if not x.shape == tx.shape == age.shape == w.shape or x.size == 0:
        raise ValueError("frequency, recency, T (and weights) must be non-empty, same length")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be whole numbers >= 0")
    if np.any(tx < 0) or np.any(tx > age) or np.any(tx[x == 0] != 0):
        raise ValueError("need 0 <= recency <= T, and recency == 0 where frequency == 0")
    if age.max() <= 0:
        raise ValueError("T must have a positive value")
    if np.any(w < 0) or float(w.sum()) <= 0:
        raise ValueError("weights must be >= 0 with a positive total")


def expected_purchases(
    params: BgNbdParams, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Expected number of purchases in the next ``t`` time units, given the history.

    Equation (10) of Fader, Hardie & Lee (2005), computed as lifetimes'
    ``conditional_expected_number_of_purchases_up_to_time`` (including its fallback Euler
    transformation of the hypergeometric function when it overflows). Broadcasts.

    Examples
    --------
    >>> params = BgNbdParams(r=0.24, alpha=4.4, a=0.79, b=2.4)
    >>> expected_purchases(params, [10, 52], 2, 30.43, 38.86).round(4)
    array([0.3563, 1.5555])
    """
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    age = np.asarray(T, dtype=np.float64)
    t_ = np.asarray(t, dtype=np.float64)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    h_a, h_b, h_c = r + x, b + x, a + b + x - 1
    z = t_ / (alpha + age + t_)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_hyp = np.log(hyp2f1(h_a, h_b, h_c, z))
        if np.any(np.isinf(log_hyp)):
            alt = np.log(hyp2f1(h_c - h_a, h_c - h_b, h_c, z)) + (h_c - h_a - h_b) * np.log1p(-z)
            log_hyp = np.where(np.isinf(log_hyp), alt, log_hyp)
    first = (a + b + x - 1) / (a - 1)
    second = 1 - np.exp(log_hyp + (r + x) * np.log((alpha + age) / (alpha + t_ + age)))
    ratio = np.where(x > 0, a / (b + np.maximum(x, 1) - 1), 0.0)
    denominator = 1 + ratio * ((alpha + age) / (alpha + t_x)) ** (r + x)
    return np.asarray(first * second / denominator, dtype=np.float64)


def p_alive(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Probability that the customer has not dropped out, given the history.

    1 for customers without a repeat purchase (in BG/NBD they can only drop out right after a
    purchase). Same formula as lifetimes' ``conditional_probability_alive``. Broadcasts.

    Examples
    --------
    >>> params = BgNbdParams(r=0.24, alpha=4.4, a=0.79, b=2.4)
    >>> p_alive(params, [0, 2, 2], [0, 30.43, 5], 38.86).round(4)
    array([1.    , 0.7259, 0.1235])
    """
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    age = np.asarray(T, dtype=np.float64)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_odds_dead = (r + x) * np.log((alpha + age) / (alpha + t_x)) + np.log(
        a / (b + np.maximum(x, 1) - 1)
    )
    return np.asarray(np.where(x == 0, 1.0, expit(-log_odds_dead)), dtype=np.float64)
