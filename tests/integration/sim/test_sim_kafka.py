"""The Kafka sink and the cw.actions reader against the real broker (the session's fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import orjson
import pytest

from churnwatch_runtime.kafka import make_consumer, make_producer
from churnwatch_sim import KafkaActionReader, KafkaSink, SimConfig, Simulator
from tests.support.infra import Broker

pytestmark = pytest.mark.integration

TopicFactory = Callable[..., Awaitable[str]]


async def test_kafka_sink_produces_keyed_events(kafka: Broker, topic_factory: TopicFactory) -> None:
    topic = await topic_factory("sim.events", partitions=3)
    sim = Simulator(SimConfig(days=1).with_overrides(**{"population.customers": 100}))
    lines = [line for chunk in sim.step().chunks(10_000) for line in chunk]
    sink = KafkaSink(kafka.bootstrap, topic=topic)
    await sink.send(lines)
    await sink.close()
    assert sink.stats.accepted == len(lines)

    consumer = make_consumer(kafka.bootstrap, topic, group_id=f"g-{topic}")
    await consumer.start()
    got: list[tuple[bytes, bytes]] = []
    try:
        for _ in range(100):
            batch = await consumer.getmany(timeout_ms=500)
            got += [(r.key, r.value) for recs in batch.values() for r in recs if r.key and r.value]
            if len(got) >= len(lines):
                break
    finally:
        await consumer.stop()
    assert sorted(v.decode() for _, v in got) == sorted(lines)
    assert all(orjson.loads(v)["customer_id"] == k.decode() for k, v in got)


async def test_action_reader_receives_actions_published_after_it_started(
    kafka: Broker, topic_factory: TopicFactory
) -> None:
    topic = await topic_factory("sim.actions", partitions=2)
    reader = KafkaActionReader(kafka.bootstrap, topic=topic, group_id=f"g-{topic}")
    await reader.start()
    try:
        for _ in range(300):  # "latest": publish only once the partitions have positions
            if reader.consumer.assignment():
                break
            await asyncio.sleep(0.1)
        for tp in reader.consumer.assignment():
            await reader.consumer.position(tp)
        producer = make_producer(kafka.bootstrap)
        await producer.start()
        for i in range(5):
            action = {"action_id": f"A-{i}", "customer_id": f"C-{i:06d}", "action_type": "offer"}
            await producer.send_and_wait(topic, orjson.dumps(action), key=f"C-{i:06d}".encode())
        await producer.send_and_wait(topic, b"not an action", key=b"C-000009")
        await producer.stop()
        for _ in range(100):
            if reader.received >= 6:
                break
            await asyncio.sleep(0.1)
        got = reader.drain(datetime.now(UTC))
    finally:
        await reader.stop()
    assert sorted(a.action_id for a in got) == [f"A-{i}" for i in range(5)]
    assert reader.rejected == 1
