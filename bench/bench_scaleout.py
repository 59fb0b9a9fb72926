"""``python -m bench --only scaleout``: one scoring worker against two in one consumer group.

A simulated history (10,000 customers x 10 days, ~196,000 events; ``--quick`` 2,000 x 10) is
produced once to a 6-partition ``cw.events``; then, each on a fresh database and its own group,
``python -m churnwatch_scoring`` is started once alone and once as two processes (each with its
relay) that split the partitions. Throughput: events committed per second between 10 % and 90 %
of the topic (start-up and the tail excluded), sampled from ``consumer_offsets``. The ratio
two/one is what docs/scaling.md quotes; on this 2-core machine the broker, PostgreSQL and both
workers share the cores, so it measures contention as much as scale-out.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from bench.faults_infra import Cluster
from bench.harness import Benchmark, Context, Metric, Reference
from bench.infra import service_available

CMD = "python -m bench --only scaleout"
PARTITIONS = 6


def _available() -> str | None:
    return service_available("churnwatch_scoring.app", "churnwatch_scoring")


def rate_between(points: list[tuple[float, int]], total: int) -> float:
    """Events/s between the first samples at or past 10 % and 90 % of ``total``.

    >>> rate_between([(0, 0), (1, 10), (2, 50), (3, 90), (4, 100)], 100)
    40.0
    """
    lo = next((p for p in points if p[1] >= 0.1 * total), None)
    hi = next((p for p in points if p[1] >= 0.9 * total), None)
    if lo is None or hi is None or hi[0] <= lo[0]:
        return float("nan")
    return (hi[1] - lo[1]) / (hi[0] - lo[0])


async def _produce(bootstrap: str, topic: str, customers: int, days: int) -> int:
    from churnwatch_runtime.kafka import make_producer
    from churnwatch_sim import SimConfig, Simulator

    sim = Simulator(SimConfig(days=days, seed=5).with_overrides(
        **{"population.customers": customers}))  # fmt: skip
    producer = make_producer(bootstrap, linger_ms=50)
    await producer.start()
    n = 0
    try:
        while not sim.done:
            for chunk in sim.step().chunks(20_000):
                acks = []
                for line in chunk:
                    start = line.index('"customer_id":"') + 15
                    key = line[start : line.index('"', start)].encode()
                    acks.append(await producer.send(topic, line.encode(), key=key))
                await asyncio.gather(*acks)
                n += len(chunk)
    finally:
        await producer.stop()
    return n


async def _one(
    cluster: Cluster, topic: str, total: int, workers: int, workdir: Path
) -> tuple[float, float]:
    """(events/s between 10 % and 90 %, wall seconds to the end) for ``workers`` processes."""
    import asyncpg

    from bench.faults_infra import Supervisor
    from churnwatch_runtime.infra._proc import free_port

    name = f"scaleout{workers}"
    db_url = await asyncio.to_thread(cluster.database, name)
    group = f"{name}-{int(time.time())}"
    env = dict(os.environ)
    env.update(
        CW_KAFKA_BOOTSTRAP=cluster.broker.bootstrap, DATABASE_URL=db_url,
        CW_LOG_LEVEL="WARNING", CW_TOPIC_PARTITIONS=str(PARTITIONS), CW_TOPIC_EVENTS=topic,
        CW_TOPIC_SCORES=f"{topic}.scores.{workers}", CW_SCORING_GROUP_ID=group,
        CW_SCORING_PORT=str(free_port()),
    )  # fmt: skip
    sup = Supervisor(env, workdir / f"logs-{name}")
    sup.extra_env["scoring-b"] = {"CW_SCORING_PORT": str(free_port())}
    conn = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    points: list[tuple[float, int]] = []
    try:
        t0 = time.perf_counter()
        for service in ("scoring", "scoring-b")[:workers]:
            sup.start(service)
        while True:
            n = int(await conn.fetchval(
                "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = $1",
                group))  # fmt: skip
            points.append((time.perf_counter() - t0, n))
            if n >= total:
                break
            for proc in sup.procs.values():
                if proc.poll() is not None:
                    raise RuntimeError(f"a scoring worker exited with {proc.returncode}")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
        sup.stop_all()
    return rate_between(points, total), points[-1][0]


def _run(ctx: Context) -> list[Metric]:
    async def main() -> list[Metric]:
        from churnwatch_runtime.kafka import ensure_topics

        customers = 2_000 if ctx.quick else 10_000
        cluster = Cluster(ctx.workdir / "infra")
        await asyncio.to_thread(cluster.start)
        try:
            topic = "scaleout.events"
            await ensure_topics(cluster.broker.bootstrap, [topic], partitions=PARTITIONS)
            total = await _produce(cluster.broker.bootstrap, topic, customers, 10)
            load = os.getloadavg()[0]
            one, wall1 = await _one(cluster, topic, total, 1, ctx.workdir)
            two, wall2 = await _one(cluster, topic, total, 2, ctx.workdir)
            after = os.getloadavg()[0]
        finally:
            await asyncio.to_thread(cluster.stop)
        cmd = CMD + (" --quick" if ctx.quick else "")
        return [
            Metric(
                "scaleout_two_workers_ratio",
                round(two / one, 2),
                "x",
                cmd,
                peer=Reference("one worker", round(one), "events/s"),
                notes=(
                    f"{total:,} events ({customers:,} customers, 10 days) on {PARTITIONS} "
                    f"partitions: one worker {one:,.0f} events/s ({wall1:.0f} s to the end), "
                    f"two workers in one group {two:,.0f} events/s ({wall2:.0f} s); "
                    f"{os.cpu_count()} cores shared by the broker, PostgreSQL and the workers; "
                    f"load average {load:.1f} before, {after:.1f} after."
                ),
            ),
        ]

    return asyncio.run(main())


BENCHMARKS = [
    Benchmark(
        name="scaleout",
        run=_run,
        available=_available,
        description="scoring throughput: two workers in one group against one",
    )
]
