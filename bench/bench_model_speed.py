"""Model speed: predict and predict + learn per second on a warm `ModelState`.

The full state of the learner (champion, challenger, calibration, metrics, ADWIN) on the
synthetic 7-feature stream of the model's unit tests, past the cold start so the learned path
is measured. In-process, one core, no Kafka/PostgreSQL: the model's own cost, not the service's.
Moved here from the unit suite, where a rate floor failed on a loaded machine.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.harness import Benchmark, Context, Metric
from churnwatch.model import ModelState
from tests.unit.model.synthetic import stream

START = datetime(2024, 1, 1, tzinfo=UTC)
WARM_LABELS = 1_500
ROWS, QUICK_ROWS = 20_000, 5_000


def _warm() -> ModelState:
    """A state past its cold start (the learned champion answers `predict`)."""
    data = stream(WARM_LABELS, seed=71)
    state = ModelState()
    for i, (x, y) in enumerate(zip(data.rows, data.labels, strict=True)):
        state.learn(x, bool(y), at=START + timedelta(minutes=i))
    if not state.learned_active:
        raise RuntimeError("the warm-up did not leave the cold start")
    return state


def _speed(ctx: Context) -> list[Metric]:
    rows = QUICK_ROWS if ctx.quick else ROWS
    state = _warm()
    data = stream(rows, seed=72)
    started = time.perf_counter()
    for x in data.rows:
        state.predict(x)
    predict_rate = rows / (time.perf_counter() - started)
    started = time.perf_counter()
    for x, y in zip(data.rows, data.labels, strict=True):
        state.predict(x)
        state.learn(x, bool(y), at=START)
    both_rate = rows / (time.perf_counter() - started)
    command = "python -m bench --only model_speed" + (" --quick" if ctx.quick else "")
    notes = (
        f"{rows:,} rows of the 7-feature synthetic stream (tests/unit/model/synthetic.py) on a "
        f"state warmed with {WARM_LABELS:,} labels; one process, one core."
    )
    return [
        Metric("model_predict_per_s", round(predict_rate), "predictions/s", command, notes=notes),
        Metric(
            "model_predict_learn_per_s",
            round(both_rate),
            "labels/s",
            command,
            notes=notes + " Each row: predict, then learn (champion + challenger, drift, duel).",
        ),
    ]


BENCHMARKS = [
    Benchmark(
        name="model_speed",
        run=_speed,
        description="predict and predict + learn rates of a warm model state",
    )
]
