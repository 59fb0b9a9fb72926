"""The learned path of a warm model state: `predict` is pure, `learn` keeps scoring sane.

Speed is measured by ``python -m bench --only model_speed`` (bench/bench_model_speed.py), not
asserted here: a shared CI machine makes any rate floor flaky.
"""

from __future__ import annotations

from churnwatch.model import ModelState

from .conftest import START, replay
from .synthetic import stream


def test_predict_on_the_learned_path_never_changes_the_state() -> None:
    warm, _ = replay(stream(1500, seed=71))  # past cold start: the learned path answers
    assert warm.learned_active
    before = warm.to_bytes()
    data = stream(2000, seed=72)
    first = [warm.predict(x).probability for x in data.rows]
    assert warm.to_bytes() == before
    assert [warm.predict(x).probability for x in data.rows] == first
    assert all(0.0 < p < 1.0 for p in first)
    assert len({round(p, 6) for p in first}) > 100  # it discriminates, not a constant


def test_learning_more_labels_moves_scores_and_counts_them() -> None:
    warm, _ = replay(stream(1500, seed=71))
    labels, version = warm.labels, warm.version
    data = stream(1000, seed=73)
    before = [warm.predict(x).probability for x in data.rows[:50]]
    for x, y in zip(data.rows, data.labels, strict=True):
        warm.learn(x, bool(y), at=START)
    assert warm.labels == labels + 1000
    assert warm.version != version  # the version names the labels learned
    assert [warm.predict(x).probability for x in data.rows[:50]] != before
    assert isinstance(ModelState.from_bytes(warm.to_bytes()), ModelState)
