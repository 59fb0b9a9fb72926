"""Prequential quality over a sliding window: exact AUC, log loss, Brier score, calibration table.

Each labelled snapshot is scored *before* it is learned and its ``(probability, label)`` pair
enters a window of the last N pairs (default 5,000). The summary is computed on demand from the
window, exactly: AUC by the Mann-Whitney rank sum with ties counted half (river's ``ROCAUC`` is
an approximation), log loss with probabilities clipped to ``[1e-15, 1 - 1e-15]``, Brier score,
and a calibration table of equal-count bins sorted by predicted probability.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata

__all__ = [
    "CalibrationBin",
    "MetricsSummary",
    "WindowedMetrics",
    "brier_score",
    "calibration_table",
    "log_loss",
    "roc_auc",
]

_CLIP = 1e-15


def roc_auc(labels: ArrayLike, scores: ArrayLike) -> float | None:
    """Exact area under the ROC curve; ``None`` unless both classes are present.

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc([0, 1, 1], [0.5, 0.5, 0.9])
    0.75
    >>> roc_auc([1, 1], [0.2, 0.3]) is None
    True
    """
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def log_loss(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """Mean negative log-likelihood (natural log), probabilities clipped 1e-15 from 0 and 1.

    >>> round(log_loss([1, 0], [0.8, 0.2]), 4)
    0.2231
    """
    y = np.asarray(labels, dtype=bool)
    p = np.clip(np.asarray(probabilities, dtype=np.float64), _CLIP, 1 - _CLIP)
    return float(-np.mean(np.where(y, np.log(p), np.log1p(-p))))


def brier_score(labels: ArrayLike, probabilities: ArrayLike) -> float:
    """Mean squared difference between probability and outcome.

    >>> round(brier_score([1, 0], [0.8, 0.2]), 4)
    0.04
    """
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    return float(np.mean((p - y) ** 2))


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One row of a calibration table: predictions in ``[low, high]``."""

    low: float
    high: float
    count: int
    predicted: float
    observed: float


def calibration_table(
    labels: ArrayLike, probabilities: ArrayLike, bins: int = 10
) -> list[CalibrationBin]:
    """Equal-count bins (deciles by default) of the predictions, sorted: mean predicted
    probability vs observed churn rate.

    >>> rows = calibration_table([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.6, 0.7, 0.9], bins=2)
    >>> [(r.count, round(r.predicted, 2), round(r.observed, 2)) for r in rows]
    [(3, 0.2, 0.33), (3, 0.73, 0.67)]
    """
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    rows = []
    for idx in np.array_split(order, min(bins, p.size)):
        if idx.size:
            rows.append(
                CalibrationBin(
                    low=float(p[idx[0]]),
                    high=float(p[idx[-1]]),
                    count=int(idx.size),
                    predicted=float(p[idx].mean()),
                    observed=float(y[idx].mean()),
                )
            )
    return rows


@dataclass(frozen=True, slots=True)
class MetricsSummary:
    """The window's metrics; ``auc`` is ``None`` until both classes are in the window."""

    count: int
    positives: int
    auc: float | None
    log_loss: float | None
    brier: float | None
    calibration: tuple[CalibrationBin, ...]


class WindowedMetrics:
    """The last ``window`` prequential ``(probability, label)`` pairs and their metrics.

    Examples
    --------
    >>> m = WindowedMetrics(window=3)
    >>> for p, y in [(0.9, True), (0.2, False), (0.7, True), (0.4, False)]:
    ...     m.add(p, y)
    >>> s = m.summary(bins=2)
    >>> s.count, s.positives, s.auc
    (3, 1, 1.0)
    """

    def __init__(self, window: int = 5000) -> None:
        self.window = window
        self._p: deque[float] = deque(maxlen=window)
        self._y: deque[bool] = deque(maxlen=window)
        self.seen = 0

    def add(self, probability: float, label: bool) -> None:
        """Add one prediction made before its label was learned."""
        self._p.append(float(probability))
        self._y.append(bool(label))
        self.seen += 1

    def __len__(self) -> int:
        return len(self._y)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The window as ``(labels, probabilities)`` arrays, oldest first."""
        y = np.fromiter(self._y, dtype=bool, count=len(self._y))
        p = np.fromiter(self._p, dtype=np.float64, count=len(self._p))
        return y, p

    def summary(self, bins: int = 10) -> MetricsSummary:
        """Exact metrics over the window."""
        y, p = self.arrays()
        if y.size == 0:
            return MetricsSummary(0, 0, None, None, None, ())
        return MetricsSummary(
            count=int(y.size),
            positives=int(y.sum()),
            auc=roc_auc(y, p),
            log_loss=log_loss(y, p),
            brier=brier_score(y, p),
            calibration=tuple(calibration_table(y, p, bins)),
        )
