"""The HTTP ingest path: validate → reserve event ids → publish → await acks → commit ids.

The reservation is committed only after Kafka acknowledged; ids Kafka did not acknowledge are
released in the same transaction, so a client's retry publishes exactly those again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from churnwatch.events import (
    ErrorCode,
    Event,
    EventRejected,
    FieldError,
    ValidationLimits,
    parse_event,
)
from churnwatch_ingest import quality
from churnwatch_ingest.dedup import DedupStore
from churnwatch_ingest.metrics import IngestMetrics
from churnwatch_ingest.personal import KeyStore, seal_events
from churnwatch_ingest.publisher import OutRecord, event_headers, publish
from churnwatch_ingest.quality import Tally, source_of
from churnwatch_ingest.results import ERASE_SCOPE, EventResult, check_guarded, split_body

log = logging.getLogger(__name__)

SOURCE = "http"
_SOURCE_B = SOURCE.encode()


def validate_item(item: Any, *, now: datetime, limits: ValidationLimits) -> Event:
    """One item of a body as an `Event`. Only objects are events: a JSON string is not parsed."""
    if type(item) is dict:  # the common case, without the (slow) Mapping ABC check
        return parse_event(orjson.dumps(item), now=now, limits=limits)
    if isinstance(item, EventRejected):  # split_body found a duplicated key in it
        raise item
    if isinstance(item, Mapping | bytes):
        return parse_event(item, now=now, limits=limits)
    kind = type(item).__name__.replace("NoneType", "null")
    message = f"an event is a JSON object, got {kind}"
    raise EventRejected([FieldError("", ErrorCode.NOT_AN_OBJECT, message)])


def validate_all(
    items: list[Any], *, now: datetime, limits: ValidationLimits
) -> tuple[list[EventResult], list[tuple[int, Event]]]:
    """Results for rejected items and in-batch duplicates; the first occurrence of each id wins."""
    results: list[EventResult] = []
    valid: list[tuple[int, Event]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        try:
            event = validate_item(item, now=now, limits=limits)
        except EventRejected as exc:
            results.append(EventResult(index, exc.event_id, "rejected", exc.errors))
            continue
        if event.event_id in seen:
            results.append(EventResult(index, event.event_id, "duplicate"))
        else:
            seen.add(event.event_id)
            valid.append((index, event))
    return results, valid


@dataclass
class IngestService:
    """Everything ``POST /v1/events`` does, minus HTTP; built in the app's lifespan."""

    producer: AIOKafkaProducer
    store: DedupStore
    metrics: IngestMetrics
    topic: str
    limits: ValidationLimits
    max_batch: int
    publish_timeout: float
    keys: KeyStore | None = None  # data keys for personal attributes; default: the store's pool

    def __post_init__(self) -> None:
        if self.keys is None:
            self.keys = KeyStore(self.store.pool)

    async def ingest(
        self, body: bytes, *, guarded: frozenset[str] = frozenset()
    ) -> list[EventResult]:
        """Per-event results for a body; raises `TooManyEvents` / `EmptyBatch` for the body, and
        `ScopeRequired` if it holds an event type in ``guarded`` (the sender may not send it)."""
        now = datetime.now(UTC)
        items = split_body(body, max_batch=self.max_batch)
        check_guarded(items, guarded, ERASE_SCOPE)
        results, valid = validate_all(items, now=now, limits=self.limits)
        tally = Tally(now.date(), "http")  # data quality, one upsert per request (quality.py)
        for r in results:  # rejected, or a duplicate within the body
            if r.status == "rejected":
                tally.add(source_of(items[r.index]), "rejected", str(r.errors[0].code))
            else:
                tally.add(source_of(items[r.index]), "duplicate")
        if valid:
            results += await self._publish_new(valid, received_at=now, tally=tally)
        else:
            await self._write_quality(tally)
        self._count(results)
        return results

    async def _write_quality(self, tally: Tally) -> None:
        """Counts of a request that reserved nothing (all rejected or in-batch duplicates)."""
        try:
            async with self.store.pool.acquire() as conn:
                await quality.write(conn, tally)
        except Exception:  # counting must not fail the answer
            log.exception("data-quality counts not written", extra={"rows": len(tally.counts)})

    async def _publish_new(
        self, valid: list[tuple[int, Event]], *, received_at: datetime, tally: Tally
    ) -> list[EventResult]:
        ids = [e.event_id for _, e in valid]
        try:
            # sealed before the reservation: the keys commit first, on their own connection
            sealed = dict(
                zip(ids, await seal_events(self.keys, [e for _, e in valid]), strict=True)
            )
            async with self.store.reserve(
                ids, [e.customer_id for _, e in valid], received_at=received_at
            ) as reservation:
                fresh = [(i, e) for i, e in valid if e.event_id in reservation.new]
                stamp = received_at.isoformat().encode()
                records = [
                    OutRecord(
                        self.topic,
                        e.customer_id.encode(),
                        sealed[e.event_id],
                        event_headers(_SOURCE_B, stamp, e.event_type),
                    )
                    for _, e in fresh
                ]
                errors = await publish(
                    self.producer,
                    records,
                    timeout=self.publish_timeout,
                    latency=self.metrics.produce_seconds.labels(SOURCE),
                )
                failed = {e.event_id for (_, e), err in zip(fresh, errors, strict=True) if err}
                if failed:
                    first = next(err for err in errors if err)
                    log.warning(
                        "kafka did not acknowledge events",
                        extra={"unacked": len(failed), "of": len(fresh), "error": repr(first)},
                    )
                    await reservation.release(failed)
                for _, e in valid:  # after the acks, in the reservation's transaction
                    dup = e.event_id not in reservation.new
                    if dup or e.event_id not in failed:
                        tally.add(e.source, "duplicate" if dup else "accepted")
                await quality.write(reservation.conn, tally)
        except Exception:  # the database failed, before or after publishing: the client retries
            log.exception("idempotency store failed", extra={"events": len(valid)})
            return [EventResult(i, e.event_id, "unavailable") for i, e in valid]
        return [
            EventResult(
                i,
                e.event_id,
                "duplicate"
                if e.event_id not in reservation.new
                else ("unavailable" if e.event_id in failed else "accepted"),
            )
            for i, e in valid
        ]

    def _count(self, results: list[EventResult]) -> None:
        m = self.metrics
        tally: dict[str, int] = {}
        for r in results:
            if r.status == "rejected":
                m.rejected.labels(SOURCE, str(r.errors[0].code)).inc()
            else:
                tally[r.status] = tally.get(r.status, 0) + 1
        m.accepted.labels(SOURCE).inc(tally.get("accepted", 0))
        m.duplicates.labels(SOURCE).inc(tally.get("duplicate", 0))
        m.unavailable.labels(SOURCE).inc(tally.get("unavailable", 0))
