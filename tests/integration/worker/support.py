"""Helpers for the worker tests: produce keyed records, read a topic back, wait for a condition."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from churnwatch_runtime.kafka import make_producer


async def produce(
    bootstrap: str, topic: str, n: int, *, keys: int = 50, start: int = 0
) -> Counter[str]:
    """``n`` records ``evt-<i>`` keyed ``k<i % keys>``; returns the count per key."""
    producer = make_producer(bootstrap, linger_ms=20)
    await producer.start()
    expected: Counter[str] = Counter()
    try:
        acks = []
        for i in range(start, start + n):
            key = f"k{i % keys}"
            expected[key] += 1
            acks.append(await producer.send(topic, f"evt-{i}".encode(), key=key.encode()))
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    return expected


async def read_topic(
    bootstrap: str, topic: str, *, at_least: int, timeout: float = 60
) -> list[ConsumerRecord]:
    """Every record of ``topic`` (group-less consumer), once at least ``at_least`` arrived and
    the end of every partition was reached."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    got: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                got.extend(records)
            if len(got) >= at_least and not batch:
                ends = await consumer.end_offsets(list(consumer.assignment()))
                positions = {tp: await consumer.position(tp) for tp in ends}
                if all(positions[tp] >= end for tp, end in ends.items()):
                    return got
        raise AssertionError(f"read {len(got)} of at least {at_least} records from {topic}")
    finally:
        await consumer.stop()


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 60, every: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def header(record: ConsumerRecord, name: str) -> str:
    values: list[str] = [v.decode() for k, v in record.headers if k == name]
    assert len(values) == 1, f"{name}: {values}"
    return values[0]
