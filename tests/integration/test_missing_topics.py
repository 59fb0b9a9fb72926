"""The test broker runs with ``auto.create.topics.enable=false`` (deploy/kafka/server.properties),
as production should: a missing topic is an error to see, never a topic silently created with the
broker's defaults (one partition count for all, default retention).

- Producing to a missing topic fails within the producer's request timeout with
  ``UnknownTopicOrPartitionError``, not a hang, and creates nothing.
- A worker subscribed to a missing topic logs an error naming it, is not ready and says why in its
  status (``missing_topics``, ``last_error``: what ``/readyz`` serves), is assigned nothing and
  creates nothing; it stops when asked (it used to wait inside aiokafka's ``consumer.start()``,
  deaf to SIGTERM), and starts by itself once the topic is created.

Planted bugs these tests were seen to catch: ``auto.create.topics.enable=true`` in the broker's
configuration (the send succeeds and the topic appears); ``Worker.run`` awaiting
``consumer.start()`` without the topic check (never stops, says nothing of the topic); the topic
check done once instead of retried (never starts after the topic is created).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest
from aiokafka.errors import UnknownTopicOrPartitionError
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.kafka import ensure_topics, make_producer, topic_partitions
from churnwatch_runtime.worker import Worker, WorkerConfig
from tests.integration.worker.counter_worker import CounterProcessor, counts, create_tables
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration


async def test_producing_to_a_missing_topic_fails_clearly_and_creates_nothing(
    kafka: Broker,
) -> None:
    missing = unique("missing").replace("_", ".")
    producer = make_producer(kafka.bootstrap, request_timeout_ms=2000)
    await producer.start()
    try:
        started = time.monotonic()
        with pytest.raises(UnknownTopicOrPartitionError):
            await asyncio.wait_for(producer.send_and_wait(missing, b"v", key=b"k"), 30)
        assert time.monotonic() - started < 30  # the client's own error, not our wait_for
    finally:
        await producer.stop()
    assert await topic_partitions(kafka.bootstrap, missing) == 0


async def _worker_on_a_missing_topic(
    kafka: Broker, db: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> tuple[str, Worker, asyncio.Event, asyncio.Task[None]]:
    """A worker subscribed to a missing topic, once it logged the topic's absence."""
    missing = unique("missing").replace("_", ".")
    await create_tables(db)
    worker = Worker(
        db, CounterProcessor(f"{missing}.out"), bootstrap=kafka.bootstrap, topics=[missing],
        group_id=unique("g"), config=WorkerConfig(max_wait_ms=100),
    )  # fmt: skip
    stop = asyncio.Event()
    caplog.set_level(logging.ERROR, logger="churnwatch_runtime.worker")
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + 30
    while not any(missing in str(getattr(r, "error", "")) for r in caplog.records):
        assert not task.done(), task
        assert time.monotonic() < deadline, "no error naming the missing topic was logged"
        await asyncio.sleep(0.1)
    return missing, worker, stop, task


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_worker_on_a_missing_topic_logs_it_is_not_ready_and_creates_nothing(
    kafka: Broker, db: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    missing, worker, _, task = await _worker_on_a_missing_topic(kafka, db, caplog)
    try:
        status = worker.status()
        assert not status.ready  # /readyz says 503: the operator sees it, and why
        assert status.missing_topics == (missing,)
        assert status.last_error is not None
        assert f"topic {missing} does not exist" in status.last_error
        assert status.to_dict()["missing_topics"] == (missing,)
        assert status.assigned == ()
        assert status.records == 0
        assert await topic_partitions(kafka.bootstrap, missing) == 0
    finally:
        await _cancel(task)


async def test_a_worker_on_a_missing_topic_still_stops_when_asked(
    kafka: Broker, db: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    _, worker, stop, task = await _worker_on_a_missing_topic(kafka, db, caplog)
    stop.set()
    try:
        await asyncio.wait_for(asyncio.shield(task), 10)
    finally:
        await _cancel(task)
    assert task.exception() is None  # a clean return, as after SIGTERM
    assert not worker.status().running


async def test_a_worker_starts_once_its_missing_topic_is_created(
    kafka: Broker, db: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    missing, worker, stop, task = await _worker_on_a_missing_topic(kafka, db, caplog)
    try:
        await ensure_topics(kafka.bootstrap, [missing], partitions=2)
        producer = make_producer(kafka.bootstrap)
        await producer.start()
        try:
            for i in range(5):
                await producer.send_and_wait(missing, b"v", key=f"k{i % 2}".encode())
        finally:
            await producer.stop()
        deadline = time.monotonic() + 60
        while await counts(db) != {"k0": 3, "k1": 2}:
            assert not task.done(), task
            assert time.monotonic() < deadline, (worker.status(), await counts(db))
            await asyncio.sleep(0.2)
        assert worker.status().missing_topics == ()
        stop.set()
        await asyncio.wait_for(asyncio.shield(task), 30)
    finally:
        await _cancel(task)
