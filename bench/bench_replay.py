"""Real-data replay: the CDNOW loader (``churnwatch replay cdnow``) writing JSON lines."""

from __future__ import annotations

import importlib.util
import statistics
import time

import orjson

from bench.harness import Benchmark, Context, Metric, Reference, run_measured


def _available() -> str | None:
    if importlib.util.find_spec("churnwatch_sim.loaders.cli") is None:
        return "churnwatch_sim.loaders is not installed"
    if importlib.util.find_spec("lifetimes") is None:
        return "lifetimes (which ships the CDNOW file) is not installed"
    return None


def _run(ctx: Context) -> list[Metric]:
    out = ctx.workdir / "cdnow.jsonl"
    cmd = [ctx.python, "-m", "churnwatch_sim.loaders.cli", "cdnow", "--out", str(out)]
    rates = []
    for _ in range(1 if ctx.quick else 3):
        run = run_measured(cmd, cwd=ctx.root)
        if run.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({run.returncode}): {run.stderr[-2000:]}")
        events = out.read_bytes().count(b"\n")
        rates.append(events / run.wall_s)
    ceiling = _write_ceiling(ctx, out.read_bytes().splitlines())
    return [
        Metric(
            name="cdnow_replay_events_per_s",
            value=round(statistics.median(rates)),
            unit="events/s",
            command="churnwatch replay cdnow --out FILE",
            ceiling=Reference(
                "orjson dumps + write of the same events, in-process", ceiling, "events/s"
            ),
            notes=(
                f"{events:,} CDNOW purchases; wall clock of the whole command (interpreter "
                f"start-up included), median of {len(rates)} run(s)."
            ),
        )
    ]


def _write_ceiling(ctx: Context, lines: list[bytes]) -> float:
    """Serialising and writing the already-built events: no Python loader can beat it."""
    events = [orjson.loads(line) for line in lines]
    target = ctx.workdir / "ceiling.jsonl"
    best = float("inf")
    for _ in range(1 if ctx.quick else 3):
        started = time.perf_counter()
        with target.open("wb", buffering=1 << 20) as handle:
            for event in events:
                handle.write(orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE))
        best = min(best, time.perf_counter() - started)
    return round(len(events) / best)


BENCHMARKS = [
    Benchmark(
        name="cdnow_replay_events_per_s",
        run=_run,
        available=_available,
        description="CDNOW (lifetimes) -> purchase events as JSON lines",
    )
]
