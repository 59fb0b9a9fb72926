"""``python -m bench --only faults``: the fault-injection comparison of `bench.faults`.

The same harness as ``tests/faults`` (``make test-long``): a simulated history of 200,000
events (``--quick``: 20,000) through ingest (HTTP and Kafka), scoring, the learner, alerts and
webhooks, once clean and once under twelve seed-chosen faults; records events lost, events
doubled and duplicate tasks (each must be 0) with the rest of the comparison in the notes.
"""

from __future__ import annotations

from bench.harness import Benchmark, Context, Metric, Target
from bench.infra import services_available

CMD = "python -m bench --only faults"

_available = services_available(
    ("churnwatch_ingest.app", "churnwatch_ingest"),
    ("churnwatch_scoring.app", "churnwatch_scoring"),
    ("churnwatch_alerts.app", "churnwatch_alerts"),
)


def _run(ctx: Context) -> list[Metric]:
    from bench.faults_report import compare_runs, config_for, table

    cfg = config_for(20_000 if ctx.quick else 200_000)
    c = compare_runs(cfg, ctx.workdir)
    report = table(c)
    print(report)
    cmd = CMD + (" --quick" if ctx.quick else "")
    notes = (
        f"{c.accepted:,} events accepted ({cfg.customers:,} customers, {cfg.days} days, seed "
        f"{cfg.seed}; 1 customer in {cfg.raw_share} through cw.events.raw, the rest POSTed); "
        f"faults: {', '.join(c.faults)}. Against the clean run: profiles differing "
        f"{c.profiles_differ}, latest scores differing {c.scores_differ} "
        f"{dict(c.score_columns)}, tasks missing/extra {c.tasks_missing}/{c.tasks_extra}, "
        f"actions missing/extra {c.actions_missing}/{c.actions_extra}, webhook rows differing "
        f"{c.deliveries_differ}; lag at the end {c.lag_faults}; unplanned exits "
        f"{c.unplanned_exits}; {c.seconds[0]:.0f} s clean, {c.seconds[1]:.0f} s with faults. "
        "Model pinned to the prior (learner runs but never activates a model or fits CLV)."
    )
    zero = Target("<=", 0)
    return [
        Metric("faults_events_lost", c.lost, "events", cmd, target=zero, notes=notes),
        Metric("faults_events_doubled", c.doubled, "events", cmd, target=zero),
        Metric("faults_duplicate_tasks", c.duplicate_tasks, "tasks", cmd, target=zero),
    ]


BENCHMARKS = [
    Benchmark(
        name="faults",
        run=_run,
        available=_available,
        description="200,000 events, clean vs 12 injected faults: lost, doubled, duplicate tasks",
    )
]
