"""Restart invariance at the issue's scale (issue 16): does a restart change a decision?

The simulator's 30 days for 5,000 customers (seed 7) are produced once to a 6-partition topic.
A calibration run (one clean ``python -m churnwatch_scoring``) gives the cut points
(``churnwatch_scoring.cuts`` on its ``latest_scores``); then, each on a fresh database with that
``population_cuts`` row pinned (the model is the prior, the CLV parameters the defaults: no
learner): two clean runs (batches of 5,000 and 1,000 records), three SIGKILLs at ~20/50/80% of
the offsets with a restart after each, three SIGTERMs likewise. Every column of
``latest_scores``, the decoded profiles, the history tables, ``silence_due``, the watermarks and
the ``cw.scores`` ids with their values are compared with the first clean run
(`tests.support.restart`). Infra as in the scoring benchmark.
"""

from __future__ import annotations

import asyncio
import signal

from bench.harness import Benchmark, Context, Metric, Target
from bench.infra import infra, service_available

SEED = 7
CUSTOMERS, QUICK_CUSTOMERS = 5_000, 1_000
DAYS = 30
PARTITIONS = 6
KILLS = ((0.2, signal.SIGKILL), (0.5, signal.SIGKILL), (0.8, signal.SIGKILL))
TERMS = ((0.2, signal.SIGTERM), (0.5, signal.SIGTERM), (0.8, signal.SIGTERM))


def _available() -> str | None:
    return service_available("churnwatch_scoring.cuts", "restart-invariant scoring")


def _run(ctx: Context) -> list[Metric]:
    from tests.support.restart import simulate

    customers = QUICK_CUSTOMERS if ctx.quick else CUSTOMERS
    lines = simulate(customers, DAYS, SEED, ctx.workdir / "restart-sim.jsonl")
    with infra(ctx) as (bootstrap, db_url):
        return asyncio.run(_measure(ctx, bootstrap, db_url, lines, customers))


async def _measure(
    ctx: Context, bootstrap: str, server_url: str, lines: list[bytes], customers: int
) -> list[Metric]:
    import time

    from tests.support.restart import (
        Run,
        alerts_decisions,
        create_database,
        diff,
        differing_customers,
        execute,
        pin_cuts,
        produce,
        read_cuts,
        snapshot,
    )

    tag = f"r{int(time.time())}"
    topic = f"bench.{tag}.events"
    await produce(bootstrap, topic, lines, PARTITIONS)
    total = len(lines)
    calibration = Run("calib", create_database(server_url, f"cw_{tag}_calib"), topic, total)
    await execute(calibration, bootstrap, ctx.workdir, timeout=3600)
    cuts = await read_cuts(calibration.url)
    runs = [
        Run("clean", "", topic, total, max_records=5_000),
        Run("clean2", "", topic, total, max_records=1_000),
        Run("killed", "", topic, total, KILLS, max_records=5_000),
        Run("termed", "", topic, total, TERMS, max_records=5_000),
    ]
    snaps = []
    for run in runs:
        run.url = create_database(server_url, f"cw_{tag}_{run.name}")
        await pin_cuts(run.url, cuts)
        await execute(run, bootstrap, ctx.workdir, timeout=3600)
        snaps.append(await snapshot(run.url, bootstrap, run.scores_topic))
    diffs = {run.name: diff(snaps[0], snap) for run, snap in zip(runs[1:], snaps[1:], strict=True)}
    # the alerts service fed from the clean run and from the killed run's cw.scores
    alerts_clean = await alerts_decisions(runs[0], bootstrap, ctx.workdir)
    alerts_killed = await alerts_decisions(runs[2], bootstrap, ctx.workdir)
    alert_diff = diff(alerts_clean, alerts_killed)
    alert_mismatches = sum(sum(c.values()) for c in alert_diff.values())
    n_tasks, n_actions = len(alerts_clean["tasks"]), len(alerts_clean["cw.actions"])
    restarted = ("killed", "termed")
    tier_changes = max(differing_customers(diffs[n], "latest_scores", "tier") for n in restarted)
    mismatches = max(
        sum(sum(columns.values()) for columns in d.values()) for d in diffs.values()
    )  # every (table, key, column) that differs, worst run against the first clean run
    clean = snaps[0]
    tiers: dict[str, int] = {}
    for row in clean["latest_scores"].values():
        tiers[row["tier"]] = tiers.get(row["tier"], 0) + 1
    ids = len(clean["cw.scores"])
    stops = {r.name: r.stopped_at for r in runs if r.stopped_at}
    secs = {r.name: round(r.seconds) for r in (calibration, *runs)}
    cmd = "python -m bench --only restart"
    scale = (
        f"{total:,} simulator events ({customers:,} customers, {DAYS} days, seed {SEED}, "
        f"{PARTITIONS} partitions); runs: clean (5,000-record batches), clean2 (1,000), killed "
        f"(SIGKILL at ~20/50/80% + restart), termed (SIGTERM likewise); offsets at the stops "
        f"{stops}; seconds per run {secs}; cut points pinned from a calibration run ({tiers})"
    )
    return [
        Metric(
            "restart_tier_changes",
            tier_changes,
            "customers",
            cmd,
            target=Target("<=", 0),
            notes=f"customers whose tier differs from the first clean run (worst of killed and "
            f"termed; issue: 826-866). {scale}.",
        ),
        Metric(
            "replay_score_mismatches",
            mismatches,
            "values",
            cmd,
            target=Target("<=", 0),
            notes=f"(table, customer, column) values that differ from the first clean run, worst "
            f"of clean2/killed/termed, over latest_scores, decoded profiles, score_history, "
            f"lifecycle_transitions, label_snapshots, silence_due, partition_watermarks and the "
            f"{ids:,} cw.scores ids with their values; per run: {diffs}.",
        ),
        Metric(
            "restart_alert_mismatches",
            alert_mismatches,
            "values",
            cmd,
            target=Target("<=", 0),
            notes=f"python -m churnwatch_alerts (default playbooks) fed from the clean run's and "
            f"from the SIGKILLed run's cw.scores: (task or action id, column) values that differ "
            f"over {n_tasks:,} tasks and {n_actions:,} cw.actions ids with their values (issue "
            f"time and wall-clock columns left out); {alert_diff}.",
        ),
    ]


BENCHMARKS = [
    Benchmark(
        name="restart",
        run=_run,
        available=_available,
        description="restart invariance: tiers, scores, histories after SIGKILL/SIGTERM restarts",
    )
]
