"""Every event type of the contract goes through POST /v1/events onto cw.events (real broker)."""

from __future__ import annotations

import orjson
import pytest

from churnwatch.events import EventType
from churnwatch_ingest import IngestSettings, create_app
from tests.integration.ingest.support import event, read_topic, serve
from tests.support.infra import unique

pytestmark = pytest.mark.integration


async def test_each_event_type_is_accepted_and_published_with_its_type(
    ingest_settings: IngestSettings,
    ingest_key: str,
) -> None:
    prefix = unique("types")
    kinds = [k for k in EventType if k is not EventType.CUSTOMER_ERASED]  # needs events:erase
    assert EventType.SUBSCRIPTION_EXPIRED in kinds
    batch = [event(n, f"C-{n}", kind, prefix=prefix) for n, kind in enumerate(kinds)]
    async with serve(create_app(ingest_settings), key=ingest_key) as client:
        response = await client.post("/v1/events", json=batch)
    assert response.status_code == 200
    assert response.json()["accepted"] == len(kinds)

    records = await read_topic(ingest_settings.kafka_bootstrap, ingest_settings.topics.events)
    published = {
        orjson.loads(r.value)["event_id"]: dict(r.headers)["cw-event-type"].decode()
        for r in records
        if orjson.loads(r.value)["event_id"].startswith(prefix)
    }
    assert published == {f"{prefix}-{n}": kind.value for n, kind in enumerate(kinds)}
