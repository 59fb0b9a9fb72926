"""One scoring run at a given population, measured as an operator would see it (bench_scale).

The simulator's days are produced by its own Kafka sink straight to a topic (no file: 100,000
customers are 6.3M events), then one real ``python -m churnwatch_scoring`` process (worker +
relay) consumes them, optionally with a real learner process beside it. Measured: events/s, the
worker's CPU time per event (``/proc/<pid>/stat``), its RSS over the run, the database per table,
the topics' bytes on the broker's disk, and ``cw.scores`` messages per event.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import Context
from bench.infra import wait_for_worker, worker_progress

PARTITIONS = 6
SEED = 7
TABLES = (
    "label_snapshots", "customer_profiles", "latest_scores", "score_history", "silence_due",
    "lifecycle_transitions", "outbox", "kpi_daily", "label_feature_sets", "consumer_offsets",
)  # fmt: skip


@dataclass
class RunResult:
    customers: int
    days: int
    events: int
    events_per_s: float
    cpu_us_per_event: float
    rss_mib: list[tuple[float, float]]  # (share of events done, RSS MiB)
    db_bytes: dict[str, int]  # as the replay left them (dead rows of its updates included)
    db_live: dict[str, int]  # after VACUUM FULL: the live rows, as at a real-time event rate
    topic_bytes: dict[str, int]
    scores: int
    labels: list[tuple[float, int, int]] = field(default_factory=list)  # (day, rows, resolved)
    outbox_max_rows: int = 0

    @property
    def db_per_customer(self) -> float:
        return sum(self.db_bytes.values()) / self.customers

    @property
    def live_per_customer(self) -> float:
        return sum(self.db_live.values()) / self.customers


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def topic_log_bytes(kafka_home: Path, topic: str) -> int:
    """Bytes of ``topic``'s segments on the broker's disk (every partition)."""
    total = 0
    for part in kafka_home.rglob(f"{topic}-*"):
        if part.is_dir() and part.name.rsplit("-", 1)[0] == topic:
            total += sum(f.stat().st_size for f in part.glob("*.log"))
    return total


def simulate_to(
    ctx: Context, bootstrap: str, topic: str, customers: int, days: int, codec: str
) -> None:
    """The simulator's Kafka sink (compression ``codec``) writes ``days`` to ``topic``."""
    env = dict(os.environ, CW_KAFKA_COMPRESSION=codec)
    cmd = [
        ctx.python, "-m", "churnwatch_sim.cli", "run", "--customers", str(customers),
        "--days", str(days), "--seed", str(SEED), "--to", f"kafka://{bootstrap}/{topic}",
        "--no-progress",
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=ctx.root, capture_output=True, env=env)
    if done.returncode:
        raise RuntimeError(f"simulator: {done.stderr.decode()[-2000:]}")


async def end_offsets(bootstrap: str, topic: str) -> int:
    """Records in ``topic`` (sum of its partitions' end offsets; created with PARTITIONS)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return sum((await consumer.end_offsets(parts)).values())
    finally:
        await consumer.stop()


async def _sql(db_url: str, query: str, *args: Any) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("+asyncpg", "").replace("+psycopg", ""))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def fresh_database(server_url: str, name: str) -> str:
    """A new migrated database ``name`` on the server of ``server_url``; its URL."""
    from churnwatch_runtime.db import upgrade

    base, _, _ = server_url.rpartition("/")
    await _sql(server_url, f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    await asyncio.to_thread(upgrade, url)
    return url


async def table_bytes(db_url: str) -> dict[str, int]:
    rows = await _sql(
        db_url,
        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r'",
    )
    return {r[0]: int(r[1]) for r in rows if int(r[1]) > 0}


async def _labels(db_url: str, group: str) -> tuple[float, int, int] | None:
    rows = await _sql(
        db_url,
        "SELECT (SELECT min(watermark) FROM partition_watermarks WHERE group_id = $1),"
        " (SELECT count(*) FROM label_snapshots),"
        " (SELECT count(*) FROM label_snapshots WHERE resolved_at IS NOT NULL)",
        group,
    )
    if not rows or rows[0][0] is None:
        return None
    return rows[0][0].timestamp() / 86_400, int(rows[0][1]), int(rows[0][2])


async def score_run(
    ctx: Context,
    bootstrap: str,
    db_url: str,
    kafka_home: Path,
    *,
    customers: int,
    days: int,
    env_extra: dict[str, str],
    learner: bool = False,
    timeout: float = 7200,
) -> RunResult:
    """Simulate, score and measure one population (module docstring)."""
    from churnwatch_runtime.infra._proc import free_port
    from churnwatch_runtime.kafka import ensure_topics

    tag = f"s{customers}x{days}t{int(time.time())}"
    db_url = await fresh_database(db_url, f"bench_{tag}")
    events, scores, dlq = f"bench.{tag}.events", f"bench.{tag}.scores", f"bench.{tag}.dlq"
    await ensure_topics(bootstrap, [events, scores, dlq], partitions=PARTITIONS)
    simulate_to(
        ctx, bootstrap, events, customers, days, env_extra.get("CW_KAFKA_COMPRESSION", "zstd")
    )
    n_events = await end_offsets(bootstrap, events)
    group = f"bench-{tag}"
    env = dict(os.environ)
    env.update(
        CW_METRICS_AUTH="off", CW_KAFKA_BOOTSTRAP=bootstrap, DATABASE_URL=db_url,
        CW_TOPIC_EVENTS=events, CW_TOPIC_SCORES=scores, CW_TOPIC_EVENTS_DLQ=dlq,
        CW_SCORING_GROUP_ID=group, CW_SCORING_PORT=str(free_port()), CW_LOG_LEVEL="WARNING",
        CW_LEARNER_GROUP_ID=group, CW_RETENTION_GROUP_ID=group, **env_extra,
    )  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    logs = [(ctx.workdir / f"{tag}-scoring.log").open("wb")]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [ctx.python, "-m", "churnwatch_scoring"], env=env, stdout=logs[0], stderr=logs[0],
        cwd=ctx.root,
    )  # fmt: skip
    procs.append(proc)
    if learner:
        logs.append((ctx.workdir / f"{tag}-learner.log").open("wb"))
        procs.append(
            subprocess.Popen(
                [ctx.python, "-m", "churnwatch_scoring.learner"],
                env=env,
                stdout=logs[1],
                stderr=logs[1],
                cwd=ctx.root,
            )
        )
    rss: list[tuple[float, float]] = []
    labels: list[tuple[float, int, int]] = []
    outbox_max = 0
    try:
        try:
            first_at, first_n = await wait_for_worker(
                db_url, group, lambda n, _: n > 0, proc, name="scoring", timeout=600
            )
        except RuntimeError as exc:
            logs[0].flush()
            tail = (
                (ctx.workdir / f"{tag}-scoring.log").read_bytes()[-3000:].decode(errors="replace")
            )
            raise RuntimeError(f"{exc}; its log ends with:\n{tail}") from exc
        cpu0 = _cpu_s(proc.pid)
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"scoring exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("scoring did not finish")
            n, left = await worker_progress(db_url, group)
            outbox_max = max(outbox_max, left)
            rss.append((n / n_events, _rss_mib(proc.pid)))
            if learner and (mark := await _labels(db_url, group)) is not None:
                labels.append(mark)
            if n >= n_events and left == 0:
                end_at, cpu1 = time.perf_counter(), _cpu_s(proc.pid)
                break
            await asyncio.sleep(2.0)
        if learner:  # let the learner and the retention job catch up with the last watermark
            for _ in range(30):
                await asyncio.sleep(2.0)
                if (mark := await _labels(db_url, group)) is not None:
                    labels.append(mark)
        db_bytes = await table_bytes(db_url)
        for proc_ in procs:  # nothing writes while the tables are compacted
            proc_.terminate()
        await asyncio.to_thread(lambda: [p.wait(60) for p in procs])
        await _sql(db_url, "VACUUM FULL")
        db_live = await table_bytes(db_url)
        n_scores = await end_offsets(bootstrap, scores)
        await asyncio.sleep(1)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in logs:
            log.close()
    done = n_events - first_n
    if done <= n_events // 10:  # a small run committed (nearly) everything in its first batch
        done, first_at, cpu0 = n_events, started, 0.0
    return RunResult(
        customers=customers,
        days=days,
        events=n_events,
        events_per_s=done / (end_at - first_at),
        cpu_us_per_event=(cpu1 - cpu0) / done * 1e6,
        rss_mib=rss,
        db_bytes=db_bytes,
        db_live=db_live,
        topic_bytes={
            "cw.events": topic_log_bytes(kafka_home, events),
            "cw.scores": topic_log_bytes(kafka_home, scores),
        },
        scores=n_scores,
        labels=labels,
        outbox_max_rows=outbox_max,
    )
