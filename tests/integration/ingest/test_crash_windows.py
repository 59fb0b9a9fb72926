"""Long suite (``make test-long``): ingest and the raw validator SIGKILLed, as real processes.

Both paths publish, await Kafka's acks, then commit the event ids (and, raw, then the consumer
offsets). What a kill leaves behind depends on where it lands:

- before the acks: nothing committed, the batch (or the client's retry) is published once;
- between the acks and the database commit: the reservation dies with the connection, so the
  batch in flight (raw) or the client's retry (HTTP) is published **a second time**;
- after the database commit (raw, before the offset commit): the re-read batch is all
  duplicates — its event ids and its dead letters' places are reserved — nothing again.

So every record comes out at least once, and duplicates come only from the batch in flight at a
kill; consumers key on ``event_id`` (scoring's profile ring, docs/profile.md). The window between
the acks and the commit is hit on purpose by holding ``LOCK TABLE quality_daily IN EXCLUSIVE
MODE`` from another connection: both paths write their data-quality counts in the reservation's
transaction right after the acks, so they block there, acks done, nothing committed.

Planted bug these tests were seen to catch: the raw validator committing its offsets before the
database commit (the lock test finds the batch's offsets committed while its ids are not). A
dead letter re-sent after the database commit is caught by ``test_raw.py`` (deterministically;
here only when a kill happens to land there).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from churnwatch.events import EventType, parse_event
from churnwatch.privacy import strip_sealed
from churnwatch.profile import CustomerProfile, apply
from churnwatch_ingest import IngestSettings, dlq
from churnwatch_runtime.db import asyncpg_dsn
from churnwatch_runtime.infra._proc import free_port
from churnwatch_runtime.kafka import make_producer
from tests.integration.ingest.support import (
    committed_offsets,
    end_offsets,
    event,
    read_topic,
)
from tests.support.infra import unique

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
Position = tuple[int, int]  # (raw partition, raw offset)


def _env(settings: IngestSettings, **extra: str) -> dict[str, str]:
    t = settings.topics
    return {
        **os.environ, "CW_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "DATABASE_URL": settings.database_url, "CW_TOPIC_EVENTS": t.events,
        "CW_TOPIC_EVENTS_RAW": t.events_raw, "CW_TOPIC_EVENTS_DLQ": t.events_dlq,
        "CW_INGEST_RAW_GROUP_ID": settings.raw_group_id, "CW_INGEST_RAW_METRICS_PORT": "0",
        "CW_INGEST_AUTH": "off", "CW_INGEST_RAW_RETRY_BACKOFF_S": "0.3", **extra,
    }  # fmt: skip


async def _spawn(mode: str, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "churnwatch_ingest", mode,
            cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=out,
        )  # fmt: skip


async def _kill(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGKILL)
    await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == -signal.SIGKILL


async def _terminate(proc: asyncio.subprocess.Process, log: Path) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
    # uvicorn re-raises the SIGTERM it handled, after a clean shutdown (it logs that it finished)
    clean = proc.returncode == 0 or (
        proc.returncode == -signal.SIGTERM and "Finished server process" in log.read_text()
    )
    assert clean, (proc.returncode, log.read_text()[-3000:])


async def _until(
    check: Callable[[], Awaitable[bool]],
    proc: asyncio.subprocess.Process,
    log: Path,
    timeout: float = 120,
    every: float = 0.2,
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert proc.returncode is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"not in time: {check}\n{log.read_text()[-3000:]}"
        await asyncio.sleep(every)


def _caught_up(settings: IngestSettings) -> Callable[[], Awaitable[bool]]:
    """The raw validator's group committed every raw record."""
    bootstrap, topic = settings.kafka_bootstrap, settings.topics.events_raw

    async def check() -> bool:
        ends = await end_offsets(bootstrap, topic)
        return await committed_offsets(bootstrap, settings.raw_group_id, topic) == ends

    return check


async def _outputs(settings: IngestSettings) -> int:
    t = settings.topics
    valid = await end_offsets(settings.kafka_bootstrap, t.events)
    dead = await end_offsets(settings.kafka_bootstrap, t.events_dlq)
    return sum(valid.values()) + sum(dead.values())


async def _produce(
    bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]
) -> list[Position]:
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key) for key, value in records]
        return [((m := await f).partition, m.offset) for f in sent]
    finally:
        await producer.stop()


@asynccontextmanager
async def _quality_locked(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """``quality_daily`` locked against writers until the block ends (then rolled back)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("LOCK TABLE quality_daily IN EXCLUSIVE MODE")
        try:
            yield conn
        finally:
            await tx.rollback()
    finally:
        await conn.close()


async def _waiting_on_quality(conn: asyncpg.Connection) -> int:
    """Sessions waiting for a lock on ``quality_daily`` (ingest blocked after the acks)."""
    n = await conn.fetchval(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'quality_daily'::regclass"
    )
    return int(n)


def _runs(offsets: list[int]) -> int:
    """How many runs of consecutive offsets ``offsets`` holds.

    >>> _runs([]), _runs([4, 5, 6]), _runs([9, 1, 2, 3, 7])
    (0, 1, 3)
    """
    ordered = sorted(offsets)
    return sum(1 for i, o in enumerate(ordered) if i == 0 or o != ordered[i - 1] + 1)


async def test_the_raw_validator_sigkilled_mid_stream_twice_loses_nothing(
    ingest_settings: IngestSettings, tmp_path: Path
) -> None:
    """12,000 raw records (every tenth one bad), the validator SIGKILLed twice while it works
    through them, restarted each time: every valid event is on cw.events and every bad record on
    the DLQ, and what is doubled is at most the batch in flight at each kill — no more than
    ``raw_max_records`` records, one run of consecutive raw offsets per partition and kill."""
    max_records, kills, n = 50, 2, 12_000
    settings = ingest_settings
    bootstrap, topics = settings.kafka_bootstrap, settings.topics
    p = unique("midkill")
    records: list[tuple[bytes, bytes]] = []
    for i in range(n):
        customer = f"C-{i % 300}"
        doc = orjson.dumps(event(i, customer, EventType.SESSION, prefix=p))
        if i % 10 == 9:
            doc = b"not json" if i % 20 == 9 else doc  # the other half: keyed by another customer
            customer = customer if doc == b"not json" else f"C-{(i + 1) % 300}"
        records.append((customer.encode(), doc))
    positions = await _produce(bootstrap, topics.events_raw, records)
    bad = {positions[i] for i in range(n) if i % 10 == 9}
    by_id = {f"{p}-{i}": positions[i] for i in range(n) if i % 10 != 9}

    env = _env(settings, CW_INGEST_RAW_MAX_RECORDS=str(max_records))
    log = tmp_path / "raw.log"
    at_kill = []
    for share in (0.25, 0.6):
        proc = await _spawn("raw", env, log)

        async def far_enough(share: float = share) -> bool:
            return await _outputs(settings) >= share * n

        await _until(far_enough, proc, log, every=0.02)
        await _kill(proc)
        at_kill.append(await _outputs(settings))
    assert at_kill[-1] < n, "the kills came after the last batch: nothing was in flight"
    proc = await _spawn("raw", env, log)
    try:
        await _until(_caught_up(settings), proc, log, timeout=300)
    finally:
        await _terminate(proc, log)

    valid = Counter(
        orjson.loads(r.value)["event_id"] for r in await read_topic(bootstrap, topics.events)
    )
    dead = Counter(
        (int(dict(r.headers)[dlq.SOURCE_PARTITION]), int(dict(r.headers)[dlq.SOURCE_OFFSET]))
        for r in await read_topic(bootstrap, topics.events_dlq)
    )
    assert set(valid) == set(by_id)  # every valid event, nothing else
    assert set(dead) == bad  # every bad record, nothing else
    doubled = [by_id[e] for e, c in valid.items() if c > 1] + [
        pos for pos, c in dead.items() if c > 1
    ]
    assert max([*valid.values(), *dead.values()]) <= kills
    assert len(doubled) <= kills * max_records, doubled
    for partition in {part for part, _ in doubled}:
        assert _runs([o for part, o in doubled if part == partition]) <= kills, doubled


async def test_the_raw_validator_killed_after_the_acks_publishes_that_batch_again_counted_once(
    ingest_settings: IngestSettings, fresh_database: str, tmp_path: Path
) -> None:
    """Held after Kafka's acks (quality_daily locked), SIGKILLed, restarted: the batch's events
    and dead letters are on Kafka twice — the one duplicate the design allows — its offsets were
    not committed before, data quality counts it once, and a re-send of its events is dropped."""
    settings = ingest_settings.model_copy(update={"database_url": fresh_database})
    bootstrap, topics = settings.kafka_bootstrap, settings.topics
    p = unique("ackkill")
    env, log = _env(settings), tmp_path / "raw.log"
    first = [(b"C-8", orjson.dumps(event(0, "C-8", prefix=p)))]
    batch = [(b"C-8", orjson.dumps(event(i, "C-8", prefix=p))) for i in range(1, 6)]
    bad = [(b"C-8", b"not json"), (b"C-9", orjson.dumps(event(9, "C-8", prefix=p)))]

    proc = await _spawn("raw", env, log)
    await _produce(bootstrap, topics.events_raw, first)
    await _until(_caught_up(settings), proc, log)
    async with _quality_locked(fresh_database) as lock:
        bad_at = (await _produce(bootstrap, topics.events_raw, [*batch, *bad]))[len(batch) :]

        async def acked_and_blocked() -> bool:
            return await _outputs(settings) == 1 + len(batch) + len(bad) and bool(
                await _waiting_on_quality(lock)
            )

        await _until(acked_and_blocked, proc, log)
        assert (
            sum(
                (
                    await committed_offsets(bootstrap, settings.raw_group_id, topics.events_raw)
                ).values()
            )
            == 1
        )
        await _kill(proc)
    proc = await _spawn("raw", env, log)
    try:
        await _until(_caught_up(settings), proc, log)
        await _produce(bootstrap, topics.events_raw, batch)  # re-sent: duplicates now
        await _until(_caught_up(settings), proc, log)
    finally:
        await _terminate(proc, log)

    valid = Counter(
        orjson.loads(r.value)["event_id"] for r in await read_topic(bootstrap, topics.events)
    )
    assert valid == {f"{p}-0": 1, **{f"{p}-{i}": 2 for i in range(1, 6)}}
    dead = Counter(
        (int(dict(r.headers)[dlq.SOURCE_PARTITION]), int(dict(r.headers)[dlq.SOURCE_OFFSET]))
        for r in await read_topic(bootstrap, topics.events_dlq)
    )
    assert dead == dict.fromkeys(bad_at, 2)
    conn = await asyncpg.connect(asyncpg_dsn(fresh_database))
    try:
        rows = await conn.fetch("SELECT outcome, sum(count) AS n FROM quality_daily GROUP BY 1")
    finally:
        await conn.close()
    assert {r["outcome"]: int(r["n"]) for r in rows} == {"accepted": 6, "dlq": 2, "duplicate": 5}


async def test_ingest_killed_between_the_ack_and_the_commit_publishes_the_retry_again(
    ingest_settings: IngestSettings, fresh_database: str, tmp_path: Path
) -> None:
    """A POST held after Kafka's ack (quality_daily locked) when ingest is SIGKILLed: the client
    sees the connection drop, retries after the restart and is told ``accepted`` — the event is
    on cw.events twice. Scoring's profile, folding cw.events in order, counts it once: the second
    copy's id is among the last 24 the profile applied (`SEEN_CAPACITY`)."""
    settings = ingest_settings.model_copy(update={"database_url": fresh_database})
    port = free_port()
    env, log = _env(settings, CW_INGEST_PORT=str(port)), tmp_path / "http.log"
    url = f"http://127.0.0.1:{port}"
    p = unique("httpkill")
    body = [event(0, "C-5", EventType.PURCHASE, prefix=p)]

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def ready() -> bool:
            try:
                return (await client.get("/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        proc = await _spawn("http", env, log)
        await _until(ready, proc, log)
        async with _quality_locked(fresh_database) as lock:
            post = asyncio.create_task(client.post("/v1/events", json=body))

            async def acked_and_blocked() -> bool:
                return await _outputs(settings) == 1 and bool(await _waiting_on_quality(lock))

            await _until(acked_and_blocked, proc, log)
            assert not post.done()
            await _kill(proc)
            with pytest.raises(httpx.TransportError):
                await post
        proc = await _spawn("http", env, log)
        try:
            await _until(ready, proc, log)
            retry = await client.post("/v1/events", json=body)
            again = await client.post("/v1/events", json=body)
        finally:
            await _terminate(proc, log)
    assert [r["status"] for r in retry.json()["results"]] == ["accepted"]
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"]

    copies = await read_topic(settings.kafka_bootstrap, settings.topics.events)
    assert [orjson.loads(r.value)["event_id"] for r in copies] == [f"{p}-0"] * 2
    profile = CustomerProfile()
    now = datetime.now(UTC)
    applied = [apply(profile, parse_event(strip_sealed(r.value), now=now)) for r in copies]
    assert applied == [True, False]
    assert (profile.events, profile.tx_count) == (1, 1)
