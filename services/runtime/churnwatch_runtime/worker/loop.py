"""The effectively-once worker: consume → process → commit state and offsets in one transaction.

    loop:
        load offsets of newly assigned partitions from PostgreSQL, seek there, resume them
        records = getmany(max_records, timeout)         # partitions own positions, nothing else
        BEGIN
            processor.process(conn, batch)              # state + outbox rows
            UPDATE consumer_offsets ... WHERE next_offset = <what we loaded>   # fence
        COMMIT
        every second or so: commit the same offsets to Kafka (a hint for lag tools only)

On assignment the listener only pauses the partitions and queues them; the loop loads them (a
failure to load is retried, never silently replaced by Kafka's committed offset). On revocation
the listener waits for the in-flight batch to commit, then forgets the partitions. See
docs/worker.md for every failure case.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db.engine import raw_connection
from churnwatch_runtime.kafka import make_consumer, missing_topics
from churnwatch_runtime.worker.batch import Batch, Record
from churnwatch_runtime.worker.offsets import (
    OffsetTracker,
    StaleOffsets,
    load_offsets,
    store_offsets,
)
from churnwatch_runtime.worker.processor import PartitionHooks, Processor
from churnwatch_runtime.worker.startup import (
    Stopped,
    missing_message,
    next_backoff,
    pause,
    until_stopped,
)
from churnwatch_runtime.worker.status import WorkerStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    """Batching and failure knobs; ``reset`` applies only to partitions with no stored offset."""

    max_records: int = 1000  # per batch (one transaction)
    max_wait_ms: int = 200  # getmany timeout; also bounds how long a stop takes to be seen
    reset: Literal["earliest", "latest"] = "earliest"
    kafka_commit_interval: float = 1.0  # seconds between best-effort Kafka commits (lag hint)
    max_failures: int = 10  # consecutive failed batches before run() raises
    retry_backoff: float = 0.2  # seconds, doubled per consecutive failure (capped at 5 s)
    ready_poll_age: float = 30.0  # not ready if the loop has not polled for this long
    consumer_options: dict[str, Any] = field(default_factory=dict)


class Worker:
    """One consumer in ``group_id`` feeding ``processor``; ``run(stop)`` until ``stop`` is set."""

    def __init__(
        self,
        engine: AsyncEngine,
        processor: Processor,
        *,
        bootstrap: str,
        topics: Collection[str],
        group_id: str,
        config: WorkerConfig | None = None,
    ) -> None:
        self.engine = engine
        self.processor = processor
        self.group_id = group_id
        self.config = config or WorkerConfig()
        self._bootstrap = bootstrap
        self._topics = list(topics)
        self._consumer: AIOKafkaConsumer | None = None
        self._tracker = OffsetTracker()
        self._pending: set[TopicPartition] = set()  # assigned, offsets not loaded yet
        self._lock = asyncio.Lock()  # one batch / load / revoke at a time
        self._hinted: dict[TopicPartition, int] = {}
        self._last_hint = 0.0
        self._running = False
        self._failures = 0
        self._last_error: str | None = None
        self._missing: tuple[str, ...] = ()  # subscribed topics the broker lacks (not started)
        self._last_poll_at: datetime | None = None
        self._last_batch_at: datetime | None = None
        self._batches = 0
        self._records = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop``; the current batch is finished and committed before returning."""
        try:
            try:
                consumer = await self._start(stop)
            except Stopped:
                return
            self._running = True
            while not stop.is_set():
                await self._load_pending()
                try:
                    fetched = await consumer.getmany(
                        timeout_ms=self.config.max_wait_ms, max_records=self.config.max_records
                    )
                except KafkaError as exc:  # the client retries connections itself; keep polling
                    self._last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("poll failed", extra={"error": self._last_error})
                    await asyncio.sleep(self.config.retry_backoff)
                    continue
                self._last_poll_at = datetime.now(UTC)
                if fetched:
                    await self._process(fetched)
                await self._commit_hint()
        finally:
            self._running = False
            await self._close()

    async def _start(self, stop: asyncio.Event) -> AIOKafkaConsumer:
        """A started consumer once every topic exists; until then the missing topics are named
        in the log and ``status()``, and checked again with backoff. ``Stopped`` if ``stop`` is
        set meanwhile: aiokafka's own start would wait for a missing topic without end."""
        delay = self.config.retry_backoff
        while True:
            try:
                missing = await until_stopped(missing_topics(self._bootstrap, self._topics), stop)
                self._missing = tuple(missing)
                if missing:
                    error = missing_message(missing)
                else:
                    consumer = make_consumer(
                        self._bootstrap, group_id=self.group_id, **self.config.consumer_options
                    )
                    consumer.subscribe(self._topics, listener=_Listener(self))
                    self._consumer = consumer
                    await until_stopped(consumer.start(), stop)
                    return consumer
            except KafkaError as exc:  # broker unreachable, or a topic deleted meanwhile
                error = f"consumer not started: {type(exc).__name__}: {exc}"
                if self._consumer is not None:
                    await self._consumer.stop()
                    self._consumer = None
            if error != self._last_error:  # once per change; status() says it all along
                log.error("worker waiting to start", extra={"error": error})
            self._last_error = error
            await pause(delay, stop)
            delay = next_backoff(delay)

    async def _close(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        await self._commit_hint(force=True)
        async with self._lock:
            owned = self._tracker.partitions
            self._tracker.forget(owned)
            self._pending.clear()
            if owned and isinstance(self.processor, PartitionHooks):
                await self.processor.on_revoked(owned)
        await consumer.stop()
        self._consumer = None

    # -- the batch transaction ---------------------------------------------------------------

    async def _process(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        async with self._lock:
            records: dict[TopicPartition, list[Record]] = self._tracker.accept(fetched)
            if not records:
                return
            batch = Batch(records)
            updates = self._tracker.updates(batch)
            try:
                async with self.engine.begin() as conn:
                    await raw_connection(conn)  # BEGIN now: processors may write through asyncpg
                    await self.processor.process(conn, batch)
                    await store_offsets(conn, self.group_id, updates)
            except StaleOffsets as exc:
                log.warning("stale offsets, reloading partitions", extra={"error": str(exc)})
                await self._requeue(batch.partitions)
                return
            except Exception as exc:
                self._failures += 1
                self._last_error = f"{type(exc).__name__}: {exc}"
                log.exception("batch failed", extra={"failures": self._failures})
                await self._requeue(batch.partitions)
                if self._failures >= self.config.max_failures:
                    raise
                await asyncio.sleep(min(5.0, self.config.retry_backoff * 2 ** (self._failures - 1)))
                return
            self._tracker.committed(updates)
            self._failures = 0
            self._batches += 1
            self._records += len(batch)
            self._last_batch_at = datetime.now(UTC)

    async def _requeue(self, tps: Collection[TopicPartition]) -> None:
        """After a rollback: caches may hold rolled-back changes and the consumer is past the
        stored offsets, so drop the partitions and load them again like a new assignment."""
        assert self._consumer is not None
        self._tracker.forget(tps)
        if isinstance(self.processor, PartitionHooks):
            await self.processor.on_revoked(tps)
        assigned = self._consumer.assignment()
        again = [tp for tp in tps if tp in assigned]
        self._consumer.pause(*again)
        self._pending.update(again)

    # -- assignment ----------------------------------------------------------------------------

    async def _load_pending(self) -> None:
        if not self._pending:
            return
        consumer = self._consumer
        assert consumer is not None
        async with self._lock:
            tps = sorted(self._pending & consumer.assignment())
            self._pending.clear()
            if not tps:
                return
            try:
                positions = await self._load(consumer, tps)
            except Exception as exc:
                self._pending.update(tps)  # still paused; retried on the next turn
                self._last_error = f"{type(exc).__name__}: {exc}"
                log.exception("loading offsets failed", extra={"partitions": str(tps)})
                await asyncio.sleep(self.config.retry_backoff)
                return
            assigned = consumer.assignment()  # unchanged while we hold the lock, but be sure
            for tp, (stored, position) in positions.items():
                if tp in assigned:
                    consumer.seek(tp, position)
                    self._tracker.reset(tp, stored=stored, position=position)
            consumer.resume(*(tp for tp in tps if tp in assigned))
            log.info(
                "partitions loaded", extra={"positions": {str(k): v for k, v in positions.items()}}
            )

    async def _load(
        self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]
    ) -> dict[TopicPartition, tuple[int | None, int]]:
        """Stored offset (None: no row) and the position to seek to, per partition."""
        async with self.engine.begin() as conn:
            stored = await load_offsets(conn, self.group_id, tps)
            if isinstance(self.processor, PartitionHooks):
                await self.processor.on_assigned(conn, tps)
        missing = [tp for tp in tps if tp not in stored]
        defaults: dict[TopicPartition, int] = {}
        if missing:
            if self.config.reset == "earliest":
                defaults = await consumer.beginning_offsets(missing)
            else:
                defaults = await consumer.end_offsets(missing)
        return {tp: (stored.get(tp), stored[tp] if tp in stored else defaults[tp]) for tp in tps}

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        assert self._consumer is not None
        if assigned:
            self._consumer.pause(*assigned)
        self._pending.update(assigned)

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:  # waits for the in-flight batch to commit
            self._pending.difference_update(revoked)
            owned = [tp for tp in revoked if self._tracker.owns(tp)]
            self._tracker.forget(owned)
            if owned and isinstance(self.processor, PartitionHooks):
                await self.processor.on_revoked(owned)

    # -- Kafka commit (hint for lag monitoring only) ------------------------------------------

    async def _commit_hint(self, *, force: bool = False) -> None:
        consumer = self._consumer
        now = asyncio.get_running_loop().time()
        if consumer is None or (
            not force and now - self._last_hint < self.config.kafka_commit_interval
        ):
            return
        self._last_hint = now
        assigned = consumer.assignment()
        offsets = {
            tp: pos
            for tp, pos in self._tracker.positions().items()
            if tp in assigned and self._tracker.stored(tp) == pos and self._hinted.get(tp) != pos
        }
        if not offsets:
            return
        try:
            await asyncio.wait_for(consumer.commit(offsets), timeout=5)
            self._hinted.update(offsets)
        except (KafkaError, TimeoutError) as exc:
            log.debug("kafka offset hint not committed", extra={"error": str(exc)})

    # -- health ----------------------------------------------------------------------------

    def status(self) -> WorkerStatus:
        consumer = self._consumer
        lag: dict[str, int] = {}
        assigned: set[TopicPartition] = set()
        if consumer is not None and self._running:
            assigned = set(consumer.assignment())
            for tp, pos in self._tracker.positions().items():
                if tp in assigned and (high := consumer.highwater(tp)) is not None:
                    lag[_name(tp)] = max(0, high - pos)
        fresh = self._last_poll_at is not None and datetime.now(
            UTC
        ) - self._last_poll_at < timedelta(seconds=self.config.ready_poll_age)
        return WorkerStatus(
            group_id=self.group_id,
            running=self._running,
            ready=self._running and fresh and not self._pending and self._failures == 0,
            assigned=tuple(sorted(_name(tp) for tp in assigned)),
            loading=tuple(sorted(_name(tp) for tp in self._pending)),
            last_poll_at=self._last_poll_at,
            last_batch_at=self._last_batch_at,
            batches=self._batches,
            records=self._records,
            lag=lag,
            failures=self._failures,
            last_error=self._last_error,
            missing_topics=self._missing,
        )


def _name(tp: TopicPartition) -> str:
    return f"{tp.topic}:{tp.partition}"


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka swallows exceptions raised here, so the heavy lifting happens in the loop."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._worker._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._worker._on_assigned(assigned)


__all__ = ["Worker", "WorkerConfig"]
