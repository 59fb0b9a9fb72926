"""``python -m bench --only soak``: a steady load for 10 minutes through every service, then a
burst at five times the rate the pipeline sustained.

Real processes on the bench's broker and PostgreSQL (`bench.infra.infra`), started by the
fault suite's `Supervisor`: ingest (HTTP) and its raw validator, scoring (+ relay), the learner
and alerts (+ relay, webhooks off). This process is the load generator (`bench.soak_load`,
open loop: a POST of ``BATCH`` events every ``BATCH / rate`` s, each in its own task; a 503 is
retried after its Retry-After, never dropped) and samples, every ``SAMPLE_S``: each service's
RSS, scoring's and alerts' consumer lag. Event → task latency as in ``bench.bench_e2e``:
trigger customers (consent profile + failed payment in one POST) to the first ``cw.actions``
message for them.

RSS growth: each process's mean RSS over the last fifth of the soak against its mean over the
minute after the warm-up (the first fifth), in per cent; the figure is the largest. Burst:
``BURST_S`` at 5x the rate scoring sustained during the soak (at most 5x the nominal rate);
`burst_events_lost`: events ingest acknowledged that no profile reflects after the drain;
``burst_drain_s``: from the burst's end until every lag and the outbox are 0.

The stall of the first runs (2026-12-04: ingest idle, ~96 established and ~86 CLOSE-WAIT
connections here, no POST completing) was this process: thousands of POSTs queued inside
httpcore's connection pool, which rescans them all on every request and answer, so the event
loop did nothing else (reproduced: 73% CPU in ``_assign_requests_to_connections``, one POST
answered in ten minutes, ingest holding no request). `bench.soak_load` now hands at most
``IN_FLIGHT`` POSTs to the client at once; ingest giving back every connection after producer
timeouts is tested in tests/integration/ingest/test_overload_recovery.py.
"""

from __future__ import annotations

import asyncio
import os
import time

from bench.harness import Benchmark, Context, Metric, Target
from bench.infra import infra, ingest_key, services_available

RATE = 1_000
SECONDS, QUICK_SECONDS = 600, 60
BURST_S = 30
SAMPLE_S = 5.0
PARTITIONS = 6
CMD = "python -m bench --only soak"

_available = services_available(
    ("churnwatch_ingest.app", "churnwatch_ingest"),
    ("churnwatch_scoring.app", "churnwatch_scoring"),
    ("churnwatch_alerts.app", "churnwatch_alerts"),
)


def growth_pct(samples: list[tuple[float, int]], seconds: float) -> float:
    """Mean of the last fifth against the mean of the fifth after the first (warm-up).

    >>> growth_pct([(t, 100 if t < 40 else 105) for t in range(100)], 100)
    5.0
    """
    base = [m for t, m in samples if seconds * 0.2 <= t < seconds * 0.4]
    end = [m for t, m in samples if t >= seconds * 0.8]
    if not base or not end:
        return float("nan")
    return round(100 * (sum(end) / len(end) - sum(base) / len(base)) / (sum(base) / len(base)), 1)


async def _measure(ctx: Context, bootstrap: str, db_url: str) -> list[Metric]:
    from bench.faults_infra import Supervisor
    from bench.soak_load import Load, Probe, actions_reader, drain, first_actions, pct, steady
    from churnwatch_runtime.infra._proc import free_port
    from churnwatch_runtime.kafka import ensure_topics

    tag = f"s{int(time.time())}"
    topics = {k: f"soak.{tag}.{k}" for k in ("events", "raw", "dlq", "scores", "actions")}
    await ensure_topics(bootstrap, list(topics.values()), partitions=PARTITIONS)
    ports = {k: free_port() for k in ("ingest", "raw", "scoring", "alerts")}
    group = f"soak-scoring-{tag}"
    env = dict(os.environ)
    env.update(
        CW_KAFKA_BOOTSTRAP=bootstrap, DATABASE_URL=db_url, CW_LOG_LEVEL="WARNING",
        CW_TOPIC_PARTITIONS=str(PARTITIONS), CW_TOPIC_EVENTS=topics["events"],
        CW_TOPIC_EVENTS_RAW=topics["raw"], CW_TOPIC_EVENTS_DLQ=topics["dlq"],
        CW_TOPIC_SCORES=topics["scores"], CW_TOPIC_ACTIONS=topics["actions"],
        CW_INGEST_PORT=str(ports["ingest"]), CW_INGEST_RAW_METRICS_PORT=str(ports["raw"]),
        CW_INGEST_RAW_GROUP_ID=f"soak-raw-{tag}",
        CW_SCORING_GROUP_ID=group, CW_SCORING_PORT=str(ports["scoring"]),
        CW_LEARNER_GROUP_ID=group, CW_ALERTS_GROUP_ID=f"soak-alerts-{tag}",
        CW_ALERTS_PORT=str(ports["alerts"]), CW_ALERTS_UPLIFT_WATERMARK_GROUP=group,
    )  # fmt: skip
    seconds = QUICK_SECONDS if ctx.quick else SECONDS
    sup = Supervisor(env, ctx.workdir / "logs")
    load_before = os.getloadavg()
    for name in ("ingest", "ingest-raw", "scoring", "learner", "alerts"):
        sup.start(name)
    probe = Probe(db_url, bootstrap, topics, group, f"soak-alerts-{tag}", PARTITIONS)
    try:
        from bench.infra import wait_ready

        await wait_ready(f"http://127.0.0.1:{ports['ingest']}/readyz", None, timeout=120)
        await wait_ready(f"http://127.0.0.1:{ports['scoring']}/readyz", None, timeout=120)
        await wait_ready(f"http://127.0.0.1:{ports['alerts']}/readyz", None, timeout=120)
        key = await ingest_key(db_url)
        base = f"http://127.0.0.1:{ports['ingest']}"
        load = Load(tag)
        stop = asyncio.Event()
        reader = asyncio.create_task(actions_reader(bootstrap, topics["actions"], stop))
        sampler = asyncio.create_task(probe.sample(sup, SAMPLE_S))
        t0 = time.perf_counter()
        soak = await steady(base, key, load, RATE, seconds, triggers=20.0)
        soak_wall = time.perf_counter() - t0
        soak_samples = list(probe.samples)
        consumed_rate = probe.consumed_rate(seconds)
        sustainable = min(RATE, consumed_rate)
        burst_rate = 5 * sustainable
        b0 = time.perf_counter()
        burst = await steady(base, key, load, burst_rate, BURST_S, triggers=0.0)
        burst_end = time.perf_counter()
        await drain(probe)
        drain_s = time.perf_counter() - burst_end
        sampler.cancel()
        await asyncio.sleep(1.0)
        stop.set()
        messages = await reader
        reflected = await probe.events_reflected()
    finally:
        sup.stop_all()
    load_after = os.getloadavg()
    acknowledged = soak.acknowledged + burst.acknowledged
    lost = max(0, acknowledged - reflected)
    delays = first_actions(messages, load.sent)
    growth = {
        name: growth_pct([(t, s[name]) for t, s, _ in soak_samples if name in s], seconds)
        for name in ("ingest", "ingest-raw", "scoring", "learner", "alerts")
    }
    rss_end = {n: v // 1024 for n, v in (soak_samples[-1][1] if soak_samples else {}).items()}
    max_lag = max((lag["scoring"] for _, _, lag in soak_samples), default=0)
    max_alerts_lag = max((lag["alerts"] for _, _, lag in soak_samples), default=0)
    machine = (
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, on "
        f"{os.cpu_count()} cores shared with other work"
    )
    cmd = CMD + (" --quick" if ctx.quick else "")
    worst = max(growth, key=lambda n: growth[n] if growth[n] == growth[n] else -1e9)
    return [
        Metric(
            "soak_rss_growth_pct",
            growth[worst],
            "%",
            cmd,
            target=Target("<=", 10),
            notes=(
                f"{seconds} s at {RATE:,} events/s offered ({soak.acknowledged / soak_wall:,.0f}"
                f" acknowledged/s, {soak.pushed_back} POSTs pushed back with 503); RSS growth "
                f"after warm-up per process {growth} (largest: {worst}); RSS at the end MiB "
                f"{rss_end}; scoring lag max {max_lag:,} records, alerts lag max "
                f"{max_alerts_lag:,}; scoring consumed {consumed_rate:,.0f} events/s. "
                f"{machine}."
            ),
        ),
        Metric(
            "soak_event_to_task_p99_ms",
            round(pct(delays, 0.99), 1),
            "ms",
            cmd,
            target=Target("<=", 1_000),
            notes=(
                f"{len(delays):,} trigger customers' first action during the soak; p50 "
                f"{pct(delays, 0.5):.0f} ms, max {pct(delays, 1.0):.0f} ms. {machine}."
            ),
        ),
        Metric(
            "soak_lag_max",
            max_lag,
            "records",
            cmd,
            notes=f"scoring's consumer lag on cw.events, sampled every {SAMPLE_S:.0f} s; "
            f"alerts' max {max_alerts_lag:,}.",
        ),
        Metric(
            "burst_events_lost",
            lost,
            "events",
            cmd,
            target=Target("<=", 0),
            notes=(
                f"{BURST_S} s burst offered at {burst_rate:,.0f} events/s (5x the "
                f"{sustainable:,.0f}/s sustained): {burst.acknowledged:,} acknowledged, "
                f"{burst.pushed_back:,} POSTs answered 503 + Retry-After and resent, "
                f"{burst.errors} other errors; {acknowledged:,} acknowledged in all, "
                f"{reflected:,} events in the profiles after the drain."
            ),
        ),
        Metric(
            "burst_drain_s",
            round(drain_s, 1),
            "s",
            cmd,
            notes=f"burst end to every lag and the outbox at 0 ({time.perf_counter() - b0:.0f}"
            f" s from the burst's start). {machine}.",
        ),
    ]


def _run(ctx: Context) -> list[Metric]:
    with infra(ctx) as (bootstrap, db_url):
        return asyncio.run(_measure(ctx, bootstrap, db_url))


BENCHMARKS = [
    Benchmark(
        name="soak",
        run=_run,
        available=_available,
        description="10 min at 1,000 events/s through every service, then a 5x burst",
    )
]
