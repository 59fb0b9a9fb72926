"""Trained model states shared by the model tests (each is built once per session)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from churnwatch.model import ColdStartRule, ModelConfig, ModelRecord, ModelState

from .synthetic import TRUE_WEIGHTS, Stream, stream

START = datetime(2024, 1, 1, tzinfo=UTC)
COUNT_ONLY_RULE = ColdStartRule(paired=False)
COUNT_ONLY = ModelConfig(cold_start=COUNT_ONLY_RULE)
# after the drift, recency and complaints stop mattering, the trend's sign flips, noise matters
DRIFTED_WEIGHTS = np.array([0.0, 1.0, -0.2, 0.8, 0.2, -0.001, 0.8])
assert DRIFTED_WEIGHTS.shape == TRUE_WEIGHTS.shape


def replay(
    data: Stream, config: ModelConfig | None = None
) -> tuple[ModelState, list[tuple[int, ModelRecord]]]:
    """Learn the stream in order, one label a minute; the records with their label index.

    Without a config, the count-only switch (`ColdStartRule(paired=False)`): these tests are
    about the learners; the guarded switch has its own (test_switch.py).
    """
    state = ModelState(config or COUNT_ONLY)
    records: list[tuple[int, ModelRecord]] = []
    for i, (x, y) in enumerate(zip(data.rows, data.labels, strict=True)):
        at = START + timedelta(minutes=i)
        records += [(i, r) for r in state.learn(x, bool(y), at=at)]
    return state, records


@pytest.fixture(scope="session")
def stationary() -> Stream:
    return stream(12_000, seed=11)


@pytest.fixture(scope="session")
def stationary_run(stationary: Stream) -> tuple[ModelState, list[tuple[int, ModelRecord]]]:
    return replay(stationary)


DRIFT_AT = 8_000


@pytest.fixture(scope="session")
def drifting() -> Stream:
    return stream(16_000, seed=12, drift_at=DRIFT_AT, drifted_weights=DRIFTED_WEIGHTS)


@pytest.fixture(scope="session")
def drifting_run(drifting: Stream) -> tuple[ModelState, list[tuple[int, ModelRecord]]]:
    return replay(drifting)
