"""The ingest app's own purge task (``purge_forever`` in its lifespan) on the real database.

Ids received before the dedup window are deleted by the running app; ids inside the window (even
six days old of seven) are kept, and an event re-sent after a purge is still a duplicate, while
an event whose id was purged is accepted and published again.

Planted bugs this test was seen to catch: the purge's cut-off on the wrong side of now
(``now + window``: every id goes, the re-sent fresh event is accepted and published twice); the
lifespan handing the purge task a window a hundred times too long (the expired ids stay).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson
import pytest

from churnwatch_ingest import IngestSettings, create_app
from churnwatch_runtime.db import asyncpg_dsn
from tests.integration.ingest.support import event, read_topic, serve
from tests.support.infra import unique

pytestmark = pytest.mark.integration


async def _received(dsn: str, ids: list[str]) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT event_id FROM ingest_event_ids WHERE event_id = ANY($1::text[])", ids
        )
        return {r[0] for r in rows}
    finally:
        await conn.close()


async def test_the_running_app_purges_expired_ids_and_keeps_the_window(
    fresh_database: str, ingest_settings: IngestSettings
) -> None:
    settings = ingest_settings.model_copy(
        update={
            "database_url": fresh_database,
            "auth": False,
            "dedup_window": timedelta(days=7),
            "dedup_purge_interval_s": 0.2,
        }
    )
    p = unique("purge")
    expired = [event(n, f"C-{n}", prefix=p) for n in range(3)]
    kept = [event(n, f"C-{n}", prefix=p) for n in range(3, 6)]
    now = datetime.now(UTC)
    dsn = asyncpg_dsn(fresh_database)
    conn = await asyncpg.connect(dsn)
    try:  # as if received 8 days ago (expired) and 6 days ago (inside the window)
        for events, age in ((expired, 8), (kept, 6)):
            await conn.executemany(
                "INSERT INTO ingest_event_ids (event_id, customer_id, received_at)"
                " VALUES ($1, $2, $3)",
                [(e["event_id"], e["customer_id"], now - timedelta(days=age)) for e in events],
            )
    finally:
        await conn.close()
    all_ids = [e["event_id"] for e in [*expired, *kept]]
    assert await _received(dsn, all_ids) == set(all_ids)

    async with serve(create_app(settings)) as client:
        deadline = time.monotonic() + 30
        while await _received(dsn, [e["event_id"] for e in expired]):
            assert time.monotonic() < deadline, "the app never purged the expired ids"
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # a few more purges: the window's ids must survive them too
        assert await _received(dsn, all_ids) == {e["event_id"] for e in kept}

        again = await client.post("/v1/events", json=[*kept, *expired])
        assert again.status_code == 200, again.text
        statuses = [r["status"] for r in again.json()["results"]]
        assert statuses == ["duplicate"] * len(kept) + ["accepted"] * len(expired)

    records = await read_topic(settings.kafka_bootstrap, settings.topics.events, at_least=3)
    assert sorted(orjson.loads(r.value)["event_id"] for r in records) == sorted(
        e["event_id"] for e in expired
    )  # only the purged ones were published again
