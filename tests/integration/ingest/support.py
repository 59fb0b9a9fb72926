"""Helpers of the ingest integration tests: serve an app in-process, make events, read topics."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from fastapi import FastAPI

from churnwatch.events import EXAMPLES, EventType

PARTITIONS = 3


@asynccontextmanager
async def serve(app: FastAPI, key: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The app inside its lifespan, driven in-process over ASGI; ``key`` sent as a bearer."""
    headers = {"Authorization": f"Bearer {key}"} if key else None
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://ingest",
            timeout=30,
            headers=headers,
        ) as client,
    ):
        yield client


def event(
    n: int, customer: str = "C-1", event_type: EventType = EventType.PURCHASE, **kw: Any
) -> dict[str, Any]:
    """A valid event with id ``{prefix}-{n}``: copies the contract's example of ``event_type``."""
    doc = copy.deepcopy(dict(EXAMPLES[event_type]))
    doc["event_id"] = f"{kw.pop('prefix', 'e')}-{n}"
    doc["customer_id"] = customer
    doc.update(kw)
    return doc


async def read_topic(
    bootstrap: str, topic: str, *, at_least: int = 0, timeout: float = 30.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on ``topic`` (waits until there are ``at_least``), in partition order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        deadline = time.monotonic() + timeout
        while True:
            end = await consumer.end_offsets(parts)
            if sum(end.values()) >= at_least or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        await consumer.seek_to_beginning(*parts)
        got: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {p: [] for p in parts}
        while [p for p in parts if await consumer.position(p) < end[p]]:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                got[tp] += [r for r in records if r.offset < end[tp]]
        return [r for p in parts for r in got[p]]
    finally:
        await consumer.stop()


async def make_key(database_url: str, scopes: list[str]) -> str:
    """A fresh key with ``scopes`` in the test database."""
    from churnwatch_api.store.keys import create_key
    from churnwatch_runtime.db import make_engine
    from tests.support.infra import unique

    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            _, key = await create_key(conn, name=unique("ingest-test"), scopes=scopes)
    finally:
        await engine.dispose()
    return key


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Each partition's end offset (the next offset to be written)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, i) for i in range(PARTITIONS)]
        return {tp.partition: n for tp, n in (await consumer.end_offsets(parts)).items()}
    finally:
        await consumer.stop()


async def committed_offsets(bootstrap: str, group_id: str, topic: str) -> dict[int, int]:
    """A consumer group's committed offsets on ``topic`` (0: none yet)."""
    view = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await view.start()
    try:
        parts = [TopicPartition(topic, i) for i in range(PARTITIONS)]
        return {tp.partition: (await view.committed(tp)) or 0 for tp in parts}
    finally:
        await view.stop()
