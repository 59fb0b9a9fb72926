"""Cost per customer and per event as the population grows (issue 14; docs/scaling.md).

- ``python -m bench --only storage10k`` (≈ 8 min on 2 cores): the simulator's 30 days at 10,000
  customers three times: before (uncompressed topics, daily snapshots), the defaults (zstd,
  weekly snapshots, every score published), and ``CW_SCORING_PUBLISH=changes``;
- ``--only storage100k`` (≈ 25 min): 100,000 customers, 30 days, the defaults;
- ``--only storagelabels`` (≈ 8 min): 90 days at 2,000 customers with the learner and the
  retention job running, snapshots daily (the old policy) and weekly (the default);
- ``--only scale1m``: 1,000,000 customers, 30 days (hours on 2 cores).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from collections.abc import Callable
from typing import Any

from bench.harness import Benchmark, Context, Metric, Reference, Target
from bench.infra import infra, service_available
from bench.scale_run import RunResult, score_run

BEFORE = {"CW_KAFKA_COMPRESSION": "none", "CW_SCORING_SNAPSHOT_GAP_DAYS": "1"}
CMD = "python -m bench --only storage10k --only storage100k --only storagelabels"
LABEL_DAYS, LABEL_CUSTOMERS = 90, 2_000


def _available() -> str | None:
    return service_available("churnwatch_scoring.app", "churnwatch_scoring")


def _available_1m() -> str | None:
    if os.environ.get("CW_BENCH_1M") != "1":
        return "hours on 2 cores: `make bench-1m` (CW_BENCH_1M=1) runs it"
    return _available()


def _flat(r: RunResult) -> tuple[float, float]:
    """RSS (MiB) at half way and at the end: flat after warm-up when they are close."""
    half = [m for share, m in r.rss_mib if share >= 0.5]
    return (half[0] if half else float("nan")), max(m for _, m in r.rss_mib)


def _per_table(r: RunResult, live: bool = True) -> str:
    sizes = r.db_live if live else r.db_bytes
    parts = sorted(sizes.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{t} {b / r.customers:,.0f}" for t, b in parts if b / r.customers >= 1)


async def _runs(
    ctx: Context, bootstrap: str, db_url: str, sizes: list[int], labels: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    home = ctx.workdir / "kafka"  # one broker for the part; a fresh database per run
    days = 30
    if 10_000 in sizes:
        n = 3_000 if ctx.quick else 10_000
        base = {"CW_SCORING_SILENCE": "true"}
        out["before"] = await score_run(
            ctx, bootstrap, db_url, home, customers=n, days=days,
            env_extra={**base, **BEFORE},
        )  # fmt: skip
        out["10k"] = await score_run(
            ctx, bootstrap, db_url, home, customers=n, days=days, env_extra=base
        )
        out["10k_changes"] = await score_run(
            ctx, bootstrap, db_url, home, customers=n, days=days,
            env_extra={**base, "CW_SCORING_PUBLISH": "changes"},
        )  # fmt: skip
    for size in (s for s in sizes if s > 10_000):
        out[f"{size}"] = await score_run(
            ctx, bootstrap, db_url, home, customers=size, days=days, env_extra={},
            timeout=6 * 3600,
        )  # fmt: skip
    if labels:
        keep = {"CW_RETENTION_LABEL_SNAPSHOTS_DAYS": "0", "CW_RETENTION_EVERY_S": "2"}
        n, d = (500, 60) if ctx.quick else (LABEL_CUSTOMERS, LABEL_DAYS)
        for gap in ("1", "7"):
            out[f"labels_gap{gap}"] = await score_run(
                ctx, bootstrap, db_url, home, customers=n, days=d, learner=True,
                env_extra={**keep, "CW_SCORING_SNAPSHOT_GAP_DAYS": gap},
            )  # fmt: skip
    return out


def _metrics(out: dict[str, Any]) -> list[Metric]:
    ms: list[Metric] = []
    if "10k" in out:
        before, after, changes = out["before"], out["10k"], out["10k_changes"]
        for topic in ("cw.events", "cw.scores"):
            b = before.topic_bytes[topic] / before.events
            a = after.topic_bytes[topic] / after.events
            ms.append(
                Metric(
                    f"kafka_bytes_per_event_{topic.split('.')[1]}",
                    round(a, 1),
                    "bytes/event",
                    CMD,
                    peer=Reference("uncompressed (before)", round(b, 1), "bytes/event"),
                    notes=(
                        f"{topic} segment bytes on the broker's disk over {after.events:,} "
                        f"events ({after.customers:,} customers, {after.days} days), zstd "
                        f"(CW_KAFKA_COMPRESSION, default) vs none: {b / a:.1f}x smaller. "
                        + (
                            f"cw.scores messages per event: {after.scores / after.events:.2f} "
                            f"every score, {changes.scores / changes.events:.2f} with "
                            f"CW_SCORING_PUBLISH=changes "
                            f"({changes.topic_bytes[topic] / changes.events:.1f} bytes/event)."
                            if topic == "cw.scores"
                            else "cw.events.raw carries the same JSON, so the same ratio."
                        )
                    ),
                )
            )
        ms.append(
            Metric(
                "scores_per_event_publish_changes",
                round(changes.scores / changes.events, 3),
                "messages/event",
                CMD,
                peer=Reference(
                    "every score", round(after.scores / after.events, 3), "messages/event"
                ),
                notes=f"CW_SCORING_PUBLISH=changes (PublishPolicy), {after.customers:,} customers.",
            )
        )
    sized = [(k, v) for k, v in out.items() if k in ("10k", "100000", "1000000")]
    for _, r in sized:
        suffix = "1m" if r.customers >= 1_000_000 else f"{r.customers // 1000}k"
        half, peak = _flat(r)
        ms.append(
            Metric(
                f"scoring_events_per_s_{suffix}",
                round(r.events_per_s),
                "events/s",
                CMD,
                target=Target(">=", 10_000),
                notes=f"{r.events:,} events, {r.customers:,} customers, {r.days} days; one worker.",
            )
        )
        ms.append(
            Metric(
                f"scoring_cpu_us_per_event_{suffix}",
                round(r.cpu_us_per_event, 1),
                "µs CPU/event",
                CMD,
                notes="user+system CPU of the scoring process (worker + relay) over the run.",
            )
        )
        ms.append(
            Metric(
                f"scoring_rss_mib_{suffix}",
                round(peak),
                "MiB",
                CMD,
                notes=f"peak RSS; {half:.0f} MiB at half the events (flat after warm-up if close).",
            )
        )
        ms.append(
            Metric(
                f"db_bytes_per_customer_30d_{suffix}",
                round(r.live_per_customer),
                "bytes",
                CMD,
                target=Target("<=", 5_000),
                notes=f"pg_total_relation_size per customer after VACUUM FULL (live rows, as at "
                f"a real-time event rate), by table: {_per_table(r)}. Right after the "
                f"{r.days}-day replay in minutes, before any vacuum: {r.db_per_customer:,.0f} "
                f"({_per_table(r, live=False)}). Outbox peak {r.outbox_max_rows:,} rows.",
            )
        )
    for gap in ("1", "7"):
        r = out.get(f"labels_gap{gap}")
        if r is None or not r.labels:
            continue
        first_day = r.labels[0][0]
        timeline = [
            (round(day - first_day), rows / r.customers, res / r.customers)
            for day, rows, res in r.labels
        ]
        marks = {d: (rows, res) for d, rows, res in timeline}
        picks = [d for d in sorted(marks) if d % 15 == 0 or d == max(marks)]
        live = r.db_live.get("label_snapshots", 0) / r.customers
        replayed = r.db_bytes.get("label_snapshots", 0) / r.customers
        ms.append(
            Metric(
                f"label_snapshots_per_customer_90d_gap{gap}",
                round(timeline[-1][1], 2),
                "rows/customer",
                CMD,
                notes=(
                    f"{r.customers:,} customers, {r.days} days, learner + retention job "
                    f"(CW_RETENTION_LABEL_SNAPSHOTS_DAYS=0), snapshot gap {gap} d. Rows per "
                    "customer by watermark day: "
                    + "; ".join(f"d{d}: {marks[d][0]:.1f}" for d in picks)
                    + f". label_snapshots {live:,.0f} bytes/customer after VACUUM FULL"
                    f" ({replayed:,.0f} right after the replay, dead rows of its updates and"
                    " deletes included)."
                ),
            )
        )
    return ms


def _part(sizes: list[int], labels: bool) -> Callable[[Context], list[Metric]]:
    def run(ctx: Context) -> list[Metric]:
        with infra(ctx) as (bootstrap, db_url):
            out = asyncio.run(_runs(ctx, bootstrap, db_url, sizes, labels))
        dump = {k: dataclasses.asdict(v) for k, v in out.items()}
        (ctx.workdir / "scale-runs.json").write_text(json.dumps(dump, default=str))
        return _metrics(out)

    return run


BENCHMARKS = [
    Benchmark("storage10k", _part([10_000], False), _available,
              "10k customers: compression before/after, publish policy, bytes per customer"),
    Benchmark("storage100k", _part([100_000], False), _available,
              "100k customers, 30 days: events/s, CPU/event, RSS, bytes per customer"),
    Benchmark("storagelabels", _part([], True), _available,
              "90 days with the learner: label_snapshots rows per customer, daily vs weekly"),
    Benchmark("scale1m", _part([1_000_000], False), _available_1m,
              "1,000,000 customers, 30 days (hours on 2 cores)"),
]  # fmt: skip
