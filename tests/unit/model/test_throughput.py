"""Predict + learn throughput of the full model state (champion, challenger, metrics, ADWIN)."""

from __future__ import annotations

import time

from churnwatch.model import ModelState

from .conftest import START, replay
from .synthetic import stream


def test_predict_and_learn_throughput() -> None:
    warm, _ = replay(stream(1500, seed=71))  # past cold start: the learned path is measured
    assert warm.learned_active
    data = stream(5000, seed=72)
    started = time.perf_counter()
    for x in data.rows:
        warm.predict(x)
    predict_s = time.perf_counter() - started
    started = time.perf_counter()
    for x, y in zip(data.rows, data.labels, strict=True):
        warm.predict(x)
        warm.learn(x, bool(y), at=START)
    both_s = time.perf_counter() - started
    n = len(data.rows)
    print(f"\npredict {n / predict_s:,.0f}/s; predict+learn {n / both_s:,.0f}/s")
    # a loose floor so a shared CI box never flakes; the measured rate is reported in the docs
    assert n / predict_s > 5_000
    assert n / both_s > 1_500
    assert isinstance(warm, ModelState)
