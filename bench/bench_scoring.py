"""Scoring: events/s through one worker process, event-to-score latency, state bytes/customer.

The simulator's events are produced to a topic first; then one real scoring process
(``python -m churnwatch_scoring``: worker + outbox relay + health app) consumes them. Infra: a
broker and PostgreSQL started for the run, or ``CW_BENCH_KAFKA_BOOTSTRAP`` and
``CW_BENCH_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

from bench.harness import Benchmark, Context, Metric, Target
from bench.infra import infra, service_available, wait_for_worker

SEED = 7
CUSTOMERS = 5_000
DAYS = 40
QUICK_DAYS = 10
LATENCY_RATE = 1_000  # events/s, open loop
LATENCY_SECONDS = 30
PARTITIONS = 6


def _available() -> str | None:
    return service_available("churnwatch_scoring.app", "churnwatch_scoring")


def _simulate(ctx: Context, days: int) -> list[bytes]:
    out = ctx.workdir / "scoring-sim.jsonl"
    cmd = [
        ctx.python, "-m", "churnwatch_sim.cli", "run", "--customers", str(CUSTOMERS),
        "--days", str(days), "--seed", str(SEED), "--out", str(out), "--no-progress",
    ]  # fmt: skip
    subprocess.run(cmd, cwd=ctx.root, check=True, capture_output=True)
    lines = out.read_bytes().splitlines()
    out.unlink()
    return [line for line in lines if line.strip()]


async def _produce(bootstrap: str, topic: str, lines: list[bytes], rate: float | None) -> None:
    """Keyed by customer; ``rate``: open loop at that many events/s with a send-time header."""
    from churnwatch_runtime.kafka import make_producer
    from churnwatch_sim.sinks import customer_key

    producer = make_producer(bootstrap, linger_ms=5 if rate else 50)
    await producer.start()
    try:
        pending = []
        started = time.perf_counter()
        for i, line in enumerate(lines):
            if rate:
                wait = started + i / rate - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            headers = [("cw-trace-sent-at", repr(time.time()).encode())] if rate else None
            key = customer_key(line.decode()).encode()
            pending.append(await producer.send(topic, line, key=key, headers=headers))
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _state_bytes(db_url: str) -> tuple[float, int, int]:
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("+asyncpg", "").replace("+psycopg", ""))
    try:
        row = await conn.fetchrow(
            "SELECT avg(length(state) + coalesce(length(retail_stats), 0)),"
            " max(length(state) + coalesce(length(retail_stats), 0)), count(*)"
            " FROM customer_profiles"
        )
        assert row is not None
        return float(row[0]), int(row[1]), int(row[2])
    finally:
        await conn.close()


async def _latencies(bootstrap: str, topic: str, stop: asyncio.Event) -> list[float]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="latest")
    await consumer.start()
    out: list[float] = []
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for records in batch.values():
                for r in records:
                    for k, v in r.headers or ():
                        if k == "cw-trace-sent-at":
                            out.append(now - float(v.decode()))
    finally:
        await consumer.stop()
    return out


async def _kpi_share(port: int) -> float:
    """The KPI hook's share of the worker's batch time, from its own /metrics (one run: the
    machine's other load inflates both alike)."""
    import httpx

    try:
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.HTTPError:
        return float("nan")
    values = {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line.startswith(("cw_scoring_kpi_seconds_total", "cw_scoring_batch_seconds_sum"))
    }
    batch = values.get("cw_scoring_batch_seconds_sum", 0.0)
    return values.get("cw_scoring_kpi_seconds_total", 0.0) / batch if batch else 0.0


def _run(ctx: Context) -> list[Metric]:
    days = QUICK_DAYS if ctx.quick else DAYS
    lines = _simulate(ctx, days)
    with infra(ctx) as (bootstrap, db_url):
        return asyncio.run(_measure(ctx, bootstrap, db_url, lines, days))


async def _measure(
    ctx: Context, bootstrap: str, db_url: str, lines: list[bytes], days: int
) -> list[Metric]:
    cut = len(lines) - LATENCY_RATE * (5 if ctx.quick else LATENCY_SECONDS)
    bulk, steady = lines[:cut], lines[cut:]
    from churnwatch_runtime.infra._proc import free_port
    from churnwatch_runtime.kafka import ensure_topics

    tag = f"b{int(time.time())}"
    events, scores = f"bench.{tag}.events", f"bench.{tag}.scores"
    await ensure_topics(bootstrap, [events, scores, f"bench.{tag}.dlq"], partitions=PARTITIONS)
    await _produce(bootstrap, events, bulk, None)
    group = f"bench-scoring-{tag}"
    env = dict(os.environ)
    env.update(
        CW_METRICS_AUTH="off",  # /metrics read below without a key (a private port)
        CW_KAFKA_BOOTSTRAP=bootstrap, DATABASE_URL=db_url, CW_TOPIC_EVENTS=events,
        CW_TOPIC_SCORES=scores, CW_TOPIC_EVENTS_DLQ=f"bench.{tag}.dlq",
        CW_SCORING_GROUP_ID=group, CW_SCORING_PORT=str(free_port()), CW_LOG_LEVEL="WARNING",
    )  # fmt: skip
    log = (ctx.workdir / "scoring.log").open("wb")
    proc = subprocess.Popen(
        [ctx.python, "-m", "churnwatch_scoring"], env=env, stdout=log, stderr=log, cwd=ctx.root
    )
    try:
        first_at, first_n = await wait_for_worker(
            db_url, group, lambda n, _: n > 0, proc, name="scoring"
        )
        end_at, _ = await wait_for_worker(
            db_url, group, lambda n, o: n >= len(bulk) and o == 0, proc, name="scoring"
        )
        rate = (len(bulk) - first_n) / (end_at - first_at)
        mean_b, max_b, customers = await _state_bytes(db_url)
        stop = asyncio.Event()
        reader = asyncio.create_task(_latencies(bootstrap, scores, stop))
        await asyncio.sleep(2)
        await _produce(bootstrap, events, steady, LATENCY_RATE)
        await wait_for_worker(
            db_url, group, lambda n, o: n >= len(lines) and o == 0, proc, name="scoring"
        )
        await asyncio.sleep(1)
        stop.set()
        delays = sorted(await reader)
        kpi_share = await _kpi_share(int(env["CW_SCORING_PORT"]))
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()
    p99 = delays[min(len(delays) - 1, int(0.99 * len(delays)))] * 1000 if delays else float("nan")
    p50 = delays[len(delays) // 2] * 1000 if delays else float("nan")
    cmd = "python -m bench --only scoring"
    return [
        Metric(
            "scoring_events_per_s",
            round(rate),
            "events/s",
            cmd,
            target=Target(">=", 10_000),
            notes=(
                f"{len(bulk):,} simulator events ({CUSTOMERS:,} customers, {days} days) "
                f"pre-produced to {PARTITIONS} partitions; one `python -m churnwatch_scoring` "
                "process (worker + outbox relay); from the first committed batch to the last "
                "offset committed with the outbox empty (cw.scores published). The KPI hook "
                f"took {kpi_share:.1%} of the batch time (cw_scoring_kpi_seconds over "
                "cw_scoring_batch_seconds_sum; CW_SCORING_KPIS=off turns it off)."
            ),
        ),
        Metric(
            "event_to_score_p99_ms",
            round(p99, 1),
            "ms",
            cmd,
            target=Target("<=", 500),
            notes=(
                f"{len(steady):,} events at {LATENCY_RATE:,}/s open loop into the caught-up "
                f"worker; send time header to the cw.scores record's arrival at a consumer "
                f"({len(delays):,} scores; p50 {p50:.0f} ms)."
            ),
        ),
        Metric(
            "state_bytes_per_customer",
            round(mean_b, 1),
            "bytes",
            cmd,
            target=Target("<=", 1024),
            notes=f"mean of state + retail_stats over {customers:,} profiles; max {max_b} bytes.",
        ),
    ]


BENCHMARKS = [
    Benchmark(
        name="scoring",
        run=_run,
        available=_available,
        description="scoring worker: events/s, event-to-score p99, state bytes per customer",
    )
]
