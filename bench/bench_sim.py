"""The customer simulator: generation rate to a file, and peak memory with 1M customers."""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from typing import Any

import orjson

from bench.harness import Benchmark, Context, Measured, Metric, Reference, Target, run_measured

SIM_MODULE = "churnwatch_sim.cli"
SEED = 7
RATE_CUSTOMERS = 100_000
RATE_DAYS = 30  # ~6M events, ~1.5 GiB of JSON lines
MEMORY_CUSTOMERS = 1_000_000
MEMORY_DAYS = 30  # ~70M events


def _available() -> str | None:
    if importlib.util.find_spec("churnwatch_sim") is None:
        return "churnwatch_sim is not installed"
    if importlib.util.find_spec(SIM_MODULE) is None:
        return f"the simulator CLI ({SIM_MODULE}) does not exist yet"
    return None


def sim_command(ctx: Context, *, customers: int, days: int, out: Path, summary: Path) -> list[str]:
    """The simulator run measured: ``churnwatch simulate run`` to a JSON lines file."""
    return [
        ctx.python, "-m", SIM_MODULE, "run",
        "--customers", str(customers), "--days", str(days), "--seed", str(SEED),
        "--out", str(out), "--summary-json", str(summary), "--no-progress",
    ]  # fmt: skip


def _shown(cmd: list[str], ctx: Context) -> str:
    """The command as a reader would type it (``churnwatch simulate``, no scratch paths)."""
    args = cmd[3 : cmd.index("--summary-json")]
    return " ".join(["churnwatch", "simulate", *args]).replace(str(ctx.workdir), "$TMP")


def _simulate(
    ctx: Context, *, customers: int, days: int, out: Path
) -> tuple[Measured, dict[str, Any], list[str]]:
    summary = ctx.workdir / "summary.json"
    cmd = sim_command(ctx, customers=customers, days=days, out=out, summary=summary)
    run = run_measured(cmd, cwd=ctx.root)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({run.returncode}): {run.stderr[-2000:]}")
    return run, orjson.loads(summary.read_bytes()), cmd


def _events_per_s(ctx: Context) -> Metric:
    days = 5 if ctx.quick else RATE_DAYS
    out = ctx.workdir / "sim.jsonl"
    run, summary, cmd = _simulate(ctx, customers=RATE_CUSTOMERS, days=days, out=out)
    events = _count_lines(out)
    ceiling = _copy_ceiling(out, ctx.workdir / "copy.jsonl", events)
    size_gib = out.stat().st_size / 2**30
    out.unlink()
    return Metric(
        name="sim_events_per_s",
        value=round(events / run.wall_s),
        unit="events/s",
        command=_shown(cmd, ctx),
        ceiling=Reference("copying its output file (1 MiB blocks)", ceiling, "events/s"),
        target=Target(">=", 200_000),
        notes=(
            f"{events:,} events ({size_gib:.1f} GiB) from {RATE_CUSTOMERS:,} customers over "
            f"{days} days in {run.wall_s:.1f} s wall clock, start-up and population included "
            f"(the simulator's own figure, generation loop only: "
            f"{summary['events_per_s']:,.0f} events/s); peak RSS {run.max_rss_mib:,.0f} MiB."
        ),
    )


def _memory(ctx: Context) -> Metric:
    days = 3 if ctx.quick else MEMORY_DAYS
    run, summary, cmd = _simulate(ctx, customers=MEMORY_CUSTOMERS, days=days, out=Path(os.devnull))
    baseline = run_measured([ctx.python, "-c", f"import {SIM_MODULE}"], cwd=ctx.root)
    return Metric(
        name="sim_memory_mib_1m_customers",
        value=round(run.max_rss_mib, 1),
        unit="MiB",
        command=_shown(cmd, ctx),
        peer=Reference("interpreter + imports only", round(baseline.max_rss_mib, 1), "MiB"),
        target=Target("<=", 2048),
        notes=(
            f"peak RSS of the simulator process (wait4): {MEMORY_CUSTOMERS:,} customers, "
            f"{days} days, {summary['events']:,} events written to {os.devnull} "
            f"in {run.wall_s:.0f} s."
        ),
    )


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            count += chunk.count(b"\n")
    return count


def _copy_ceiling(source: Path, target: Path, events: int) -> float:
    """Copying the simulator's output in 1 MiB blocks: no generator writes that file faster."""
    started = time.perf_counter()
    with source.open("rb") as reader, target.open("wb") as writer:
        while block := reader.read(1 << 20):
            writer.write(block)
    elapsed = time.perf_counter() - started
    target.unlink()
    return round(events / elapsed)


BENCHMARKS = [
    Benchmark(
        name="sim_events_per_s",
        run=lambda ctx: [_events_per_s(ctx)],
        available=_available,
        description=f"simulator -> JSON lines file, {RATE_CUSTOMERS:,} customers (events/s)",
    ),
    Benchmark(
        name="sim_memory_mib_1m_customers",
        run=lambda ctx: [_memory(ctx)],
        available=_available,
        description=f"simulator peak RSS with {MEMORY_CUSTOMERS:,} customers",
    ),
]
