"""What a scoring worker loads: the `Scorer` protocol and the compact `ServingModel`.

The learner process owns the full `ModelState` (metrics windows, challenger, duel: ~350 KB
pickled); scoring workers only need the champion's weights, scaler and calibration (or the
prior in cold start) and the version, a few KB. `ModelState.serving()` copies exactly that into
a `ServingModel`, whose `to_bytes` the learner publishes and workers hot-load with `from_bytes`.
Both classes answer `predict` with the same code, so they give identical scores.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Protocol, TypeVar

from churnwatch.profile import ActivityVocabulary

from ._config import ModelConfig, TreatmentPolicy
from ._errors import IncompatibleCheckpoint
from ._learner import LinearLearner
from ._score import Score, band_for, sigmoid

__all__ = ["TREATED_FEATURE", "Scorer", "ServingModel"]

TREATED_FEATURE = "treated"
_FORMAT = "churnwatch.model.serving/2"
_T = TypeVar("_T")


class Scorer(Protocol):
    """Anything that scores features: `ModelState` and `ServingModel`."""

    @property
    def version(self) -> str: ...

    @property
    def activities(self) -> ActivityVocabulary: ...

    def predict(self, features: Mapping[str, float]) -> Score: ...


def score_features(
    config: ModelConfig,
    learner: LinearLearner | None,
    slope: float,
    offset: float,
    version: str,
    features: Mapping[str, float],
) -> Score:
    """The score of ``features`` by the prior (``learner is None``) or a calibrated learner."""
    if learner is None:
        z, parts = config.prior.explain(features)
        p = sigmoid(z)
        return Score(
            p,
            band_for(p, config.bands),
            parts,
            config.prior.intercept,
            version,
            config.horizon_days,
        )
    x = features
    if config.treatment is TreatmentPolicy.INDICATOR:
        x = {**features, TREATED_FEATURE: 0.0}
    raw, intercept, parts = learner.explain(x)
    contributions = {k: slope * v for k, v in parts.items()}
    baseline = slope * intercept + offset
    if config.treatment is TreatmentPolicy.INDICATOR:
        baseline += contributions.pop(TREATED_FEATURE, 0.0)
    p = sigmoid(slope * raw + offset)
    return Score(
        p, band_for(p, config.bands), contributions, baseline, version, config.horizon_days
    )


class ServingModel:
    """A read-only copy of the model as it scores now, with the activity vocabulary its
    features are built with (`activities`: workers pass it to ``features``).

    Examples
    --------
    >>> from churnwatch.model import ModelState
    >>> serving = ServingModel.from_bytes(ModelState().serving().to_bytes())
    >>> serving.version, serving.predict({"failed_payments_consecutive": 2.0}).band
    ('prior-v1', <Band.MEDIUM: 'medium'>)
    """

    def __init__(
        self,
        config: ModelConfig,
        learner: LinearLearner | None,
        slope: float,
        offset: float,
        version: str,
        activities: ActivityVocabulary | None = None,
    ) -> None:
        self.config = config
        self._learner = learner
        self._slope = slope
        self._offset = offset
        self._version = version
        if activities is not None:
            self._activities = activities

    _activities = ActivityVocabulary(())  # also what checkpoints from before it was kept load

    @property
    def activities(self) -> ActivityVocabulary:
        """The activity names the model reads (no names: none picked yet)."""
        return self._activities

    @property
    def version(self) -> str:
        """The version of the `ModelState` this copy was made from."""
        return self._version

    def predict(self, features: Mapping[str, float]) -> Score:
        """The churn score of one customer's features."""
        return score_features(
            self.config, self._learner, self._slope, self._offset, self._version, features
        )

    def to_bytes(self) -> bytes:
        """A versioned serving checkpoint (pickle)."""
        return pickle.dumps((_FORMAT, self), protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> ServingModel:
        """Load `to_bytes` output; `IncompatibleCheckpoint` otherwise. Trusted bytes only."""
        return load_checkpoint(data, _FORMAT, cls)


def load_checkpoint(data: bytes, fmt: str, cls: type[_T]) -> _T:
    """Unpickle ``(fmt, obj)`` and check both; `IncompatibleCheckpoint` otherwise.

    Pickle runs code from the bytes: load only checkpoints your own learner wrote.

    >>> load_checkpoint(pickle.dumps(("x/1", 3)), "x/1", int)
    3
    """
    try:
        loaded = pickle.loads(data)
    except Exception as exc:
        raise IncompatibleCheckpoint(f"unreadable model checkpoint: {exc}") from exc
    if not (isinstance(loaded, tuple) and len(loaded) == 2 and loaded[0] == fmt):
        raise IncompatibleCheckpoint(f"not a {fmt} checkpoint")
    if not isinstance(loaded[1], cls):
        raise IncompatibleCheckpoint(f"checkpoint does not hold a {cls.__name__}")
    return loaded[1]
