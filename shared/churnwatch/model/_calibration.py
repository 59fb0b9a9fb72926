"""Online probability calibration: Platt scaling over a sliding window.

A learner's raw log-odds ``z`` become ``sigmoid(a z + b)``. The pairs ``(z, label)`` come from
*prequential* scoring (each ``z`` was computed before its example was learned), so the fit sees
only out-of-sample predictions. Every ``refit_every`` labels, a few Newton steps maximise the
window's log-likelihood with a ridge pulling ``(a, b)`` towards the identity ``(1, 0)``; with
too few labels of either class the calibrator stays the identity. Platt scaling is monotone, so
it never changes a ranking (AUC), and linear in ``z``, so per-feature contributions stay
additive: they are multiplied by the slope ``a``.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.typing import NDArray

from ._config import CalibrationConfig

__all__ = ["PlattCalibrator"]

_NEWTON_STEPS = 25

FloatArray = NDArray[np.float64]


class PlattCalibrator:
    """``sigmoid(slope × z + offset)``, refitted online over a sliding window.

    Examples
    --------
    A learner twice too confident (its log-odds are twice the truth's) gets a slope near 1/2:

    >>> import math, random
    >>> rng = random.Random(1)
    >>> cal = PlattCalibrator(CalibrationConfig(window=4000, refit_every=500, ridge=0.0))
    >>> for _ in range(4000):
    ...     true_z = rng.gauss(-1.0, 1.0)
    ...     cal.learn(2 * true_z, rng.random() < 1 / (1 + math.exp(-true_z)))
    >>> round(cal.slope, 1), abs(cal.offset) < 0.2
    (0.5, True)
    """

    def __init__(self, config: CalibrationConfig | None = None) -> None:
        self.config = config or CalibrationConfig()
        self._z: deque[float] = deque(maxlen=self.config.window)
        self._y: deque[bool] = deque(maxlen=self.config.window)
        self._since_fit = 0
        self.slope = 1.0
        self.offset = 0.0

    def calibrate(self, z: float) -> float:
        """The calibrated log-odds of a raw log-odds ``z``."""
        return self.slope * z + self.offset

    def learn(self, z: float, label: bool) -> None:
        """Add one prequential pair; refit when due."""
        self._z.append(float(z))
        self._y.append(bool(label))
        self._since_fit += 1
        if self._since_fit >= self.config.refit_every:
            self._since_fit = 0
            self._refit()

    def _refit(self) -> None:
        y = np.fromiter(self._y, dtype=np.float64, count=len(self._y))
        positives = float(y.sum())
        if min(positives, len(y) - positives) < self.config.min_per_class:
            return
        z = np.fromiter(self._z, dtype=np.float64, count=len(self._z))
        theta = _newton(z, y, np.array([self.slope, self.offset]), self.config.ridge)
        if np.all(np.isfinite(theta)) and theta[0] > 0:
            self.slope, self.offset = float(theta[0]), float(theta[1])

    @property
    def fitted(self) -> bool:
        """Whether the calibrator has moved away from the identity."""
        return not (self.slope == 1.0 and self.offset == 0.0)

    def __repr__(self) -> str:
        return f"PlattCalibrator(slope={self.slope:.4g}, offset={self.offset:.4g})"


def _penalised_nll(theta: FloatArray, z: FloatArray, y: FloatArray, ridge: float) -> float:
    eta = theta[0] * z + theta[1]
    penalty = 0.5 * ridge * ((theta[0] - 1.0) ** 2 + theta[1] ** 2)
    return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + penalty)


def _newton(z: FloatArray, y: FloatArray, theta: FloatArray, ridge: float) -> FloatArray:
    """Damped Newton on the convex penalised log-likelihood of ``sigmoid(a z + b)``."""
    prior = np.array([1.0, 0.0])
    loss = _penalised_nll(theta, z, y, ridge)
    for _ in range(_NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(theta[0] * z + theta[1], -35.0, 35.0)))
        r, w = p - y, p * (1.0 - p)
        grad = np.array([r @ z, r.sum()]) + ridge * (theta - prior)
        hzz, hz1, h11 = w @ (z * z), w @ z, w.sum()
        hess = np.array([[hzz + ridge, hz1], [hz1, h11 + ridge]]) + 1e-9 * np.eye(2)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        scale = 1.0
        while scale > 1e-6:  # backtrack until the loss goes down
            candidate = theta - scale * step
            new_loss = _penalised_nll(candidate, z, y, ridge)
            if new_loss <= loss:
                break
            scale /= 2
        else:
            break
        theta, converged = candidate, loss - new_loss < 1e-10 * max(1.0, loss)
        loss = new_loss
        if converged:
            break
    return theta
