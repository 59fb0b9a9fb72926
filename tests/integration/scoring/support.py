"""Helpers for the scoring tests: build contract events, produce them, run a worker until done."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.events import EXAMPLES, EventType
from churnwatch_runtime.kafka import make_producer
from churnwatch_runtime.worker import Worker, WorkerConfig
from churnwatch_scoring import ScoringConfig, ScoringProcessor

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


@dataclass
class EventFactory:
    """Contract-valid events with unique ids; ``at`` in days after ``T0``."""

    prefix: str
    n: int = 0

    def make(self, customer: str, kind: EventType, day: float, **attrs: Any) -> dict[str, Any]:
        self.n += 1
        doc = copy.deepcopy(EXAMPLES[kind])
        doc["event_id"] = f"{self.prefix}-{self.n}"
        doc["customer_id"] = customer
        doc["occurred_at"] = (T0 + timedelta(days=day)).isoformat().replace("+00:00", "Z")
        doc["attributes"].update(attrs)
        return dict(doc)

    def session(self, customer: str, day: float) -> dict[str, Any]:
        return self.make(customer, EventType.SESSION, day, session_id=f"s-{self.n + 1}")

    def purchase(self, customer: str, day: float, amount: str = "40.00") -> dict[str, Any]:
        return self.make(
            customer, EventType.PURCHASE, day, order_id=f"O-{self.n + 1}", amount=amount
        )

    def complaint(self, customer: str, day: float, cid: str) -> dict[str, Any]:
        return self.make(customer, EventType.COMPLAINT, day, complaint_id=cid, status="opened")

    def payment_failed(self, customer: str, day: float) -> dict[str, Any]:
        return self.make(customer, EventType.PAYMENT_FAILED, day, payment_id=f"P-{self.n + 1}")


async def produce_events(
    bootstrap: str, topic: str, events: Iterable[dict[str, Any]], *, sent_header: bool = False
) -> int:
    producer = make_producer(bootstrap, linger_ms=20)
    await producer.start()
    n = 0
    try:
        acks = []
        for ev in events:
            headers = [("cw-trace-sent-at", str(time.time()).encode())] if sent_header else None
            acks.append(
                await producer.send(
                    topic, orjson.dumps(ev), key=ev["customer_id"].encode(), headers=headers
                )
            )
            n += 1
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    return n


async def consumed(engine: AsyncEngine, group: str) -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(
            text("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = :g"),
            {"g": group},
        )
        return int(value or 0)


async def run_until_consumed(
    engine: AsyncEngine,
    processor: ScoringProcessor,
    *,
    bootstrap: str,
    topic: str,
    total: int,
    max_records: int = 1000,
    timeout: float = 60,
) -> None:
    """Run a worker on ``topic`` until ``total`` offsets are committed (offsets from 0)."""
    worker = Worker(
        engine, processor, bootstrap=bootstrap, topics=[topic],
        group_id=processor.config.group_id,
        config=WorkerConfig(max_records=max_records, max_wait_ms=50),
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + timeout
    try:
        while await consumed(engine, processor.config.group_id) < total:
            if task.done():
                task.result()
            if time.monotonic() > deadline:
                raise AssertionError(f"worker did not consume {total} records in {timeout} s")
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        result = await conn.execute(text(sql), params)
        return [dict(r._mapping) for r in result]


def processor(group: str, **overrides: Any) -> ScoringProcessor:
    return ScoringProcessor(ScoringConfig(group_id=group, **overrides))


def by_customer(items: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["customer_id"]: r for r in items}
