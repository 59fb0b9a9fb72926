"""After producer timeouts under concurrent load, ingest accepts again and counts a resend once.

The soak's stall (issue 12) looked like ingest wedging after its first 503s; the wedge was the
load generator (bench/soak_load.py), but the property it put in doubt is ingest's: requests that
time out waiting for Kafka's acks, more of them at once than the idempotency store has
connections, must give back every connection and row lock, and leave the producer usable.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from churnwatch_ingest import IngestSettings, create_app
from churnwatch_runtime.db import asyncpg_dsn
from tests.integration.ingest.support import event, read_topic, serve
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

POOL = 3  # database connections: fewer than the requests in flight at once
BATCHES, PER_BATCH = 7, 10


async def _post_until_answered(
    client: httpx.AsyncClient, body: list[dict[str, Any]], deadline: float
) -> httpx.Response:
    """What a well-behaved client does: resend the same body after Retry-After until not 503."""
    while True:
        answer = await client.post("/v1/events", json=body)
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(float(answer.headers["retry-after"]))


async def test_producer_timeouts_release_everything_and_resends_count_once(
    kafka: Broker, ingest_settings: IngestSettings, ingest_key: str
) -> None:
    settings = ingest_settings.model_copy(update={"db_pool_size": POOL})
    prefix = unique("over")
    batches = [
        [
            event(b * PER_BATCH + i, customer=f"{prefix}-c{i}", prefix=prefix)
            for i in range(PER_BATCH)
        ]
        for b in range(BATCHES)
    ]
    ids = {e["event_id"] for b in batches for e in b}
    app = create_app(settings)
    async with serve(app, key=ingest_key) as client:
        warm = await client.post("/v1/events", json=event(-1, prefix=prefix))
        assert warm.status_code == 200

        await asyncio.to_thread(kafka.stop)  # no acks: every publish times out
        try:
            refused = await asyncio.gather(*(client.post("/v1/events", json=b) for b in batches))
        finally:
            await asyncio.to_thread(kafka.start)

        assert [r.status_code for r in refused] == [503] * BATCHES
        assert all(r.headers["retry-after"] == str(settings.retry_after_s) for r in refused)
        statuses = {x["status"] for r in refused for x in r.json()["results"]}
        assert statuses == {"unavailable"}  # a 503'd event is not acknowledged

        deadline = time.monotonic() + 120
        resent = await asyncio.gather(*(_post_until_answered(client, b, deadline) for b in batches))
        assert [r.status_code for r in resent] == [200] * BATCHES
        # nothing was kept for a 503'd event: its resend is accepted, not a duplicate
        assert {x["status"] for r in resent for x in r.json()["results"]} == {"accepted"}

        again = await asyncio.gather(*(client.post("/v1/events", json=b) for b in batches))
        assert {x["status"] for r in again for x in r.json()["results"]} == {"duplicate"}

        # more requests at once than the pool has connections: none is still held by a 503
        fresh = [event(1000 + i, prefix=prefix) for i in range(4 * POOL)]
        after = await asyncio.gather(*(client.post("/v1/events", json=e) for e in fresh))
        assert [r.status_code for r in after] == [200] * len(fresh)
        assert (await client.get("/readyz")).status_code == 200

        accepted = app.state.metrics.registry.get_sample_value(
            "cw_ingest_events_accepted_total", {"source": "http"}
        )
    assert accepted == 1 + len(ids) + len(fresh)  # each event counted once, 503s not at all

    conn = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        held = await conn.fetchval(
            "SELECT count(*) FROM ingest_event_ids WHERE event_id LIKE $1", f"{prefix}-%"
        )
    finally:
        await conn.close()
    assert held == 1 + len(ids) + len(fresh)

    # none lost: every acknowledged event is on the topic (a 503'd copy may be there too, the
    # producer kept retrying it: at least once, and consumers drop the repeat by event_id)
    wanted = 1 + len(ids) + len(fresh)
    records = await read_topic(settings.kafka_bootstrap, settings.topics.events, at_least=wanted)
    on_topic = {orjson.loads(r.value)["event_id"] for r in records}
    assert ids | {e["event_id"] for e in fresh} <= on_topic
