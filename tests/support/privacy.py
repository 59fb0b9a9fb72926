"""Helpers of the personal-data tests: ingest events for real, and look for plaintext anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.events import DEFAULT_LIMITS
from churnwatch_ingest.dedup import DedupStore
from churnwatch_ingest.metrics import IngestMetrics
from churnwatch_ingest.results import EventResult
from churnwatch_ingest.service import IngestService
from churnwatch_runtime.kafka import make_producer

_COLUMNS = text(
    "SELECT table_name, column_name, data_type FROM information_schema.columns"
    " WHERE table_schema = 'public'"
    " AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')"
    " ORDER BY table_name, column_name"
)


async def ingest(
    database_url: str, bootstrap: str, topic: str, events: Sequence[dict[str, Any]]
) -> list[EventResult]:
    """POST /v1/events minus HTTP: the real `IngestService` (validation, keys, seal, publish)."""
    store = await DedupStore.connect(database_url, size=2)
    producer = make_producer(bootstrap, linger_ms=5)
    await producer.start()
    try:
        service = IngestService(
            producer=producer,
            store=store,
            metrics=IngestMetrics(),
            topic=topic,
            limits=DEFAULT_LIMITS,
            max_batch=100,
            publish_timeout=15.0,
        )
        results = await service.ingest(orjson.dumps(list(events)))
    finally:
        await producer.stop()
        await store.close()
    assert {r.status for r in results} == {"accepted"}, results
    return results


async def columns_holding(engine: AsyncEngine, needles: Sequence[str]) -> list[str]:
    """``table.column`` of every text, json, array or bytea column where any needle occurs
    (case-insensitive; bytea byte for byte): the whole database, not a list of known places."""
    found: list[str] = []
    async with engine.connect() as conn:
        columns = (await conn.execute(_COLUMNS)).all()
        for table, column, kind in columns:
            for needle in needles:
                if kind == "bytea":
                    where = f"position(convert_to(:n, 'UTF8') in \"{column}\") > 0"
                else:
                    where = f"\"{column}\"::text ILIKE '%' || :n || '%'"
                sql = text(f'SELECT count(*) FROM "{table}" WHERE {where}')
                if await conn.scalar(sql, {"n": needle}):
                    found.append(f"{table}.{column}")
                    break
    return found
