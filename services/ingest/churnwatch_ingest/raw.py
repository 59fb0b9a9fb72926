"""The Kafka-native path: ``cw.events.raw`` → validate → ``cw.events`` or ``cw.events.dlq``.

Loop per fetched batch (up to ``raw_max_records`` records over all partitions):

1. check every record (pure, `check_record`); a bad one becomes a dead letter, never an
   exception that stops the loop, so a poison record cannot stall its partition;
2. reserve the valid events' ids in the idempotency store (same table as HTTP), and one id per
   dead letter naming where it was (`dead_letter_id`) — records re-delivered after a crash or
   rebalance, and re-sent events, are dropped (events counted as duplicates);
3. send all outputs, await every acknowledgement, commit the reservation, then commit the
   consumer offsets. On any failure: roll back, seek back to the batch's first offsets, retry.

Delivery is at-least-once into Kafka: a crash after the acks and before the database commit
re-publishes that one batch (events and dead letters). Once the reservation is committed a
re-delivered batch publishes nothing again, so the gap before the offset commit is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError

from churnwatch.events import Event, EventRejected, ValidationLimits
from churnwatch_ingest import quality
from churnwatch_ingest.dedup import DedupStore, Reservation, purge_forever
from churnwatch_ingest.dlq import check_record, dlq_headers
from churnwatch_ingest.metrics import IngestMetrics
from churnwatch_ingest.personal import KeyStore, seal_events
from churnwatch_ingest.publisher import OutRecord, event_headers, publish
from churnwatch_ingest.quality import Tally, source_of_bytes
from churnwatch_ingest.settings import IngestSettings
from churnwatch_runtime.kafka import ensure_topics, make_consumer, make_producer

log = logging.getLogger(__name__)

SOURCE = "kafka"
_SOURCE_B = SOURCE.encode()
Batch = Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]]


@dataclass
class Plan:
    """What one fetched batch turns into: outputs in input order, and the tallies."""

    valid: list[tuple[ConsumerRecord[bytes, bytes], Event]] = field(default_factory=list)
    dead: list[tuple[ConsumerRecord[bytes, bytes], EventRejected]] = field(default_factory=list)
    in_batch: list[Event] = field(default_factory=list)  # a later record with a seen event_id

    @property
    def in_batch_duplicates(self) -> int:
        return len(self.in_batch)


def plan_batch(batch: Batch, *, now: datetime, limits: ValidationLimits) -> Plan:
    """Check every record of a fetched batch; the first record with a given event_id wins."""
    plan = Plan()
    seen: set[str] = set()
    for records in batch.values():
        for record in records:
            try:
                event = check_record(record.key, record.value, now=now, limits=limits)
            except EventRejected as exc:
                plan.dead.append((record, exc))
                continue
            if event.event_id in seen:
                plan.in_batch.append(event)
                continue
            seen.add(event.event_id)
            plan.valid.append((record, event))
    return plan


@dataclass
class RawValidator:
    """One consumer-group member of the raw path; clients are started and stopped by the caller."""

    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer
    store: DedupStore | None
    metrics: IngestMetrics
    settings: IngestSettings
    keys: KeyStore | None = None  # None: personal attributes are dropped, never sent in clear

    async def run(self, stop: asyncio.Event) -> None:
        limits = _limits(self.settings)
        while not stop.is_set():
            batch = await self.consumer.getmany(
                timeout_ms=200, max_records=self.settings.raw_max_records
            )
            if not batch:
                continue
            try:
                await self.process(batch, limits=limits)
            except Exception:
                log.exception("raw batch failed; retrying it", extra={"records": _size(batch)})
                for tp, records in batch.items():
                    self.consumer.seek(tp, records[0].offset)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.raw_retry_backoff_s)

    async def process(self, batch: Batch, *, limits: ValidationLimits) -> None:
        """Validate, publish, await acks, commit ids, commit offsets; raise if any step failed."""
        now = datetime.now(UTC)
        plan = plan_batch(batch, now=now, limits=limits)
        ids = [e.event_id for _, e in plan.valid]
        dead_ids = [dead_letter_id(r) for r, _ in plan.dead]
        sealed = await seal_events(self.keys, [e for _, e in plan.valid])  # before reserving
        values = dict(zip(ids, sealed, strict=True))
        async with self._reserve(ids, dead_ids, plan, now) as reservation:
            new = None if reservation is None else reservation.new
            fresh = [(r, e) for r, e in plan.valid if new is None or e.event_id in new]
            dead = [d for d, i in zip(plan.dead, dead_ids, strict=True) if new is None or i in new]
            records = self._outputs(fresh, dead, now, values)
            errors = await publish(
                self.producer,
                records,
                timeout=self.settings.publish_timeout_s,
                latency=self.metrics.produce_seconds.labels(SOURCE),
            )
            failed = sum(1 for err in errors if err)
            if failed:
                raise RuntimeError(f"{failed} of {len(records)} outputs not acknowledged")
            if reservation is not None:  # after the acks, in the reservation's transaction
                await quality.write(reservation.conn, _tally(plan, fresh, dead, now))
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items()}
        try:
            await self.consumer.commit(offsets)
        except CommitFailedError:  # rebalanced meanwhile: the new owner re-reads, ids dedupe
            log.warning("offset commit failed after a rebalance", extra={"offsets": len(offsets)})
        m = self.metrics
        m.accepted.labels(SOURCE).inc(len(fresh))
        m.duplicates.labels(SOURCE).inc(plan.in_batch_duplicates + len(ids) - len(fresh))
        for _, exc in dead:  # a re-delivered dead letter was counted the first time
            m.rejected.labels(SOURCE, exc.reason).inc()
            m.dlq.labels(exc.reason).inc()

    def _reserve(
        self, ids: list[str], dead_ids: list[str], plan: Plan, now: datetime
    ) -> AbstractAsyncContextManager[Reservation | None]:
        if self.store is None:  # no database: counted in /metrics only (docs/ingest.md)
            return contextlib.nullcontext()
        # even without records to reserve: the transaction carries the batch's quality counts
        return self.store.reserve(
            ids + dead_ids,
            [e.customer_id for _, e in plan.valid] + [""] * len(dead_ids),
            received_at=now,
        )

    def _outputs(
        self,
        valid: list[tuple[ConsumerRecord[bytes, bytes], Event]],
        dead: list[tuple[ConsumerRecord[bytes, bytes], EventRejected]],
        now: datetime,
        values: Mapping[str, bytes],
    ) -> list[OutRecord]:
        topics = self.settings.topics
        stamp = now.isoformat().encode()
        out = [
            OutRecord(
                topics.events,
                e.customer_id.encode(),
                values[e.event_id],
                event_headers(_SOURCE_B, stamp, e.event_type),
            )
            for _, e in valid
        ]
        for record, exc in dead:
            headers = dlq_headers(
                list(record.headers),
                exc.errors,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                failed_at=now,
            )
            out.append(OutRecord(topics.events_dlq, record.key, record.value or b"", headers))
        return out


async def run_raw_validator(
    settings: IngestSettings,
    stop: asyncio.Event,
    *,
    metrics: IngestMetrics | None = None,
    purge: bool = True,
) -> None:
    """Run the raw path until ``stop`` is set; the CLI runs it alone or beside the HTTP app.

    With ``purge`` (and ``raw_dedup``) it also deletes expired event ids, as the HTTP app does.
    """
    async with raw_validator(settings, metrics=metrics) as validator:
        purger = None
        if purge and validator.store is not None:
            purger = asyncio.create_task(
                purge_forever(
                    validator.store,
                    window=settings.dedup_window,
                    interval=settings.dedup_purge_interval_s,
                )
            )
        log.info("raw validator running", extra={"topic": settings.topics.events_raw})
        try:
            await validator.run(stop)
        finally:
            if purger is not None:
                purger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purger


async def ensure_ingest_topics(settings: IngestSettings) -> None:
    """Ingest's three topics with their per-topic configs (7-day retention of the raw and
    DLQ topics), unless the settings leave topic creation to the operator; the app and the
    raw validator both start with it."""
    if settings.create_topics:
        topics = settings.topics
        await ensure_topics(
            settings.kafka_bootstrap,
            [topics.events, topics.events_raw, topics.events_dlq],
            partitions=settings.topic_partitions,
            per_topic=settings.topic_configs(),
        )


@asynccontextmanager
async def raw_validator(
    settings: IngestSettings, *, metrics: IngestMetrics | None = None
) -> AsyncIterator[RawValidator]:
    """Started clients and store around a `RawValidator`; everything is closed on exit."""
    topics = settings.topics
    await ensure_ingest_topics(settings)
    store = None
    if settings.raw_dedup:
        store = await DedupStore.connect(settings.database_url, size=2)
    producer = make_producer(
        settings.kafka_bootstrap,
        linger_ms=settings.producer_linger_ms,
        request_timeout_ms=settings.producer_request_timeout_ms,
    )
    consumer = make_consumer(
        settings.kafka_bootstrap,
        topics.events_raw,
        group_id=settings.raw_group_id,
        max_poll_records=settings.raw_max_records,
    )
    await producer.start()
    try:
        await consumer.start()
        try:
            yield RawValidator(
                consumer=consumer,
                producer=producer,
                store=store,
                metrics=metrics or IngestMetrics(),
                settings=settings,
                keys=KeyStore(store.pool) if store is not None else None,
            )
        finally:
            await consumer.stop()
    finally:
        await producer.stop()
        if store is not None:
            await store.close()


def dead_letter_id(record: ConsumerRecord[bytes, bytes]) -> str:
    """The idempotency id of a dead letter: where it was read. ``/`` cannot occur in an
    ``event_id``, so it never collides with an event's id.

    >>> from aiokafka import ConsumerRecord
    >>> dead_letter_id(ConsumerRecord("cw.events.raw", 2, 41, 0, 0, None, b"x", None, 0, 1, []))
    'dlq/cw.events.raw/2/41'
    """
    return f"dlq/{record.topic}/{record.partition}/{record.offset}"


def _tally(
    plan: Plan,
    fresh: Sequence[tuple[ConsumerRecord[bytes, bytes], Event]],
    dead: Sequence[tuple[ConsumerRecord[bytes, bytes], EventRejected]],
    now: datetime,
) -> Tally:
    """A batch's counts: accepted (published), duplicates (in the batch or reserved before),
    dead letters by reason (those not dead-lettered before)."""
    tally = Tally(now.date(), "raw")
    new = {id(e) for _, e in fresh}
    for _, e in plan.valid:
        tally.add(e.source, "accepted" if id(e) in new else "duplicate")
    for e in plan.in_batch:
        tally.add(e.source, "duplicate")
    for record, exc in dead:
        tally.add(source_of_bytes(record.value), "dlq", exc.reason)
    return tally


def _limits(settings: IngestSettings) -> ValidationLimits:
    return settings.limits()


def _size(batch: Batch) -> int:
    return sum(len(records) for records in batch.values())
