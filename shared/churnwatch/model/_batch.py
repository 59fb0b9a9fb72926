"""The batch baseline: an offline logistic regression on the same features and labels.

The bench trains it once on an earlier period and scores a later one, next to the online model's
prequential AUC (``model_auc_batch_baseline`` vs ``model_auc_prequential``). Features are
standardised with the training set's mean and standard deviation, and the L2-penalised
log-likelihood is maximised with SciPy's L-BFGS (exact gradient); no scikit-learn needed.
``clip`` bounds the standardised values as `LinearLearner` does (``LearnerSpec.clip``), so the
bench compares the two on the same preprocessing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from ._errors import BaselineDidNotConverge

__all__ = ["BatchLogistic", "fit_batch_logistic"]


@dataclass(frozen=True, slots=True, eq=False)
class BatchLogistic:
    """A fitted offline logistic regression; absent features take the training mean."""

    feature_names: tuple[str, ...]
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    weights: NDArray[np.float64]
    intercept: float
    clip: float | None = None

    def matrix(self, rows: Sequence[Mapping[str, float]]) -> NDArray[np.float64]:
        """The rows as a standardised ``(n, d)`` matrix in ``feature_names`` order."""
        x = np.array(
            [
                [row.get(name, m) for name, m in zip(self.feature_names, self.mean, strict=True)]
                for row in rows
            ],
            dtype=np.float64,
        ).reshape(len(rows), len(self.feature_names))
        z = (x - self.mean) / self.scale
        return z if self.clip is None else np.clip(z, -self.clip, self.clip)

    def predict_proba(self, rows: Sequence[Mapping[str, float]]) -> NDArray[np.float64]:
        """Churn probabilities of many feature dicts."""
        eta = self.matrix(rows) @ self.weights + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(eta, -35.0, 35.0)))


def fit_batch_logistic(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[bool],
    *,
    feature_names: Sequence[str] | None = None,
    l2: float = 1e-3,
    clip: float | None = None,
) -> BatchLogistic:
    """Fit a logistic regression offline by penalised maximum likelihood.

    ``l2`` is the penalty per example on the standardised weights (not the intercept);
    ``clip`` (if given) bounds the standardised values to ``[-clip, clip]``, in fitting and
    in `BatchLogistic.predict_proba`.
    Raises `BaselineDidNotConverge` if L-BFGS fails.

    Examples
    --------
    >>> rows = [{"complaints": float(k % 5)} for k in range(200)]
    >>> labels = [k % 5 >= 3 or k % 7 == 0 for k in range(200)]
    >>> fit = fit_batch_logistic(rows, labels)
    >>> p = fit.predict_proba([{"complaints": 0.0}, {"complaints": 4.0}])
    >>> bool(p[0] < 0.3 < 0.7 < p[1])
    True
    """
    names = (
        tuple(feature_names)
        if feature_names is not None
        else tuple(sorted({k for r in rows for k in r}))
    )
    if not rows or len(rows) != len(labels):
        raise ValueError("need as many labels as rows, at least one")
    raw = np.array([[row.get(n, np.nan) for n in names] for row in rows], dtype=np.float64)
    raw = raw.reshape(len(rows), len(names))
    mean = np.nanmean(raw, axis=0) if names else np.zeros(0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    x = np.where(np.isnan(raw), mean, raw)
    scale = x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    x = (x - mean) / scale
    if clip is not None:
        x = np.clip(x, -clip, clip)
    y = np.asarray(labels, dtype=np.float64)
    n, d = x.shape

    def objective(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        w, b = theta[:d], theta[d]
        eta = x @ w + b
        nll = np.logaddexp(0.0, eta) - y * eta
        r = 1.0 / (1.0 + np.exp(-eta)) - y
        loss = nll.sum() / n + 0.5 * l2 * (w @ w)
        grad = np.append(x.T @ r / n + l2 * w, r.sum() / n)
        return float(loss), grad

    result = minimize(objective, np.zeros(d + 1), jac=True, method="L-BFGS-B")
    if not result.success:
        raise BaselineDidNotConverge(f"batch logistic regression: {result.message}")
    theta = np.asarray(result.x, dtype=np.float64)
    return BatchLogistic(names, mean, scale, theta[:d], float(theta[d]), clip)
