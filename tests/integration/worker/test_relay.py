"""The outbox relay on the real broker and database: order per key, crash between ack and delete."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from churnwatch_runtime.worker import (
    MSG_ID_HEADER,
    OUTBOX_ID_HEADER,
    OutboxMessage,
    OutboxRelay,
    outbox,
)
from tests.integration.worker.support import header, read_topic, wait_until
from tests.support.infra import Broker

pytestmark = pytest.mark.integration

TopicFactory = Callable[..., Awaitable[str]]


class Crash(Exception):
    """Stands for the relay process dying after Kafka's acks, before its DELETE commits."""


class CrashingRelay(OutboxRelay):
    async def _delete(self, conn: AsyncConnection, ids: list[int]) -> None:
        raise Crash


async def write(
    db: AsyncEngine, topic: str, n: int, *, keys: int = 20, per_tx: int = 400, start: int = 0
) -> dict[str, list[str]]:
    """``n`` messages in transactions of ``per_tx``; returns the values per key in write order."""
    written: dict[str, list[str]] = defaultdict(list)
    for first in range(start, start + n, per_tx):
        messages = []
        for i in range(first, min(start + n, first + per_tx)):
            key, value = f"c{i % keys}", f"m{i}"
            written[key].append(value)
            messages.append(
                OutboxMessage(topic, key.encode(), value.encode(), {"kind": "test"}, f"id-{i}")
            )
        async with db.begin() as conn:
            await outbox.add_many(conn, messages)
    return written


async def outbox_rows(db: AsyncEngine) -> int:
    async with db.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM outbox")) or 0)


async def drain(relay: OutboxRelay) -> None:
    while await relay.relay_once():
        pass
    await relay.stop()


def by_key(records: list[ConsumerRecord]) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = defaultdict(list)
    for r in records:  # a partition's records are in offset order; one key lives on one partition
        seen[r.key.decode()].append(r.value.decode())
    return seen


async def test_rows_are_published_in_order_per_key_as_written(
    db: AsyncEngine, kafka: Broker, topic_factory: TopicFactory
) -> None:
    topic = await topic_factory("relay.order")
    written = await write(db, topic, 3000)
    async with db.begin() as conn:  # one without an explicit id: the relay derives one
        await outbox.add(conn, topic, b"solo", b"v", [("kind", "single")])
    await drain(OutboxRelay(db, kafka.bootstrap, batch_size=700))

    records = await read_topic(kafka.bootstrap, topic, at_least=3001)
    assert len(records) == 3001
    solo = [r for r in records if r.key == b"solo"]
    assert len(solo) == 1
    assert header(solo[0], MSG_ID_HEADER) == f"outbox-{header(solo[0], OUTBOX_ID_HEADER)}"
    got = by_key([r for r in records if r.key != b"solo"])
    assert got == written
    assert {header(r, "kind") for r in records} == {"test", "single"}
    assert {header(r, MSG_ID_HEADER) for r in records if r.key != b"solo"} == {
        f"id-{i}" for i in range(3000)
    }
    assert await outbox_rows(db) == 0


async def test_a_relay_killed_between_publish_and_delete_republishes_the_same_ids(
    db: AsyncEngine, kafka: Broker, topic_factory: TopicFactory
) -> None:
    topic = await topic_factory("relay.crash")
    written = await write(db, topic, 500)
    crashing = CrashingRelay(db, kafka.bootstrap, batch_size=1000)
    with pytest.raises(Crash):
        await crashing.relay_once()
    await crashing.stop()
    assert await outbox_rows(db) == 500  # published, acked, but not deleted
    first = await read_topic(kafka.bootstrap, topic, at_least=500)
    assert len(first) == 500

    await drain(OutboxRelay(db, kafka.bootstrap))
    assert await outbox_rows(db) == 0
    records = await read_topic(kafka.bootstrap, topic, at_least=1000)
    assert len(records) == 1000
    copies: dict[str, set[tuple[bytes, bytes, str]]] = defaultdict(set)
    count: dict[str, int] = defaultdict(int)
    for r in records:
        msg_id = header(r, MSG_ID_HEADER)
        copies[msg_id].add((r.key, r.value, header(r, OUTBOX_ID_HEADER)))
        count[msg_id] += 1
    assert set(count.values()) == {2}  # each published twice ...
    assert all(len(c) == 1 for c in copies.values())  # ... as the same message, same row
    first_copies, seen = [], set()
    for r in records:
        if (msg_id := header(r, MSG_ID_HEADER)) not in seen:
            seen.add(msg_id)
            first_copies.append(r)
    assert by_key(first_copies) == written  # deduped on cw-msg-id: exactly what was written


async def test_several_relays_keep_order_and_publish_once(
    db: AsyncEngine, kafka: Broker, topic_factory: TopicFactory
) -> None:
    topic = await topic_factory("relay.many")
    stop = asyncio.Event()
    relays = [
        OutboxRelay(db, kafka.bootstrap, batch_size=150, poll_interval=0.01) for _ in range(3)
    ]
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    written: dict[str, list[str]] = defaultdict(list)
    for round_ in range(6):  # written while the relays run
        part = await write(db, topic, 500, per_tx=50, start=round_ * 500)
        for key, values in part.items():
            written[key] += values
    await wait_until(lambda: _empty(db))
    stop.set()
    await asyncio.gather(*tasks)

    records = await read_topic(kafka.bootstrap, topic, at_least=3000)
    assert len(records) == 3000  # no duplicates without a crash
    assert by_key(records) == written
    assert sum(r.published for r in relays) == 3000


async def test_notify_wakes_an_idle_relay(
    db: AsyncEngine, kafka: Broker, topic_factory: TopicFactory
) -> None:
    topic = await topic_factory("relay.notify", partitions=1)
    stop = asyncio.Event()
    relay = OutboxRelay(db, kafka.bootstrap, poll_interval=30)  # polling alone would take 30 s
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(1.0)  # listening and idle
    started = time.monotonic()
    async with db.begin() as conn:
        await outbox.add(conn, topic, b"k", b"v", msg_id="n-1")
    await wait_until(lambda: _empty(db), timeout=10, every=0.02)
    elapsed = time.monotonic() - started
    stop.set()
    await task
    assert elapsed < 5
    assert relay.published == 1


async def _empty(db: AsyncEngine) -> bool:
    return await outbox_rows(db) == 0
