"""Send a batch of records and wait for Kafka's acknowledgements (acks=all, idempotent producer).

Every record of a request is packed into record batches (one per partition) first, then all acks
are awaited together, so one request costs one round of produce requests, not one per event. The
answer says, per record, whether it was acknowledged: callers never treat a batch as
all-or-nothing when Kafka acknowledged only part.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import Histogram

Headers = list[tuple[str, bytes]]


class NotAcknowledged(Exception):
    """Kafka did not acknowledge the record in time (broker down, timeout, fatal error)."""


@dataclass(frozen=True, slots=True)
class OutRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: Headers


def event_headers(source: bytes, received_at: bytes, event_type: str) -> Headers:
    """Headers of a record on ``cw.events``: how and when it came in, and its type.

    The Kafka timestamp stays the produce time: a replayed year-old ``occurred_at`` as record
    timestamp would make time-based retention delete the record at once.

    >>> event_headers(b"http", b"2026-01-01T00:00:00+00:00", "purchase")[1:]
    [('cw-source', b'http'), ('cw-event-type', b'purchase')]
    """
    return [
        ("cw-received-at", received_at),
        ("cw-source", source),
        ("cw-event-type", event_type.encode()),
    ]


async def publish(
    producer: AIOKafkaProducer,
    records: Sequence[OutRecord],
    *,
    timeout: float,
    latency: Histogram | None = None,
) -> list[BaseException | None]:
    """Send ``records``; per record, None once acknowledged, else the error.

    Records are grouped per partition (the default partitioner's murmur2 of the key, so they land
    where any Kafka client would put them) into record batches sent with ``send_batch``: one
    future per batch instead of one per record, which halves the producer's CPU per event.
    Order within a partition is the order of ``records``. If a batch cannot be queued, the
    batches after it are not sent, so a later record never overtakes an earlier one.
    """
    started = time.perf_counter()
    outcome: list[BaseException | None] = [None] * len(records)
    try:
        async with asyncio.timeout(timeout):
            batches = await _build_batches(producer, records)
    except Exception as exc:  # metadata unavailable (broker down), timeout
        return _fail_all(outcome, NotAcknowledged(f"not queued: {exc!r}"), latency, started)
    sent: list[tuple[asyncio.Future[object], list[int]]] = []
    queue_error: BaseException | None = None
    try:
        async with asyncio.timeout(max(0.0, timeout - (time.perf_counter() - started))):
            for batch in batches:
                fut = await producer.send_batch(
                    batch.builder, batch.topic, partition=batch.partition
                )
                sent.append((fut, batch.indexes))
    except Exception as exc:  # timeout, KafkaTimeoutError, ProducerClosed, ...
        queue_error = exc
    for batch in batches[len(sent) :]:
        for i in batch.indexes:
            outcome[i] = NotAcknowledged(f"not queued: {queue_error!r}")
    if sent:
        remaining = max(0.0, timeout - (time.perf_counter() - started))
        _, pending = await asyncio.wait([f for f, _ in sent], timeout=remaining)
        for fut, indexes in sent:
            error: BaseException | None = None
            if fut in pending:
                fut.add_done_callback(_retrieve)  # it may still fail later: don't log it twice
                error = NotAcknowledged(f"no acknowledgement within {timeout:.1f}s")
            elif fut.exception() is not None:
                error = fut.exception()
            if error is not None:
                for i in indexes:
                    outcome[i] = error
    if latency is not None:
        latency.observe(time.perf_counter() - started)
    return outcome


@dataclass(slots=True)
class _Batch:
    topic: str
    partition: int
    builder: Any
    indexes: list[int]


async def _build_batches(producer: AIOKafkaProducer, records: Sequence[OutRecord]) -> list[_Batch]:
    """Record batches per (topic, partition), in record order; a full batch starts a new one."""
    partitions: dict[str, list[int]] = {}
    open_batches: dict[tuple[str, int], _Batch] = {}
    batches: list[_Batch] = []
    for index, record in enumerate(records):
        if record.topic not in partitions:
            partitions[record.topic] = sorted(await producer.partitions_for(record.topic))
        partition = _partition_of(record.key, tuple(partitions[record.topic]))
        slot = (record.topic, partition)
        batch = open_batches.get(slot)
        for _ in range(2):
            if batch is None:
                batch = _Batch(record.topic, partition, producer.create_batch(), [])
                open_batches[slot] = batch
                batches.append(batch)
            appended = batch.builder.append(
                timestamp=None, key=record.key, value=record.value, headers=record.headers
            )
            if appended is not None:
                batch.indexes.append(index)
                break
            if not batch.indexes:  # a single record larger than a whole batch
                raise ValueError(f"record {index} does not fit in a batch")
            batch = None
    return batches


_PARTITIONER = DefaultPartitioner()


@lru_cache(maxsize=65536)
def _partition_of(key: bytes | None, partitions: tuple[int, ...]) -> int:
    """The default partitioner's choice (murmur2, as the Java client); cached per key."""
    return int(_PARTITIONER(key, list(partitions), list(partitions)))


def _fail_all(
    outcome: list[BaseException | None],
    error: BaseException,
    latency: Histogram | None,
    started: float,
) -> list[BaseException | None]:
    if latency is not None:
        latency.observe(time.perf_counter() - started)
    return [error] * len(outcome)


def _retrieve(fut: asyncio.Future[object]) -> None:
    if not fut.cancelled():
        fut.exception()
