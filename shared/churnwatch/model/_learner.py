"""The online learner: river's ``StandardScaler | LogisticRegression``, explained per feature.

`LinearLearner` keeps the scaler and the regression apart (rather than in a river pipeline) so
that one pass over the standardised features gives both the log-odds and each feature's
contribution ``weight × standardised value``: the contribution says how far this customer's
value of the feature moves the risk away from the *average* labelled customer's.

It learns one labelled snapshot at a time: the scaler first (its running mean and variance),
then the regression on the standardised features. Prediction never changes the state. A
non-finite value (NaN, ±inf) counts as absent, as in the prior: it is neither learned nor
contributes (river's sparse dicts treat an absent feature as the average one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from river import linear_model, optim, preprocessing

from ._config import LearnerSpec

__all__ = ["LinearLearner"]


class LinearLearner:
    """An online logistic regression on standardised features.

    Examples
    --------
    >>> learner = LinearLearner(LearnerSpec(lr=0.1))
    >>> for k in range(200):
    ...     late = float(k % 4)
    ...     learner.learn({"failed_payments": late}, late >= 2)
    >>> learner.log_odds({"failed_payments": 3.0}) > 0 > learner.log_odds({"failed_payments": 0.0})
    True
    >>> learner.learned
    200
    """

    def __init__(self, spec: LearnerSpec) -> None:
        self.spec = spec
        opt = optim.Adam(spec.lr) if spec.optimizer == "adam" else optim.SGD(spec.lr)
        self._scaler: Any = preprocessing.StandardScaler()  # river is untyped
        self._regression: Any = linear_model.LogisticRegression(
            optimizer=opt, l2=spec.l2, intercept_lr=spec.intercept_lr
        )
        self.learned = 0

    def explain(self, features: Mapping[str, float]) -> tuple[float, float, dict[str, float]]:
        """The raw log-odds, the intercept, and each feature's contribution to the log-odds.

        ``log_odds == intercept + sum(contributions.values())`` up to rounding.
        """
        z = self._scaler.transform_one(_finite(features))
        weights = self._regression.weights
        parts = {k: weights.get(k, 0.0) * v for k, v in z.items()}
        intercept = float(self._regression.intercept)
        return intercept + sum(parts.values()), intercept, parts

    def log_odds(self, features: Mapping[str, float]) -> float:
        """The raw (uncalibrated) log-odds of churn."""
        return self.explain(features)[0]

    def learn(self, features: Mapping[str, float], label: bool) -> None:
        """Learn one labelled example (scaler statistics, then one optimiser step)."""
        x = _finite(features)
        self._scaler.learn_one(x)
        self._regression.learn_one(self._scaler.transform_one(x), bool(label))
        self.learned += 1

    def log_odds_then_learn(self, features: Mapping[str, float], label: bool) -> float:
        """The raw log-odds *before* learning the example, then learn it (prequential step).

        The optimiser step uses the features standardised with the statistics from before this
        example (one scaling pass instead of two; the difference fades as 1/n).
        """
        x = _finite(features)
        z = self._scaler.transform_one(x)
        weights = self._regression.weights
        raw = float(self._regression.intercept) + sum(weights.get(k, 0.0) * v for k, v in z.items())
        self._scaler.learn_one(x)
        self._regression.learn_one(z, bool(label))
        self.learned += 1
        return float(raw)


def _finite(features: Mapping[str, float]) -> dict[str, float]:
    return {k: v for k, v in features.items() if math.isfinite(v)}
