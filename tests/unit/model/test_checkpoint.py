"""Checkpoints: a pickled `ModelState` predicts and learns exactly like the original."""

from __future__ import annotations

import pickle

import pytest

from churnwatch.model import (
    IncompatibleCheckpoint,
    ModelConfig,
    ModelState,
    ServingModel,
    TreatmentPolicy,
)

from .conftest import COUNT_ONLY_RULE, START, replay
from .synthetic import stream


def test_round_trip_gives_identical_predictions_and_identical_learning() -> None:
    data = stream(3000, seed=51)
    state, _ = replay(stream(2500, seed=50))
    assert state.learned_active
    loaded = ModelState.from_bytes(state.to_bytes())
    assert loaded.version == state.version
    assert [loaded.predict(x) for x in data.rows[:500]] == [
        state.predict(x) for x in data.rows[:500]
    ]
    for x, y in zip(data.rows, data.labels, strict=True):  # both keep learning the same labels
        assert loaded.learn(x, bool(y), at=START) == state.learn(x, bool(y), at=START)
    assert [loaded.predict(x) for x in data.rows[-500:]] == [
        state.predict(x) for x in data.rows[-500:]
    ]
    assert loaded.quality() == state.quality()


def test_cold_start_state_round_trips_too() -> None:
    state = ModelState()
    loaded = ModelState.from_bytes(state.to_bytes())
    features = {"activity_recency_days": 30.0, "has_nps": 1.0, "nps_score": 2.0}
    assert loaded.predict(features) == state.predict(features)


@pytest.mark.parametrize("treatment", list(TreatmentPolicy))
def test_serving_copy_scores_like_the_state_and_is_small(treatment: TreatmentPolicy) -> None:
    state, _ = replay(
        stream(2500, seed=52), ModelConfig(cold_start=COUNT_ONLY_RULE, treatment=treatment)
    )
    assert state.learned_active
    data = stream(500, seed=53)
    serving = ServingModel.from_bytes(state.serving().to_bytes())
    assert serving.version == state.version
    assert [serving.predict(x) for x in data.rows] == [state.predict(x) for x in data.rows]
    assert len(state.serving().to_bytes()) * 20 < len(state.to_bytes())
    state.learn(data.rows[0], True, at=START)  # the copy does not follow the state
    assert serving.version != state.version
    assert serving.predict(data.rows[1]) != state.predict(data.rows[1])


@pytest.mark.parametrize(
    "data",
    [b"not a pickle", pickle.dumps({"a": 1}), pickle.dumps(("churnwatch.model/0", ModelState()))],
)
def test_foreign_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(IncompatibleCheckpoint):
        ModelState.from_bytes(data)


def test_serving_and_full_checkpoints_are_not_interchangeable() -> None:
    state = ModelState()
    with pytest.raises(IncompatibleCheckpoint):
        ServingModel.from_bytes(state.to_bytes())
    with pytest.raises(IncompatibleCheckpoint):
        ModelState.from_bytes(state.serving().to_bytes())
