"""The issue's process test: a real worker process SIGKILLed mid-stream, then restarted.

The worker (with its outbox relay, in the same process) consumes 20,000 records over 6 partitions.
It is killed with SIGKILL once it has committed some but not all, restarted, and stopped with
SIGTERM when done. The counts must hold every event exactly once, and the output topic (deduped on
``cw-msg-id``) exactly one outbox row per event.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db import make_engine
from churnwatch_runtime.worker import MSG_ID_HEADER, OUTBOX_ID_HEADER, source_msg_id
from tests.integration.worker.counter_worker import counts, create_tables
from tests.integration.worker.support import header, produce, read_topic, wait_until
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
EVENTS = 20_000


@pytest.fixture
async def db(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(fresh_database)
    await create_tables(engine)
    yield engine
    await engine.dispose()


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.integration.worker.counter_worker", *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


async def total(db: AsyncEngine) -> int:
    return sum((await counts(db)).values())


async def outbox_rows(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM outbox")) or 0)


async def test_sigkill_mid_stream_then_restart_processes_every_event_once(
    db: AsyncEngine,
    fresh_database: str,
    kafka: Broker,
    topic_factory: Callable[..., Awaitable[str]],
    tmp_path: Path,
) -> None:
    topic = await topic_factory("proc.in", partitions=6)
    out_topic = await topic_factory("proc.out", partitions=6)
    expected = await produce(kafka.bootstrap, topic, EVENTS, keys=500)
    args = [
        *("--bootstrap", kafka.bootstrap, "--db", fresh_database),
        *("--topic", topic, "--out-topic", out_topic, "--group", unique("g")),
        *("--max-records", "300", "--slow-ms", "25", "--relay"),
    ]
    log = tmp_path / "worker.log"

    first = spawn(args, log)
    try:
        await wait_until(lambda: _reached(db, 4000), timeout=120, every=0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    at_kill = await total(db)
    assert first.returncode == -signal.SIGKILL
    assert 0 < at_kill < EVENTS, f"the kill must land mid-stream, committed {at_kill}"

    second = spawn(args, log)
    try:
        await wait_until(lambda: _done(db), timeout=180, every=0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(60)
    assert second.returncode == 0, log.read_text()[-3000:]
    assert "counter worker stopped cleanly" in log.read_text()

    assert await counts(db) == dict(expected)
    assert await total(db) == EVENTS

    records = await read_topic(kafka.bootstrap, out_topic, at_least=EVENTS, timeout=120)
    rows_per_msg: dict[str, set[str]] = defaultdict(set)
    values: dict[str, bytes] = {}
    for r in records:
        msg_id = header(r, MSG_ID_HEADER)
        rows_per_msg[msg_id].add(header(r, OUTBOX_ID_HEADER))
        assert values.setdefault(msg_id, r.value) == r.value
    ends = await _input_ends(db)
    assert sum(ends.values()) == EVENTS
    every_input = {source_msg_id(topic, p, o) for p, end in ends.items() for o in range(end)}
    assert set(rows_per_msg) == every_input  # one message per event, deduped on cw-msg-id
    assert all(len(rows) == 1 for rows in rows_per_msg.values())  # ... from one outbox row each
    assert sorted(values.values()) == sorted(f"evt-{i}".encode() for i in range(EVENTS))
    republished = len(records) - EVENTS
    print(f"committed at kill: {at_kill}; relay re-publications after the kill: {republished}")


async def _reached(db: AsyncEngine, n: int) -> bool:
    return await total(db) >= n


async def _done(db: AsyncEngine) -> bool:
    return await total(db) >= EVENTS and await outbox_rows(db) == 0


async def _input_ends(db: AsyncEngine) -> dict[int, int]:
    async with db.connect() as conn:
        rows = await conn.execute(text("SELECT partition, next_offset FROM consumer_offsets"))
        return {p: int(n) for p, n in rows}


def test_module_runs_as_a_process() -> None:
    """The entry point parses its arguments (cheap guard for the subprocess path)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.worker.counter_worker", "--help"],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0
    assert b"--bootstrap" in done.stdout
