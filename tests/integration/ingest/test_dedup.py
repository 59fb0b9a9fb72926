"""The idempotency store on the real database: window purge, and partial acks releasing ids."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.producer.message_accumulator import BatchBuilder

from churnwatch.events import DEFAULT_LIMITS
from churnwatch_ingest.dedup import DedupStore
from churnwatch_ingest.metrics import IngestMetrics
from churnwatch_ingest.results import response_body, status_code
from churnwatch_ingest.service import IngestService
from tests.integration.ingest.support import event
from tests.support.infra import unique

pytestmark = pytest.mark.integration


async def test_ids_older_than_the_window_are_purged_and_then_accepted_again(
    database_url: str,
) -> None:
    store = await DedupStore.connect(database_url)
    try:
        old, recent = unique("old"), unique("recent")
        now = datetime.now(UTC)
        async with store.reserve([old], ["C-1"], received_at=now - timedelta(days=8)) as r:
            assert r.new == {old}
        async with store.reserve([recent], ["C-1"], received_at=now) as r:
            assert r.new == {recent}
        deleted = await store.purge(older_than=now - timedelta(days=7), chunk=1)
        assert deleted >= 1
        async with store.reserve([old, recent], ["C-1", "C-1"], received_at=now) as r:
            assert r.new == {old}  # forgotten after the window; the recent one is still known
    finally:
        await store.close()


class _OnePartitionDown:
    """A producer whose broker acknowledges every partition but ``down`` (third-party fake)."""

    def __init__(self, down: int) -> None:
        self.down = down
        self.acked: list[bytes] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(256 * 1024, 0)  # no compression

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> Any:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if partition == self.down:
            fut.set_exception(KafkaTimeoutError())
        else:
            fut.set_result(None)
        return fut


async def test_unacknowledged_events_answer_503_and_keep_no_idempotency_key(
    database_url: str,
) -> None:
    from aiokafka.partitioner import DefaultPartitioner

    store = await DedupStore.connect(database_url)
    prefix = unique("part")
    customers = [f"C-{i}" for i in range(12)]
    down = DefaultPartitioner()(customers[0].encode(), [0, 1, 2], [0, 1, 2])
    events = [event(i, c, prefix=prefix) for i, c in enumerate(customers)]
    lost = {
        e["event_id"]
        for e in events
        if DefaultPartitioner()(e["customer_id"].encode(), [0, 1, 2], [0, 1, 2]) == down
    }
    service = IngestService(
        producer=_OnePartitionDown(down),
        store=store,
        metrics=IngestMetrics(),
        topic="t",
        limits=DEFAULT_LIMITS,
        max_batch=100,
        publish_timeout=2.0,
    )
    try:
        results = await service.ingest(orjson.dumps(events))
        assert status_code(results) == 503
        body = response_body(results, detail="x")
        assert {r["event_id"] for r in body["results"] if r["status"] == "unavailable"} == lost
        assert body["accepted"] == len(events) - len(lost)

        service.producer = _OnePartitionDown(down=-1)
        retry = await service.ingest(orjson.dumps(events))
        by_status = {r.event_id: r.status for r in retry}
        assert {i for i, s in by_status.items() if s == "accepted"} == lost  # republished
        assert {i for i, s in by_status.items() if s == "duplicate"} == {
            e["event_id"] for e in events
        } - lost
    finally:
        await store.close()
