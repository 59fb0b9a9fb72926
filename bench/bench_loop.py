"""Closed loop with the simulator through the real services: measured vs true uplift per playbook.

`bench.loop` runs it: the simulator in this process (replay clock), ``churnwatch_scoring``,
its learner and ``churnwatch_alerts`` as real processes on a real broker and PostgreSQL
(`bench.infra.infra`), a barrier after every simulated day, actions back into the simulator,
the uplift job once at the end. ``bench.bench_uplift`` is the same loop in pure domain code.

Metrics: ``uplift_abs_err_vs_truth_services`` — |measured uplift − mean true uplift| of the
default save-team playbook (``save_call_vip``) over its resolved exposures, the measured
95% interval in the notes — only when that playbook has resolved exposures in both arms; and
``closed_loop_events_per_s`` (simulated events through the whole loop per wall second, the
barriers included) always, with the per-playbook table in its notes.

``python -m bench.bench_loop --customers 2000 --days 120 [--vip-holdout 0.5]`` runs one
loop on a broker and PostgreSQL started for it and prints the table.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from bench.harness import ROOT, Benchmark, Context, Metric, Reference
from bench.infra import infra, services_available
from bench.loop import HORIZON_DAYS, PLAYBOOK, LoopConfig, LoopResult, closed_loop
from bench.loop_report import table

CUSTOMERS = 5_000
DAYS = 180
QUICK_CUSTOMERS = 2_000
QUICK_DAYS = 120
VIP_HOLDOUT = 0.5  # save_call_vip is rare by design: at the shipped 10% its control arm is empty


_available = services_available(
    ("churnwatch_sim", "churnwatch_sim"),
    ("churnwatch_scoring.app", "churnwatch_scoring"),
    ("churnwatch_alerts.app", "churnwatch_alerts"),
)


def run(ctx: Context, cfg: LoopConfig) -> LoopResult:
    """One loop on the bench's broker and a fresh PostgreSQL (`bench.infra.infra`)."""
    with infra(ctx) as (bootstrap, db_url):
        return asyncio.run(closed_loop(ctx, bootstrap, db_url, cfg))


def summary(r: LoopResult) -> str:
    """The run in words: sizes, counts, timings, the loop's checks and the table."""
    cfg, arms = r.config, r.arms
    late = sum(e.late for e in r.exposed.values())
    diffs = [
        abs(e.applied_uplift - e.true_uplift)
        for e in r.exposed.values()
        if e.applied_uplift is not None
    ]
    oracle = f"max |oracle - apply_action| {max(diffs):.2e}" if diffs else "no applied action"
    treated = {a for a, e in r.exposed.items() if e.arm == "treated"}
    return (
        f"Closed loop THROUGH THE SERVICES (bench/loop.py): simulator (replay clock, "
        f"{cfg.customers:,} customers x {cfg.days} days, seed {cfg.seed}) -> KafkaSink "
        f"straight to cw.events ({cfg.partitions} partitions; no raw validator) -> "
        f"python -m churnwatch_scoring + its learner -> cw.scores -> python -m "
        f"churnwatch_alerts (default playbooks as shipped{_vip(cfg)}) -> cw.actions -> "
        f"Simulator.apply_action, with a barrier after each simulated day "
        f"(committed offsets in PostgreSQL = end offsets, outbox empty, actions read). "
        f"{r.events:,} events, {r.scores:,} scores, {len(r.exposed):,} exposures "
        f"({arms['treated']:,} treated / {arms['control']:,} control; {late} read a day "
        f"late, {r.missed} never read); {r.on_topic:,} messages on cw.actions for "
        f"{len(r.received):,} distinct action ids; actions applied to the simulator: "
        f"{dict(r.statuses)}; {len(treated - r.received)} treated exposures whose action "
        f"never arrived; {r.left_waiting} actions left undrained; {oracle}. Wall "
        f"{r.seconds:.0f} s for the days ({r.barrier_seconds:.0f} s waiting at barriers). "
        f"Uplift job once at the end: {r.uplift_status}, watermark {r.watermark}, horizon "
        f"{HORIZON_DAYS} d. Per playbook (uplift_reports segment 'all', 95% Newcombe "
        f"interval; true = mean oracle uplift over the same resolved exposures, both arms):\n"
        + table(r.rows)
    )


def _vip(cfg: LoopConfig) -> str:
    if cfg.vip_holdout is None:
        return ""
    return (
        f"; save_call_vip v2 applied through the catalog with a {cfg.vip_holdout:.0%} holdout "
        f"for the measurement, shipped 10%"
    )


def _metrics(ctx: Context, r: LoopResult) -> list[Metric]:
    command = "python -m bench --only loop" + (" --quick" if ctx.quick else "")
    notes = summary(r)
    out = [
        Metric(
            "closed_loop_events_per_s",
            round(r.events / r.seconds) if r.seconds else 0.0,
            "events/s",
            command,
            notes=notes,
        )
    ]
    row = r.rows.get(PLAYBOOK)
    if row is not None and row.abs_err is not None and row.true_uplift is not None:
        assert row.measured is not None
        m = row.measured
        out.append(
            Metric(
                "uplift_abs_err_vs_truth_services",
                round(row.abs_err, 4),
                "",
                command,
                peer=Reference(
                    "true uplift (simulator oracle, same exposures)", round(row.true_uplift, 4), ""
                ),
                notes=(
                    f"{PLAYBOOK}: measured {m.estimate:+.4f} (95% CI {m.low:+.4f} to "
                    f"{m.high:+.4f}) over {row.treated:,} treated / {row.control:,} control "
                    f"resolved exposures; true {row.true_uplift:+.4f}; truth "
                    f"{'inside' if row.covered else 'OUTSIDE'} the interval. " + notes
                ),
            )
        )
    return out


def _bench(ctx: Context) -> list[Metric]:
    customers = QUICK_CUSTOMERS if ctx.quick else CUSTOMERS
    days = QUICK_DAYS if ctx.quick else DAYS
    return _metrics(ctx, run(ctx, LoopConfig(customers, days, vip_holdout=VIP_HOLDOUT)))


BENCHMARKS = [
    Benchmark(
        name="loop",
        run=_bench,
        available=_available,
        description="closed loop with the simulator through the real services: "
        "measured vs true uplift per playbook",
    )
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_loop")
    parser.add_argument("--customers", type=int, default=QUICK_CUSTOMERS)
    parser.add_argument("--days", type=int, default=QUICK_DAYS)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--vip-holdout",
        type=float,
        default=None,
        help="apply save_call_vip v2 with this holdout share first (default: as shipped)",
    )
    args = parser.parse_args(argv)
    cfg = LoopConfig(args.customers, args.days, args.seed, vip_holdout=args.vip_holdout)
    with tempfile.TemporaryDirectory(prefix="cw-loop-") as scratch:
        ctx = Context(root=ROOT, workdir=Path(scratch), python=sys.executable)
        result = run(ctx, cfg)
    print(summary(result))


if __name__ == "__main__":
    main()
