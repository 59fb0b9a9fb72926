"""The worker loop on the real broker and database: once per record, resume, rebalance, fencing."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db import make_engine
from churnwatch_runtime.worker import Worker, WorkerConfig
from tests.integration.worker.counter_worker import CounterProcessor, counts, create_tables
from tests.integration.worker.support import produce, wait_until
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

TopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def db(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(fresh_database)
    await create_tables(engine)
    yield engine
    await engine.dispose()


class Running:
    """A worker running as a task, with its own stop event."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(worker.run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)


def start(
    db: AsyncEngine, kafka: Broker, topic: str, group: str, *, slow_ms: int = 0, **config: int
) -> Running:
    processor = CounterProcessor(f"{topic}.out", slow_ms=slow_ms)
    cfg = WorkerConfig(max_wait_ms=100, kafka_commit_interval=0.2, **config)  # type: ignore[arg-type]
    return Running(
        Worker(db, processor, bootstrap=kafka.bootstrap, topics=[topic], group_id=group, config=cfg)
    )


async def total(db: AsyncEngine) -> int:
    return sum((await counts(db)).values())


async def stored_offsets(db: AsyncEngine, group: str) -> dict[int, int]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT partition, next_offset FROM consumer_offsets WHERE group_id = :g"),
            {"g": group},
        )
        return {p: int(n) for p, n in rows}


async def end_offsets(kafka: Broker, topic: str, partitions: int = 6) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return {tp.partition: n for tp, n in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def outbox_ids(db: AsyncEngine) -> list[str]:
    async with db.connect() as conn:
        rows = await conn.execute(text("SELECT headers->0->>1 FROM outbox ORDER BY id"))
        return [r[0] for r in rows]


async def test_every_record_is_processed_once(
    db: AsyncEngine, kafka: Broker, topic_factory: TopicFactory
) -> None:
    topic = await topic_factory("w.once")
    group = unique("g")
    expected = await produce(kafka.bootstrap, topic, 3000)
    running = start(db, kafka, topic, group, max_records=250)
    await wait_until(lambda: _reached(db, 3000))
    status = running.worker.status()
    await running.close()

    assert await counts(db) == dict(expected)
    ids = await outbox_ids(db)
    assert len(ids) == len(set(ids)) == 3000
    assert await stored_offsets(db, group) == await end_offsets(kafka, topic)
    assert status.ready
    assert status.records == 3000
    assert len(status.assigned) == 6
    assert status.batches >= 3000 // 250
    assert sum(status.lag.values()) == 0
    processor = running.worker.processor
    assert isinstance(processor, CounterProcessor)
    assert processor.owned == set()  # revoked on close: caches dropped


async def test_restart_resumes_from_stored_offsets_not_kafkas(
    db: AsyncEngine, kafka: Broker, topic_factory: TopicFactory
) -> None:
    topic = await topic_factory("w.resume")
    group = unique("g")
    expected = await produce(kafka.bootstrap, topic, 1200)
    first = start(db, kafka, topic, group)
    await wait_until(lambda: _reached(db, 1200))
    await first.close()

    # Kafka's committed offsets are only a hint: rewind them to 0, the worker must ignore that.
    rewind = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap, group_id=group, enable_auto_commit=False
    )
    await rewind.start()
    tps = [TopicPartition(topic, p) for p in range(6)]
    rewind.assign(tps)
    hinted = {tp.partition: await rewind.committed(tp) for tp in tps}
    await rewind.commit(dict.fromkeys(tps, 0))
    await rewind.stop()
    assert hinted == await stored_offsets(db, group)  # the hint was committed after the DB

    expected += await produce(kafka.bootstrap, topic, 800, start=1200)
    second = start(db, kafka, topic, group)
    await wait_until(lambda: _reached(db, 2000))
    await asyncio.sleep(0.5)  # give a wrong re-read the chance to show up
    status = second.worker.status()
    await second.close()
    assert status.records == 800
    assert await counts(db) == dict(expected)


async def test_rebalance_between_two_workers_keeps_counts_exact(
    db: AsyncEngine, kafka: Broker, topic_factory: TopicFactory
) -> None:
    topic = await topic_factory("w.rebalance")
    group = unique("g")
    expected = await produce(kafka.bootstrap, topic, 2000)
    a = start(db, kafka, topic, group, max_records=100, slow_ms=20)
    await wait_until(lambda: _reached(db, 200))
    b = start(db, kafka, topic, group, max_records=100, slow_ms=20)  # rebalance: split 3/3
    await wait_until(lambda: _both_assigned(a.worker, b.worker))
    expected += await produce(kafka.bootstrap, topic, 2000, start=2000)
    await wait_until(lambda: _reached(db, 4000))
    a_before = a.worker.status().records
    await a.close()  # leaves the group: b takes every partition
    expected += await produce(kafka.bootstrap, topic, 2000, start=4000)
    await wait_until(lambda: _reached(db, 6000))
    await wait_until(lambda: _all_assigned(b.worker))
    await asyncio.sleep(0.5)  # a re-read after the rebalance would show up now
    b_status = b.worker.status()
    await b.close()

    assert await counts(db) == dict(expected)
    ids = await outbox_ids(db)
    assert len(ids) == len(set(ids)) == 6000
    a_records = a.worker.status().records
    assert a_records >= a_before > 0
    assert b_status.records >= 1000  # its share of the second 2,000 and all of the third
    assert a_records + b_status.records == 6000
    assert await stored_offsets(db, group) == await end_offsets(kafka, topic)
    processor = b.worker.processor
    assert isinstance(processor, CounterProcessor)
    assert processor.assigned_calls >= 2
    assert processor.revoked_calls >= 1


async def test_a_stale_owner_is_fenced(
    db: AsyncEngine, kafka: Broker, topic_factory: TopicFactory
) -> None:
    """Another writer moves the stored offsets under a running worker (a zombie's view): the
    worker's next batch is rolled back, it reloads the partitions and counts stay exact."""
    topic = await topic_factory("w.fence", partitions=1)
    group = unique("g")
    expected = await produce(kafka.bootstrap, topic, 100)
    running = start(db, kafka, topic, group)
    await wait_until(lambda: _reached(db, 100))
    # Another owner "processed" offsets 100-149: it moved offsets and counts together, before
    # this worker even saw those records.
    more = Counter(f"k{i % 50}" for i in range(100, 150))
    async with db.begin() as conn:
        await conn.execute(
            text("UPDATE consumer_offsets SET next_offset = 150 WHERE group_id = :g"), {"g": group}
        )
        for key, n in more.items():
            await conn.execute(
                text("UPDATE worker_counts SET n = n + :n WHERE key = :k"), {"n": n, "k": key}
            )
    expected += await produce(kafka.bootstrap, topic, 50, start=100)
    expected += await produce(kafka.bootstrap, topic, 30, start=150)
    await wait_until(lambda: _reached(db, 180))
    await asyncio.sleep(0.5)
    status = running.worker.status()
    await running.close()
    assert await counts(db) == dict(expected)
    assert status.records == 130  # 100 + 30: the batch with the 50 others was rolled back
    assert await stored_offsets(db, group) == {0: 180}


async def _reached(db: AsyncEngine, n: int) -> bool:
    return await total(db) >= n


async def _all_assigned(w: Worker) -> bool:
    status = w.status()
    return len(status.assigned) == 6 and not status.loading


async def _both_assigned(a: Worker, b: Worker) -> bool:
    sa, sb = a.status(), b.status()
    return bool(sa.assigned) and bool(sb.assigned) and not sa.loading and not sb.loading
