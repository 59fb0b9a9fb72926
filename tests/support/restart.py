"""Restart invariance (issue 16), shared by the integration test and ``bench --only restart``.

One events topic is produced once; each *run* is a fresh migrated database, its own consumer
group and ``cw.scores`` topic, and real ``python -m churnwatch_scoring`` processes — stopped with
SIGKILL or SIGTERM at given shares of the offsets and restarted, or left alone. `snapshot` reads
everything a run decides (``latest_scores``, decoded profiles, the history tables, the silence
index, watermarks, and the ``cw.scores`` ids with their values); `diff` counts, per table and
column, the customers whose values differ between two runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer

from churnwatch.profile import CustomerProfile
from churnwatch_runtime.db import asyncpg_dsn, upgrade
from churnwatch_runtime.infra._proc import free_port
from churnwatch_runtime.kafka import ensure_topics, make_producer
from churnwatch_runtime.worker import MSG_ID_HEADER

ROOT = Path(__file__).resolve().parents[2]
WALL_COLUMNS = {"id", "updated_at", "created_at", "resolved_at"}  # wall clock or sequences
HISTORY = ("score_history", "lifecycle_transitions", "label_snapshots")
Stop = tuple[float, signal.Signals]  # (share of the offsets consumed, signal)


def simulate(customers: int, days: int, seed: int, out: Path) -> list[bytes]:
    """The simulator's events as JSON lines (the issue's scenario at any scale)."""
    cmd = [
        sys.executable, "-m", "churnwatch_sim.cli", "run", "--customers", str(customers),
        "--days", str(days), "--seed", str(seed), "--out", str(out), "--no-progress",
    ]  # fmt: skip
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return [line for line in out.read_bytes().splitlines() if line.strip()]


async def produce(bootstrap: str, topic: str, lines: Sequence[bytes], partitions: int) -> None:
    from churnwatch_sim.sinks import customer_key

    await ensure_topics(bootstrap, [topic], partitions=partitions)
    producer = make_producer(bootstrap, linger_ms=50)
    await producer.start()
    try:
        pending = [
            await producer.send(topic, line, key=customer_key(line.decode()).encode())
            for line in lines
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def create_database(server_url: str, name: str) -> str:
    """A brand-new migrated database on the server of ``server_url``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from churnwatch_runtime.db import sync_url

    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    admin_url = make_url(server_url).set(database="postgres")
    admin = create_engine(
        sync_url(admin_url.render_as_string(hide_password=False)), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    upgrade(url)
    return url


async def pin_cuts(url: str, row: tuple[str, int, str | None, str | None]) -> None:
    """Insert a ``population_cuts`` row (basis, customers, tiers JSON, rfm JSON)."""
    pg = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await pg.execute(
            "INSERT INTO population_cuts (basis, customers, tiers, rfm)"
            " VALUES ($1, $2, $3::jsonb, $4::jsonb)",
            *row,
        )
    finally:
        await pg.close()


async def read_cuts(url: str) -> tuple[str, int, str | None, str | None]:
    """Publish cut points from a run's ``latest_scores`` and return the row, to pin elsewhere."""
    from churnwatch_scoring import cuts

    pg = await asyncpg.connect(asyncpg_dsn(url))
    try:
        version = await cuts.publish(pg, "retained", None)
        row = await pg.fetchrow(
            "SELECT basis, customers, tiers::text, rfm::text FROM population_cuts"
            " WHERE version = $1",
            version,
        )
        assert row is not None
        return (row[0], row[1], row[2], row[3])
    finally:
        await pg.close()


def cuts_from_lines(lines: Sequence[bytes]) -> tuple[str, int, str | None, str | None]:
    """A ``population_cuts`` row (basis, customers, tiers, rfm JSON) derived from the input alone
    — a year of each subscriber's price, each buyer's spend; R, F, M of the buyers at the last
    event — so a test can pin cut points without a calibration run. Any fixed row will do: what
    is tested is that the version in force, not the worker's history, decides."""
    from churnwatch.profile import RfmValues
    from churnwatch_scoring.population import Population, rfm_json, tiers_json

    value: dict[str, float] = defaultdict(float)
    buys: dict[str, list[tuple[float, float]]] = defaultdict(list)
    end = 0.0
    for line in lines:
        ev = orjson.loads(line)
        at = _epoch_days(ev["occurred_at"])
        end = max(end, at)
        attrs = ev.get("attributes") or {}
        if ev["event_type"] == "subscription_started":
            value[ev["customer_id"]] += 12 * float(attrs["price"])
        elif ev["event_type"] == "purchase":
            value[ev["customer_id"]] += float(attrs["amount"])
            buys[ev["customer_id"]].append((at, float(attrs["amount"])))
    rfm = [
        RfmValues(end - max(t for t, _ in b), float(len(b)), sum(a for _, a in b))
        for b in buys.values()
    ]
    pop = Population.from_values(0, [v for v in value.values() if v > 0], rfm, min_count=5)
    t, c = pop.thresholds, pop.cuts
    assert t is not None
    assert c is not None
    tiers = orjson.dumps(tiers_json(t.platinum, t.gold, t.silver)).decode()
    return (
        "retained",
        len(value),
        tiers,
        orjson.dumps(rfm_json(c.recency, c.frequency, c.monetary)).decode(),
    )


def _epoch_days(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() / 86_400


@dataclass
class Run:
    """One scoring run's settings and what happened."""

    name: str
    url: str
    events_topic: str
    total: int
    stops: Sequence[Stop] = ()
    max_records: int = 500
    env: dict[str, str] = field(default_factory=dict)
    scores_topic: str = ""
    stopped_at: list[int] = field(default_factory=list)  # offsets consumed at each stop
    seconds: float = 0.0


async def consumed(pg: asyncpg.Connection, group: str) -> int:
    value = await pg.fetchval(
        "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = $1", group
    )
    return int(value)


async def execute(run: Run, bootstrap: str, workdir: Path, *, timeout: float = 600) -> Run:
    """Score ``run.events_topic`` into ``run.url`` with real processes, stopping as told."""
    run.scores_topic = f"{run.events_topic}.{run.name}.scores"
    await ensure_topics(bootstrap, [run.scores_topic, f"{run.scores_topic}.dlq"], partitions=1)
    group = f"restart-{run.name}"
    env = {
        **os.environ, "PYTHONUNBUFFERED": "1", "CW_KAFKA_BOOTSTRAP": bootstrap,
        "DATABASE_URL": run.url, "CW_TOPIC_EVENTS": run.events_topic,
        "CW_TOPIC_SCORES": run.scores_topic, "CW_TOPIC_EVENTS_DLQ": f"{run.scores_topic}.dlq",
        "CW_SCORING_GROUP_ID": group, "CW_SCORING_MAX_RECORDS": str(run.max_records),
        "CW_LOG_LEVEL": "WARNING", "CW_METRICS_AUTH": "off", **run.env,
    }  # fmt: skip
    log = workdir / f"{run.name}.log"
    pg = await asyncpg.connect(asyncpg_dsn(run.url))
    started = time.monotonic()
    try:
        for share, sig in run.stops:
            proc = _spawn(env, log)
            try:
                await _until(_reached(pg, group, share * run.total), proc, timeout)
            finally:
                proc.send_signal(sig)
                proc.wait(60)
            run.stopped_at.append(await consumed(pg, group))
        proc = _spawn(env, log)
        try:
            await _until(_done(pg, group, run.total), proc, timeout)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        if proc.returncode != 0:
            raise AssertionError(log.read_text()[-3000:])
    finally:
        await pg.close()
    run.seconds = time.monotonic() - started
    return run


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    env = {**env, "CW_SCORING_PORT": str(free_port())}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "churnwatch_scoring"], cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip


def _reached(pg: asyncpg.Connection, group: str, n: float) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await consumed(pg, group) >= n

    return check


def _done(pg: asyncpg.Connection, group: str, total: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        left = await pg.fetchval("SELECT count(*) FROM outbox")
        return await consumed(pg, group) >= total and left == 0

    return check


async def _until(
    check: Callable[[], Awaitable[bool]], proc: subprocess.Popen[bytes], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"scoring exited early with {proc.returncode}")
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("scoring did not get there in time")


# -- what a run decided --------------------------------------------------------------------------

Snapshot = dict[str, dict[str, dict[str, Any]]]  # table -> customer (or key) -> column -> value


async def snapshot(url: str, bootstrap: str, scores_topic: str) -> Snapshot:
    pg = await asyncpg.connect(asyncpg_dsn(url))
    try:
        out: Snapshot = {}
        out["latest_scores"] = _by_key(await pg.fetch("SELECT * FROM latest_scores"))
        out["profiles"] = {
            r["customer_id"]: _profile(r) for r in await pg.fetch("SELECT * FROM customer_profiles")
        }
        for table in (*HISTORY, "silence_due"):
            out[table] = _grouped(await pg.fetch(f"SELECT * FROM {table}"))
        marks = await pg.fetch("SELECT partition, watermark FROM partition_watermarks")
        out["partition_watermarks"] = {str(r[0]): {"watermark": r[1]} for r in marks}
    finally:
        await pg.close()
    out["cw.scores"] = await read_scores(bootstrap, scores_topic)
    return out


def _by_key(rows: Iterable[asyncpg.Record]) -> dict[str, dict[str, Any]]:
    return {r["customer_id"]: {k: v for k, v in r.items() if k not in WALL_COLUMNS} for r in rows}


def _profile(row: asyncpg.Record) -> dict[str, Any]:
    profile = CustomerProfile.from_bytes(bytes(row["state"]))
    fields = {f"profile.{k}": v for k, v in dataclasses.asdict(profile).items()}
    return {**fields, "partition": row["partition"], "retail_stats": row["retail_stats"]}


def _grouped(rows: Iterable[asyncpg.Record]) -> dict[str, dict[str, Any]]:
    """Each customer's rows, sorted, as one value per column (a history compares as a list)."""
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        per[r["customer_id"]].append({k: v for k, v in r.items() if k not in WALL_COLUMNS})
    out: dict[str, dict[str, Any]] = {}
    for cid, items in per.items():
        items.sort(key=lambda d: repr(sorted(d.items())))
        out[cid] = {k: [d[k] for d in items] for k in items[0]}
    return out


async def read_scores(bootstrap: str, topic: str) -> dict[str, dict[str, Any]]:
    """Every ``cw.scores`` message id → its value; an id published twice with two values
    (a re-published score that changed) is kept as the set of its values."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    values: dict[str, set[bytes]] = defaultdict(set)
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    msg_id = dict(r.headers or ()).get(MSG_ID_HEADER, b"").decode()
                    values[msg_id].add(bytes(r.value or b""))
    finally:
        await consumer.stop()
    return {
        k: {"value": orjson.loads(next(iter(v))) if len(v) == 1 else sorted(v)}
        for k, v in values.items()
    }


def diff(a: Snapshot, b: Snapshot) -> dict[str, dict[str, int]]:
    """Per table, per column: how many keys (customers; ids for cw.scores) differ, a key present
    in one run only counting under ``<missing>``. Empty when the runs decided the same."""
    out: dict[str, dict[str, int]] = {}
    for table in a.keys() | b.keys():
        ta, tb = a.get(table, {}), b.get(table, {})
        counts: dict[str, int] = defaultdict(int)
        for key in ta.keys() | tb.keys():
            ra, rb = ta.get(key), tb.get(key)
            if ra is None or rb is None:
                counts["<missing>"] += 1
                continue
            for column in ra.keys() | rb.keys():
                if ra.get(column) != rb.get(column):
                    counts[column] += 1
        if counts:
            out[table] = dict(counts)
    return out


def differing_customers(d: dict[str, dict[str, int]], table: str, column: str) -> int:
    return d.get(table, {}).get(column, 0) + d.get(table, {}).get("<missing>", 0)


# -- the alerts service on a run's scores --------------------------------------------------------

TASK_COLUMNS = (
    "task_id, customer_id, playbook_id, playbook_version, action_type, state, priority,"
    " value_at_risk, churn_probability, tier, reasons, team, recover_band, below_since"
)  # the decisions; assignee, created_at, sla_due_at … follow the wall clock


async def alerts_decisions(run: Run, bootstrap: str, workdir: Path) -> Snapshot:
    """Run ``python -m churnwatch_alerts`` on ``run``'s ``cw.scores`` (and database) until it has
    consumed the topic; its tasks and the ``cw.actions`` ids with their values (no issue time)."""
    actions = f"{run.scores_topic}.actions"
    await ensure_topics(bootstrap, [actions], partitions=1)
    consumer = AIOKafkaConsumer(run.scores_topic, bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))
    finally:
        await consumer.stop()
    total = sum(ends.values())
    group = f"restart-alerts-{run.name}"
    env = {
        **os.environ, "PYTHONUNBUFFERED": "1", "CW_KAFKA_BOOTSTRAP": bootstrap,
        "DATABASE_URL": run.url, "CW_TOPIC_SCORES": run.scores_topic, "CW_TOPIC_ACTIONS": actions,
        "CW_ALERTS_GROUP_ID": group, "CW_ALERTS_PORT": str(free_port()),
        "CW_LOG_LEVEL": "WARNING", "CW_METRICS_AUTH": "off",
    }  # fmt: skip
    with (workdir / f"{run.name}-alerts.log").open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "churnwatch_alerts"], cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    pg = await asyncpg.connect(asyncpg_dsn(run.url))
    try:
        try:
            await _until(_done(pg, group, total), proc, 1800)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        tasks = await pg.fetch(f"SELECT {TASK_COLUMNS} FROM tasks")
    finally:
        await pg.close()
    out_: Snapshot = {"tasks": {r["task_id"]: dict(r.items()) for r in tasks}}
    sent = await read_scores(bootstrap, actions)
    for doc in sent.values():
        if isinstance(doc["value"], dict):
            doc["value"].pop("issued_at", None)
    out_["cw.actions"] = sent
    return out_
