"""POST /v1/events on the real broker and database: keyed, ordered, deduplicated, honest."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import orjson
import pytest

from churnwatch.events import EventType
from churnwatch_ingest import IngestSettings, create_app
from churnwatch_ingest.schemas import IngestResponse
from tests.integration.ingest.support import event, make_key, read_topic, serve
from tests.support.infra import unique

pytestmark = pytest.mark.integration
JSON = {"content-type": "application/json"}


async def test_posted_events_are_on_cw_events_keyed_by_customer_in_order(
    ingest_settings: IngestSettings,
    ingest_key: str,
) -> None:
    customers = [f"C-{i}" for i in range(5)]
    events = [event(n, customers[n % 5], prefix="ord") for n in range(60)]
    async with serve(create_app(ingest_settings), key=ingest_key) as client:
        single = await client.post("/v1/events", json=events[0])
        batch1 = await client.post("/v1/events", json=events[1:30])
        batch2 = await client.post("/v1/events", content=orjson.dumps(events[30:]), headers=JSON)
    assert single.status_code == 200
    assert single.json()["results"] == [
        {"index": 0, "event_id": "ord-0", "status": "accepted", "errors": []}
    ]
    assert (batch1.status_code, batch1.json()["accepted"]) == (200, 29)
    assert (batch2.status_code, batch2.json()["accepted"]) == (200, 30)
    IngestResponse.model_validate(batch2.json())

    records = await read_topic(ingest_settings.kafka_bootstrap, ingest_settings.topics.events)
    assert len(records) == 60
    per_customer: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for record in records:
        value = orjson.loads(record.value)
        assert record.key == value["customer_id"].encode()
        assert dict(record.headers)["cw-source"] == b"http"
        assert dict(record.headers)["cw-event-type"] == b"purchase"
        per_customer[value["customer_id"]].append(int(value["event_id"].split("-")[1]))
        partitions[value["customer_id"]].add(record.partition)
    assert all(len(p) == 1 for p in partitions.values())  # one customer, one partition
    for customer, seq in per_customer.items():
        expected = [n for n in range(60) if customers[n % 5] == customer]
        assert seq == expected


async def test_a_duplicate_is_not_republished_even_after_a_restart(
    ingest_settings: IngestSettings,
    ingest_key: str,
) -> None:
    prefix = unique("dup")
    events = [event(n, f"C-{n % 2}", prefix=prefix) for n in range(4)]
    async with serve(create_app(ingest_settings), key=ingest_key) as client:
        first = await client.post("/v1/events", json=events[:3])
        again = await client.post("/v1/events", json=[events[0], events[3], events[3]])
    assert first.json()["accepted"] == 3
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "accepted", "duplicate"]

    # a new process, the same database
    async with serve(create_app(ingest_settings), key=ingest_key) as client:
        after_restart = await client.post("/v1/events", json=events)
    assert after_restart.status_code == 200
    assert after_restart.json()["duplicates"] == 4

    records = await read_topic(ingest_settings.kafka_bootstrap, ingest_settings.topics.events)
    ids = sorted(orjson.loads(r.value)["event_id"] for r in records)
    assert ids == sorted(e["event_id"] for e in events)


async def test_concurrent_requests_with_one_event_id_publish_it_once(
    ingest_settings: IngestSettings,
    ingest_key: str,
) -> None:
    same = event(1, prefix=unique("race"))
    async with serve(create_app(ingest_settings), key=ingest_key) as client:
        answers = await asyncio.gather(*(client.post("/v1/events", json=same) for _ in range(8)))
    statuses = sorted(a.json()["results"][0]["status"] for a in answers)
    assert statuses == ["accepted"] + ["duplicate"] * 7
    records = await read_topic(ingest_settings.kafka_bootstrap, ingest_settings.topics.events)
    assert len(records) == 1


async def test_a_batch_with_bad_events_rejects_exactly_those(
    ingest_settings: IngestSettings,
    ingest_key: str,
) -> None:
    prefix = unique("mix")
    good = [event(n, prefix=prefix) for n in range(4)]
    negative = event(10, event_type=EventType.REFUND, prefix=prefix)
    negative["attributes"]["amount"] = "-3.00"
    unknown = event(11, prefix=prefix, event_type=EventType.PURCHASE)
    unknown["event_type"] = "purchased"
    future = event(12, prefix=prefix, occurred_at="2999-01-01T00:00:00Z")
    body = [good[0], negative, good[1], unknown, good[2], future, good[3]]
    async with serve(create_app(ingest_settings), key=ingest_key) as client:
        mixed = await client.post("/v1/events", json=body)
        all_bad = await client.post("/v1/events", json=[negative, unknown])
        too_many = await client.post("/v1/events", json=[good[0]] * 1001)
        empty = await client.post("/v1/events", json=[])
        garbage = await client.post("/v1/events", content=b"{oops", headers=JSON)
        too_big = await client.post(
            "/v1/events", content=b" " * (8 * 1024 * 1024 + 1), headers=JSON
        )

    assert mixed.status_code == 207
    doc = mixed.json()
    assert (doc["accepted"], doc["duplicates"], doc["rejected"]) == (4, 0, 3)
    rejected = {r["index"]: r["errors"][0]["code"] for r in doc["results"] if r["errors"]}
    assert rejected == {1: "negative_amount", 3: "unknown_event_type", 5: "in_future"}
    assert doc["results"][1]["errors"][0]["field"] == "attributes.amount"
    assert all_bad.status_code == 422
    assert all_bad.json()["rejected"] == 2
    assert too_many.status_code == 413
    assert empty.status_code == 422
    assert empty.headers["content-type"] == "application/problem+json"
    assert empty.json()["errors"][0]["field"] == "body"
    assert all_bad.headers["content-type"] == "application/problem+json"
    assert all_bad.json()["title"] == "Every event rejected"
    assert too_big.json()["status"] == 413
    assert garbage.status_code == 422
    assert garbage.json()["results"][0]["errors"][0]["code"] == "invalid_json"
    assert too_big.status_code == 413

    records = await read_topic(ingest_settings.kafka_bootstrap, ingest_settings.topics.events)
    assert sorted(orjson.loads(r.value)["event_id"] for r in records) == sorted(
        e["event_id"] for e in good
    )


async def test_health_schema_and_metrics(ingest_settings: IngestSettings, ingest_key: str) -> None:
    reader = await make_key(ingest_settings.database_url, ["read"])
    async with serve(create_app(ingest_settings), key=ingest_key) as client:
        await client.post("/v1/events", json=[event(1, prefix=unique("m")), {"event_id": "x"}])
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        schema = await client.get("/v1/schema/events")
        writer_only = await client.get("/metrics")  # events:write is not read
        metrics = (await client.get("/metrics", headers={"Authorization": f"Bearer {reader}"})).text
    assert writer_only.status_code == 403
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json()["kafka"] == ready.json()["database"] == "ok"
    assert schema.json()["discriminator"]["propertyName"] == "event_type"
    assert 'cw_ingest_events_accepted_total{source="http"} 1.0' in metrics
    assert 'cw_ingest_events_rejected_total{reason="missing",source="http"} 1.0' in metrics
    assert "cw_ingest_produce_seconds_bucket" in metrics
