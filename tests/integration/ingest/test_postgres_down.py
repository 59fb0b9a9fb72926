"""Ingest and the raw validator with their PostgreSQL stopped, then started again.

A private PostgreSQL (the project's launcher on a free port, its own data directory) is stopped
and restarted here, so the session's shared server is never disturbed. Kafka is the shared
broker, with per-test topics.

- HTTP: while the idempotency store is down, ``POST /v1/events`` answers 503 with Retry-After
  and every event ``unavailable``, nothing reaches ``cw.events``; once the server is back, the
  client's retries are accepted and each event is on ``cw.events`` exactly once.
- Raw path: records arriving while the store is down are neither published nor committed (the
  consumer group's offsets stay where they were); when it is back, the validator resumes and
  every record is on ``cw.events`` exactly once, the offsets at the end.

Planted bugs these tests were seen to catch: ingest answering a store failure with
``duplicate`` (a 200: the client stops retrying, the events are lost); the raw validator
committing a failed batch's offsets instead of seeking back to it (the records of the outage are
skipped).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from churnwatch.events import EventType
from churnwatch_ingest import IngestSettings, create_app, run_raw_validator
from churnwatch_runtime.db import upgrade
from churnwatch_runtime.infra import LocalPostgres
from churnwatch_runtime.infra._proc import free_port
from churnwatch_runtime.kafka import make_producer
from tests.integration.ingest.support import PARTITIONS, event, read_topic, serve
from tests.support.infra import unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def private_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    """A PostgreSQL of this module's own, migrated; the tests stop and start it."""
    server = LocalPostgres(home=tmp_path_factory.mktemp("pg-down"), port=free_port())
    server.start()
    upgrade(server.url())
    yield server
    server.stop()


@pytest.fixture
def settings(
    private_pg: LocalPostgres, ingest_settings: IngestSettings
) -> Iterator[IngestSettings]:
    """The test's topics on the shared broker, the private database; no key needed (the
    authenticator would need the stopped database too: the store's failure is under test)."""
    yield ingest_settings.model_copy(
        update={
            "database_url": private_pg.url(),
            "auth": False,
            "db_pool_size": 2,
            "retry_after_s": 1,
            "raw_retry_backoff_s": 0.3,
        }
    )
    if not private_pg.running():  # a failed test must not leave the next one without it
        private_pg.start()


async def _stop(pg: LocalPostgres) -> None:
    assert await asyncio.to_thread(pg.stop)
    assert not pg.running()


async def _start(pg: LocalPostgres) -> None:
    await asyncio.to_thread(pg.start)


async def _post_until_accepted(
    client: httpx.AsyncClient, body: list[dict[str, object]], timeout: float = 60
) -> httpx.Response:
    """What a client does on a 503: wait Retry-After, send the same body again."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await client.post("/v1/events", json=body)
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(float(answer.headers["retry-after"]))


async def test_ingest_answers_503_while_postgres_is_down_and_loses_nothing(
    private_pg: LocalPostgres, settings: IngestSettings
) -> None:
    p = unique("pgdown")
    before = [event(0, "C-1", prefix=p)]
    during = [event(n, f"C-{n}", prefix=p) for n in range(1, 6)]
    async with serve(create_app(settings)) as client:
        assert (await client.post("/v1/events", json=before)).status_code == 200

        await _stop(private_pg)
        try:
            down = await client.post("/v1/events", json=during)
            ready = await client.get("/readyz")
            mid = await read_topic(settings.kafka_bootstrap, settings.topics.events, at_least=1)
        finally:
            await _start(private_pg)

        assert down.status_code == 503
        assert down.headers["retry-after"] == "1"
        assert down.headers["content-type"].startswith("application/problem+json")
        assert [r["status"] for r in down.json()["results"]] == ["unavailable"] * len(during)
        assert ready.status_code == 503
        assert [orjson.loads(r.value)["event_id"] for r in mid] == [before[0]["event_id"]]

        again = await _post_until_accepted(client, during)
        assert again.status_code == 200, again.text
        assert [r["status"] for r in again.json()["results"]] == ["accepted"] * len(during)
        repeat = await client.post("/v1/events", json=[*before, *during])  # the store remembers
        assert [r["status"] for r in repeat.json()["results"]] == ["duplicate"] * 6

    records = await read_topic(settings.kafka_bootstrap, settings.topics.events, at_least=6)
    ids = Counter(orjson.loads(r.value)["event_id"] for r in records)
    assert ids == Counter(e["event_id"] for e in [*before, *during])  # each exactly once


async def test_the_raw_validator_commits_nothing_while_postgres_is_down_then_resumes(
    private_pg: LocalPostgres, settings: IngestSettings
) -> None:
    bootstrap, topics = settings.kafka_bootstrap, settings.topics
    p = unique("rawdown")
    first = [event(n, "C-7", EventType.SESSION, prefix=p) for n in range(3)]
    outage = [event(n, f"C-{n % 4}", EventType.SESSION, prefix=p) for n in range(3, 23)]
    stop = asyncio.Event()
    task = asyncio.create_task(run_raw_validator(settings, stop))
    try:
        await _produce(bootstrap, topics.events_raw, first)
        await _until(lambda: _count(bootstrap, topics.events, 3), task)
        await _until(lambda: _committed_total(settings, 3), task)

        await _stop(private_pg)
        try:
            await _produce(bootstrap, topics.events_raw, outage)
            await asyncio.sleep(3.0)  # several failed attempts at the outage's records
            assert not task.done()  # a database outage does not stop the validator
            committed_down = await _committed(settings)
            published_down = len(await read_topic(bootstrap, topics.events, at_least=3))
        finally:
            await _start(private_pg)

        await _until(lambda: _count(bootstrap, topics.events, 23), task)
        await _until(lambda: _committed_total(settings, 23), task)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)

    assert sum(committed_down.values()) == 3  # nothing past the records it could not dedup
    assert published_down == 3
    records = await read_topic(bootstrap, topics.events, at_least=23)
    ids = Counter(orjson.loads(r.value)["event_id"] for r in records)
    assert ids == Counter(e["event_id"] for e in [*first, *outage])  # each exactly once
    assert await _committed(settings) == await _ends(settings)


async def _produce(bootstrap: str, topic: str, events: list[dict[str, object]]) -> None:
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(topic, orjson.dumps(e), key=str(e["customer_id"]).encode())
    finally:
        await producer.stop()


async def _until(
    check: Callable[[], Awaitable[bool]], task: asyncio.Task[None], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if task.done():
            task.result()
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)


async def _count(bootstrap: str, topic: str, n: int) -> bool:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, i) for i in range(PARTITIONS)]
        return bool(sum((await consumer.end_offsets(parts)).values()) >= n)
    finally:
        await consumer.stop()


async def _committed(settings: IngestSettings) -> dict[int, int]:
    """The raw validator group's committed offsets on the raw topic (0: none yet)."""
    view = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=settings.raw_group_id,
        enable_auto_commit=False,
    )  # fmt: skip
    await view.start()
    try:
        parts = [TopicPartition(settings.topics.events_raw, i) for i in range(PARTITIONS)]
        return {tp.partition: (await view.committed(tp)) or 0 for tp in parts}
    finally:
        await view.stop()


async def _committed_total(settings: IngestSettings, n: int) -> bool:
    return sum((await _committed(settings)).values()) >= n


async def _ends(settings: IngestSettings) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(settings.topics.events_raw, i) for i in range(PARTITIONS)]
        return {tp.partition: n for tp, n in (await consumer.end_offsets(parts)).items()}
    finally:
        await consumer.stop()
