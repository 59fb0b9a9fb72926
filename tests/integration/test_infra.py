"""The launchers' promises, proved on the real servers: topics, produce/consume, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.kafka import ensure_topics, make_consumer, make_producer, topic_partitions
from tests.support.infra import Broker

pytestmark = pytest.mark.integration


async def test_topics_are_created_with_explicit_partitions(kafka: Broker) -> None:
    created = await ensure_topics(kafka.bootstrap, ["itest.a", "itest.b"], partitions=4)
    assert sorted(created) == ["itest.a", "itest.b"]
    assert await ensure_topics(kafka.bootstrap, ["itest.a"], partitions=4) == []
    assert await topic_partitions(kafka.bootstrap, "itest.a") == 4
    assert await topic_partitions(kafka.bootstrap, "itest.missing") == 0


async def test_acked_records_survive_a_broker_restart(
    kafka: Broker, topic_factory: Callable[..., Awaitable[str]]
) -> None:
    topic = await topic_factory("restart", partitions=2)
    producer = make_producer(kafka.bootstrap)
    await producer.start()
    for i in range(20):
        await producer.send_and_wait(topic, f"v{i}".encode(), key=f"k{i % 3}".encode())
    await producer.stop()

    await asyncio.to_thread(kafka.kill)  # a crash, not a clean stop: log recovery must keep data
    await asyncio.to_thread(kafka.start)

    consumer = make_consumer(kafka.bootstrap, topic, group_id=f"g-{topic}")
    await consumer.start()
    got: list[bytes] = []
    try:
        for _ in range(50):
            batch = await consumer.getmany(timeout_ms=500)
            got += [r.value for records in batch.values() for r in records if r.value]
            if len(got) >= 20:
                break
    finally:
        await consumer.stop()
    assert sorted(got) == sorted(f"v{i}".encode() for i in range(20))


async def test_database_is_migrated(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema='public'")
        )
        tables = {r[0] for r in rows}
    assert {"ingest_event_ids", "consumer_offsets", "alembic_version"} <= tables
