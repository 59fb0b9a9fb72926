"""Data quality end to end: a known mix of HTTP events and raw records through the real ingest
app and a real raw-validator process (real broker, real PostgreSQL) → ``quality_daily`` →
``GET /v1/quality`` shows exactly those counts; the raw validator's ``/metrics`` shows its
dead letters (they were invisible in the demo).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from churnwatch.events import EventType
from churnwatch_ingest import IngestSettings, create_app
from churnwatch_runtime.infra._proc import free_port
from churnwatch_runtime.kafka import make_producer
from churnwatch_runtime.settings import TopicNames
from tests.integration.api.support import bearer
from tests.integration.ingest.support import PARTITIONS, event, serve
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]
MakeKey = Callable[..., Awaitable[str]]
ROOT = Path(__file__).resolve().parents[3]


def _missing_time(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "occurred_at"}


async def _post_http_mix(settings: IngestSettings, key: str, p: str) -> None:
    def ev(n: int, source: str) -> dict[str, Any]:
        return event(n, f"C-{n}", EventType.SESSION, prefix=p, source=source)

    async with serve(create_app(settings), key) as client:
        first = [ev(1, "shop-web"), ev(2, "shop-web"), ev(3, "shop-web"), ev(1, "shop-web"),
                 _missing_time(ev(5, "shop-web")), 42]  # fmt: skip
        r = await client.post("/v1/events", json=first)
        assert r.status_code == 207, r.text
        assert (r.json()["accepted"], r.json()["duplicates"], r.json()["rejected"]) == (3, 1, 2)
        r = await client.post("/v1/events", json=[ev(2, "shop-web"), ev(4, "billing")])
        assert (r.status_code, r.json()["accepted"], r.json()["duplicates"]) == (200, 1, 1)
        r = await client.post("/v1/events", json=_missing_time(ev(6, "billing")))
        assert r.status_code == 422, r.text  # nothing valid: counted outside a reservation


async def _produce_raw(bootstrap: str, topic: str, p: str) -> None:
    def doc(n: int) -> bytes:
        return orjson.dumps(event(n, "C-9", EventType.SESSION, prefix=p, source="app"))

    records = [(b"C-9", doc(11)), (b"C-9", doc(12)), (b"C-9", doc(11)),
               (b"C-9", b"\x00not json"), (b"C-8", doc(13))]  # fmt: skip
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        for k, v in records:
            await (await producer.send(topic, v, key=k))
    finally:
        await producer.stop()


async def _quality(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    r = await client.get(
        "/v1/quality",
        params={"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))},
        headers=bearer(key),
    )
    assert r.status_code == 200, r.text
    return {s["source"]: s for s in r.json()["sources"]}


async def test_quality_counts_http_and_raw_paths(
    kafka: Broker,
    fresh_database: str,
    topic_factory: Topic,
    api_client: httpx.AsyncClient,
    make_key: MakeKey,
) -> None:
    topics = TopicNames(
        events=await topic_factory("events", partitions=PARTITIONS),
        events_raw=await topic_factory("raw", partitions=PARTITIONS),
        events_dlq=await topic_factory("dlq", partitions=PARTITIONS),
    )
    settings = IngestSettings(
        kafka_bootstrap=kafka.bootstrap, database_url=fresh_database, topics=topics,
        topic_partitions=PARTITIONS, raw_group_id=unique("cw-quality-raw"),
    )  # fmt: skip
    p = unique("q")
    await _post_http_mix(settings, await make_key(["events:write"]), p)
    await _produce_raw(kafka.bootstrap, topics.events_raw, p)

    port = free_port()
    env = {
        **os.environ, "CW_KAFKA_BOOTSTRAP": kafka.bootstrap, "DATABASE_URL": fresh_database,
        "CW_TOPIC_EVENTS": topics.events, "CW_TOPIC_EVENTS_RAW": topics.events_raw,
        "CW_TOPIC_EVENTS_DLQ": topics.events_dlq, "CW_INGEST_RAW_GROUP_ID": settings.raw_group_id,
        "CW_INGEST_RAW_METRICS_PORT": str(port), "CW_INGEST_HOST": "127.0.0.1",
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "churnwatch_ingest", "raw"], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    reader = await make_key(["read"])
    try:
        deadline = time.monotonic() + 60
        while True:  # until the raw validator committed its batch(es)
            got = await _quality(api_client, reader)
            if sum(s["dlq"] + s["accepted"] for s in got.values() if s["source"] != "billing") >= 7:
                break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, f"raw counts never arrived: {got}"
            await asyncio.sleep(0.3)
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        proc.terminate()
        proc.wait(30)

    def counts(s: dict[str, Any]) -> tuple[Any, ...]:
        return (s["accepted"], s["duplicate"], s["rejected"], s["dlq"], s["late"],
                s["rejected_by_reason"], s["dlq_by_reason"])  # fmt: skip

    assert {source: counts(s) for source, s in got.items()} == {
        # HTTP: e1 e2 e3 accepted, e1 again in the body and e2 in the next request duplicates
        "shop-web": (3, 2, 1, 0, 0, {"missing": 1}, {}),
        "billing": (1, 0, 1, 0, 0, {"missing": 1}, {}),
        # raw: r11 r12 published, r11 again dropped, r13 keyed by another customer dead-lettered
        "app": (2, 1, 0, 1, 0, {}, {"key_mismatch": 1}),
        # no readable source: 42 posted as an event, raw bytes that are not JSON
        "unknown": (0, 0, 1, 1, 0, {"not_an_object": 1}, {"invalid_json": 1}),
    }
    assert [sum(d["accepted"] for d in s["days"]) for s in got.values()] == [
        s["accepted"] for s in got.values()
    ]
    assert 'cw_ingest_dlq_records_total{reason="key_mismatch"} 1.0' in metrics
    assert 'cw_ingest_dlq_records_total{reason="invalid_json"} 1.0' in metrics
    assert 'cw_ingest_events_accepted_total{source="kafka"} 2.0' in metrics
