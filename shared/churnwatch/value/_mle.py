"""Maximum likelihood on log-parameters, shared by the BG/NBD and Gamma-Gamma fits.

Both models have strictly positive parameters; optimising their logarithms removes the bounds
(as `lifetimes` does). The objective is the *mean* negative log-likelihood plus an optional L2
penalty, so the covariance of the log-parameters is the inverse Hessian divided by the number
of customers (the total weight).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from ._errors import FitDidNotConverge

__all__ = ["Objective", "as_float_array", "log_covariance", "minimize_log_params"]

Objective = Callable[[NDArray[np.float64]], tuple[float, NDArray[np.float64]]]
"""Log-parameters → (mean negative log-likelihood, its gradient)."""

_GTOL = 1e-9
_ACCEPT_GRADIENT = 1e-5
_HESSIAN_STEP = 1e-5


def as_float_array(values: Any, name: str) -> NDArray[np.float64]:
    """``values`` as a 1-d float array; rejects NaN and infinities."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has NaN or infinite values")
    return array


def minimize_log_params(objective: Objective, x0: NDArray[np.float64]) -> NDArray[np.float64]:
    """The log-parameters minimising ``objective``, by BFGS with the analytic gradient.

    BFGS often stops with "precision loss" a hair from the optimum; that is accepted when the
    gradient is below 1e-5 (the objective is a mean over customers, so this is tight).

    Raises
    ------
    FitDidNotConverge
        The optimiser failed and the gradient is not small.
    """
    result = minimize(objective, x0, jac=True, method="BFGS", options={"gtol": _GTOL})
    x = np.asarray(result.x, dtype=np.float64)
    value, gradient = objective(x)
    if not np.isfinite(value) or not (
        result.success or float(np.max(np.abs(gradient))) < _ACCEPT_GRADIENT
    ):
        raise FitDidNotConverge(f"{result.message} (gradient {gradient.tolist()})")
    return x


def log_covariance(
    objective: Objective, x: NDArray[np.float64], n: float
) -> tuple[tuple[float, ...], ...]:
    """Asymptotic covariance of the log-parameters at the optimum ``x``: ``inv(H) / n``.

    ``H`` is the Hessian of the mean objective, by central differences of the analytic
    gradient, symmetrised. Returned as nested tuples so fitted results stay immutable.
    """
    k = x.size
    hessian = np.empty((k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = _HESSIAN_STEP
        hessian[:, j] = (objective(x + step)[1] - objective(x - step)[1]) / (2 * _HESSIAN_STEP)
    hessian = (hessian + hessian.T) / 2
    try:
        covariance = np.linalg.inv(hessian) / n
    except np.linalg.LinAlgError as exc:
        raise FitDidNotConverge("singular Hessian at the optimum") from exc
    return tuple(tuple(float(c) for c in row) for row in covariance)
