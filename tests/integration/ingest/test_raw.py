"""The Kafka-native path on the real broker: valid → cw.events, garbage → DLQ, nothing stalls."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from churnwatch.events import EventType
from churnwatch_ingest import IngestMetrics, IngestSettings, dlq, run_raw_validator
from churnwatch_ingest.raw import raw_validator
from churnwatch_runtime.kafka import make_producer
from tests.integration.ingest.support import (
    PARTITIONS,
    committed_offsets,
    end_offsets,
    event,
    read_topic,
)
from tests.support.infra import unique

pytestmark = pytest.mark.integration


async def _produce(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes | None]]):
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        sent = []
        for key, value in records:
            fut = await producer.send(topic, value, key=key, headers=[("trace", b"t-1")])
            sent.append(fut)
        return [await f for f in sent]
    finally:
        await producer.stop()


async def _wait_for(bootstrap: str, topic: str, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        while sum((await consumer.end_offsets(parts)).values()) < count:
            assert time.monotonic() < deadline, f"{topic}: fewer than {count} records"
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()


async def test_good_bad_and_garbage_records(ingest_settings: IngestSettings) -> None:
    settings = ingest_settings.model_copy(update={"max_event_bytes": 2048})
    bootstrap, topics = settings.kafka_bootstrap, settings.topics
    p = unique("raw")
    good = [orjson.dumps(event(n, "C-1", EventType.SESSION, prefix=p)) for n in range(4)]
    wrong_schema = orjson.dumps({**event(9, "C-1", prefix=p), "attributes": {"amount": "x"}})
    big = event(10, "C-1", EventType.NPS, prefix=p)
    big["attributes"]["comment"] = "y" * 1990
    oversized = orjson.dumps(big)
    raw: list[tuple[bytes | None, bytes | None]] = [
        (b"C-1", good[0]),
        (b"C-1", b"\x00not json at all"),  # poison first: what follows must still flow
        (b"C-1", good[1]),
        (b"C-1", wrong_schema),
        (b"C-1", b""),
        (b"C-1", None),
        (None, good[2]),  # unkeyed: accepted, published keyed by its customer_id
        (b"C-2", good[2]),  # keyed by someone else
        (b"C-1", good[0]),  # re-sent: a duplicate, dropped
        (b"C-1", oversized),
        (b"C-1", good[3]),
        (b"C-1", good[3].replace(b'"event_id"', b'"source":"x","event_id"')),  # ambiguous
        (b"C-1", orjson.dumps(event(11, "C-1", prefix=p, occurred_at="1970-01-01T00:00:00Z"))),
        (b"C-1", orjson.dumps(event(12, "C-1", prefix=p)).replace(b"shop-web", b"shop-w\xe9b")),
    ]
    metadata = await _produce(bootstrap, topics.events_raw, raw)
    expected_dlq = {
        1: "invalid_json",
        3: "missing",
        4: dlq.EMPTY_VALUE,
        5: dlq.EMPTY_VALUE,
        7: dlq.KEY_MISMATCH,
        9: "too_large",
        11: "duplicate_key",
        12: "too_old",
        13: "invalid_encoding",
    }

    metrics = IngestMetrics()
    stop = asyncio.Event()
    task = asyncio.create_task(run_raw_validator(settings, stop, metrics=metrics))
    try:
        await _wait_for(bootstrap, topics.events, 4)
        await _wait_for(bootstrap, topics.events_dlq, len(expected_dlq))
        await asyncio.sleep(1.0)  # anything beyond the expected would show up now
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)

    valid = await read_topic(bootstrap, topics.events)
    # the key-less record may sit on another raw partition: its place in the order may differ
    assert sorted(orjson.loads(r.value)["event_id"] for r in valid) == [
        f"{p}-{n}" for n in range(4)
    ]
    assert {r.key for r in valid} == {b"C-1"}
    assert all(dict(r.headers)["cw-source"] == b"kafka" for r in valid)

    dead = await read_topic(bootstrap, topics.events_dlq)
    by_source = {
        (int(dict(r.headers)[dlq.SOURCE_PARTITION]), int(dict(r.headers)[dlq.SOURCE_OFFSET])): r
        for r in dead
    }
    assert len(dead) == len(expected_dlq)
    for index, reason in expected_dlq.items():
        record = by_source[metadata[index].partition, metadata[index].offset]
        headers = dict(record.headers)
        assert headers[dlq.REASON] == reason.encode(), index
        assert headers[dlq.SOURCE_TOPIC] == topics.events_raw.encode()
        assert headers["trace"] == b"t-1"  # original headers kept
        assert orjson.loads(headers[dlq.ERRORS])[0]["code"] == reason
        assert (record.value or b"") == (raw[index][1] or b"")  # the original bytes
        assert record.key == raw[index][0]

    rendered = metrics.render().decode()
    assert 'cw_ingest_events_accepted_total{source="kafka"} 4.0' in rendered
    assert 'cw_ingest_events_duplicate_total{source="kafka"} 1.0' in rendered
    assert 'cw_ingest_dlq_records_total{reason="key_mismatch"} 1.0' in rendered

    # committed offsets cover every raw record
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=settings.raw_group_id)
    await consumer.start()
    try:
        parts = [TopicPartition(topics.events_raw, i) for i in range(PARTITIONS)]
        end = await consumer.end_offsets(parts)
        committed = {tp: (await consumer.committed(tp)) or 0 for tp in parts}
    finally:
        await consumer.stop()
    assert committed == end
    assert sum(end.values()) == len(raw)


async def test_a_restarted_validator_resumes_after_the_committed_offsets(
    ingest_settings: IngestSettings,
) -> None:
    bootstrap, topics = ingest_settings.kafka_bootstrap, ingest_settings.topics
    p = unique("resume")
    first = [(b"C-5", orjson.dumps(event(n, "C-5", prefix=p))) for n in range(3)]
    second = [(b"C-5", orjson.dumps(event(n, "C-5", prefix=p))) for n in range(3, 6)]
    for batch, total in ((first, 3), (second, 6)):
        await _produce(bootstrap, topics.events_raw, list(batch))
        stop = asyncio.Event()
        task = asyncio.create_task(run_raw_validator(ingest_settings, stop))
        try:
            await _wait_for(bootstrap, topics.events, total)
            await asyncio.sleep(0.5)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    records = await read_topic(bootstrap, topics.events)
    ids = [orjson.loads(r.value)["event_id"] for r in records]
    assert ids == [f"{p}-{n}" for n in range(6)]


class _Killed(Exception):
    """Stands for the process dying at this point: nothing after it runs."""


async def test_a_crash_between_the_database_commit_and_the_offset_commit_publishes_nothing_again(
    ingest_settings: IngestSettings,
) -> None:
    """The validator dies after its reservation committed, before Kafka has the offsets: the next
    owner reads the batch again and must publish neither its events (their ids are reserved)
    nor its dead letters (reserved by where they were read, `raw.dead_letter_id`).

    Planted bug caught: dead letters not reserved (each is on the DLQ twice)."""
    settings = ingest_settings
    bootstrap, topics = settings.kafka_bootstrap, settings.topics
    p = unique("window")
    raw: list[tuple[bytes | None, bytes | None]] = [
        *((b"C-3", orjson.dumps(event(n, "C-3", prefix=p))) for n in range(4)),
        (b"C-3", b"not json"),
        (b"C-4", orjson.dumps(event(9, "C-3", prefix=p))),  # key_mismatch
    ]
    await _produce(bootstrap, topics.events_raw, raw)
    async with raw_validator(settings) as validator:
        batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
        deadline = time.monotonic() + 30
        while sum(len(r) for r in batch.values()) < len(raw):
            assert time.monotonic() < deadline, batch
            for tp, records in (await validator.consumer.getmany(timeout_ms=500)).items():
                batch.setdefault(tp, []).extend(records)

        async def killed(*_: object, **__: object) -> None:
            raise _Killed

        validator.consumer.commit = killed
        with pytest.raises(_Killed):
            await validator.process(batch, limits=settings.limits())
    assert await committed_offsets(bootstrap, settings.raw_group_id, topics.events_raw) == {
        i: 0 for i in range(PARTITIONS)
    }

    stop = asyncio.Event()
    task = asyncio.create_task(run_raw_validator(settings, stop))
    try:
        deadline = time.monotonic() + 60
        ends = await end_offsets(bootstrap, topics.events_raw)
        while await committed_offsets(bootstrap, settings.raw_group_id, topics.events_raw) != ends:
            assert not task.done(), task
            assert time.monotonic() < deadline, "the second validator never caught up"
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    valid = await read_topic(bootstrap, topics.events)
    assert sorted(orjson.loads(r.value)["event_id"] for r in valid) == [
        f"{p}-{n}" for n in range(4)
    ]
    dead = await read_topic(bootstrap, topics.events_dlq)
    assert sorted(dict(r.headers)[dlq.REASON] for r in dead) == [b"invalid_json", b"key_mismatch"]
