"""The scoring processor: events → profiles → scores, silence sweeps, in the worker's transaction.

Per batch (docs/scoring.md, "Worker"):

1. parse; load the profiles the cache lacks (one SELECT); apply each event in partition order
   (a duplicate changes nothing), with the partition's event-time clock;
2. score each changed customer once, at their last applied event (coalescing);
3. for each partition whose watermark advanced, rescore the customers whose silence is due
   (an index range scan on ``silence_due``), at the watermark;
4. value (CLV, tier, RFM segment), snapshots, then one statement per table and one outbox insert.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiokafka import TopicPartition
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.events import CustomerErasedEvent, Event, EventRejected, PurchaseEvent, parse_event
from churnwatch.privacy import strip_sealed
from churnwatch.profile import CustomerProfile, apply
from churnwatch.value import RetailStats, update
from churnwatch_runtime.worker import Batch, OutboxMessage, Record
from churnwatch_scoring import directory, store
from churnwatch_scoring.hotload import ModelSource
from churnwatch_scoring.kpi_hook import KpiHook
from churnwatch_scoring.metrics import ScoringMetrics
from churnwatch_scoring.pipeline import ChunkWriter
from churnwatch_scoring.population import Population
from churnwatch_scoring.records import Cause, last_per_key, trace_headers
from churnwatch_scoring.scoring import Entry, Scored, ScoreOptions, finish, score_customer

log = logging.getLogger(__name__)

_FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)  # cw.events is validated: no future bound here
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ScoringConfig:
    """Wiring of one scoring worker (the settings, as plain values)."""

    group_id: str
    scores_topic: str = "cw.scores"
    dlq_topic: str = "cw.events.dlq"
    lateness: timedelta = timedelta(minutes=5)
    cache_per_partition: int = 200_000
    silence_limit: int = 5_000
    silence: bool = True
    write_chunk: int = 1_000  # customers per written chunk (docs/scoring.md, "pipelining")
    yield_every: int = 64  # customers scored between two turns of the loop (the writer's)
    seed_population: int = 50_000  # stored values loaded into the tier sketch on start (0: off)
    options: ScoreOptions = field(default_factory=ScoreOptions)
    kpis: bool = True  # keep the KPI aggregates (docs/kpis-as-built.md)


@dataclass(frozen=True, slots=True)
class _Work:
    """A customer to score in this batch, at ``clock``."""

    customer_id: str
    partition: int
    entry: Entry
    clock: datetime
    cause: Cause
    cause_event_id: str | None


@dataclass(slots=True)
class _Touch:
    tp: TopicPartition
    clock: datetime
    event_id: str
    headers: list[tuple[str, str]]
    kafka_ts: float | None


class ScoringProcessor:
    """A `Processor` with `PartitionHooks`: per-partition LRU caches of profiles and clocks."""

    def __init__(
        self,
        config: ScoringConfig,
        models: ModelSource | None = None,
        metrics: ScoringMetrics | None = None,
        population: Population | None = None,
    ) -> None:
        self.config = config
        self.models = models or ModelSource()
        self.metrics = metrics or ScoringMetrics()
        self.population = population or Population()
        self.kpis = KpiHook(config.options.value.basis, enabled=config.kpis)
        self._cache: dict[TopicPartition, OrderedDict[str, Entry]] = {}
        self._max_seen: dict[TopicPartition, datetime] = {}  # max event time consumed
        self._stored_wm: dict[TopicPartition, datetime] = {}  # watermark last committed
        self._model_row: int | None = -1
        self._seeded = False

    # -- partition hooks ---------------------------------------------------------------------

    async def on_assigned(
        self, conn: AsyncConnection, partitions: Collection[TopicPartition]
    ) -> None:
        pg = await store.raw(conn)
        await self._seed(pg)
        by_topic: dict[str, list[int]] = {}
        for tp in partitions:
            by_topic.setdefault(tp.topic, []).append(tp.partition)
            self._cache[tp] = OrderedDict()
        for topic, parts in by_topic.items():
            marks = await store.load_watermarks(pg, self.config.group_id, topic, parts)
            for p, wm in marks.items():
                tp = TopicPartition(topic, p)
                self._stored_wm[tp] = wm
                self._max_seen[tp] = wm + self.config.lateness

    async def _seed(self, pg: store.Pg) -> None:
        """Once per process, tiers start from the stored population instead of everyone being
        bronze until ``min_count`` scores were seen (a restarted worker would otherwise send
        its first at-risk gold customers an offer instead of a save call)."""
        if self._seeded or self.config.seed_population <= 0:
            return
        self._seeded = True
        basis = self.config.options.value.basis
        values = await store.sample_values(pg, basis, self.config.seed_population)
        for value in values:
            self.population.add(value, None)
        self.population.refresh()
        log.info("tier sketch seeded", extra={"values": len(values), "basis": basis})

    async def on_revoked(self, partitions: Collection[TopicPartition]) -> None:
        for tp in partitions:
            self._cache.pop(tp, None)
            self._max_seen.pop(tp, None)
            self._stored_wm.pop(tp, None)

    # -- the batch -----------------------------------------------------------------------------

    async def process(self, conn: AsyncConnection, batch: Batch) -> None:
        started = time.perf_counter()
        self.kpis.begin()
        pg = await store.raw(conn)
        await directory.absorb(conn, batch)  # contact details, erasures (docs/privacy.md)
        await self.models.refresh(pg)
        self._note_model()
        self.population.refresh()
        parsed, dlq = self._parse(batch)
        await self._load(pg, [(tp, ev.customer_id) for tp, _, ev in parsed])
        touched = self._apply(parsed)
        work = [
            _Work(cid, t.tp.partition, self._entry(t.tp, cid), t.clock, "event", t.event_id)
            for cid, t in touched.items()
        ]
        silence = await self._sweep(pg, batch, touched, work)
        writer = ChunkWriter(pg, conn, datetime.now(UTC))
        try:
            await self._score(work, touched, dlq, writer)
        except BaseException:
            await writer.settle()
            raise
        await writer.wait()
        await self.kpis.flush(pg)
        self.metrics.kpi_seconds.inc(self.kpis.take_seconds())
        await self._write_watermarks(pg, batch)
        self._evict()
        m = self.metrics
        m.scored.labels("event").inc(len(touched))
        m.scored.labels("silence").inc(silence)
        m.batch_seconds.observe(time.perf_counter() - started)
        wall = time.time()
        for t in touched.values():
            if t.kafka_ts is not None:
                m.event_to_score.observe(max(0.0, wall - t.kafka_ts))

    async def _score(
        self,
        work: Sequence[_Work],
        touched: dict[str, _Touch],
        dlq: list[OutboxMessage],
        writer: ChunkWriter,
    ) -> None:
        """Score and value ``work`` chunk by chunk; each chunk is written while the next is
        scored (`ChunkWriter`). Same rows, same order as one big chunk: tiers and segments use
        the thresholds refreshed at the start of the batch, and ``population.add`` sees the
        customers in the same order."""
        opts, model, clv = self.config.options, self.models.model, self.models.clv
        chunk, every = self.config.write_chunk, self.config.yield_every
        messages: list[OutboxMessage] = list(dlq)
        for begin in range(0, max(len(work), 1), chunk):
            scored: list[Scored] = []
            for i, w in enumerate(work[begin : begin + chunk], 1):
                scored.append(
                    score_customer(
                        w.customer_id, w.partition, w.entry, w.clock, model, opts,
                        cause=w.cause, cause_event_id=w.cause_event_id,
                    )
                )  # fmt: skip
                if i % every == 0:
                    await asyncio.sleep(0)  # the writer sends its next statement
            result = finish(scored, clv, self.population, opts)
            self.kpis.scored(scored, result.records, self.population)
            messages.extend(
                OutboxMessage(
                    self.config.scores_topic,
                    rec.customer_id.encode(),
                    value,
                    headers=touched[rec.customer_id].headers if rec.cause == "event" else (),
                    msg_id=msg_id,
                )
                for rec, value, msg_id in result.messages
            )
            writer.submit(result, messages)
            messages = []
            await asyncio.sleep(0)

    def _parse(
        self, batch: Batch
    ) -> tuple[list[tuple[TopicPartition, Record, Event]], list[OutboxMessage]]:
        parsed: list[tuple[TopicPartition, Record, Event]] = []
        dlq: list[OutboxMessage] = []
        for tp, records in batch.by_partition.items():
            for rec in records:
                try:
                    parsed.append((tp, rec, parse_event(strip_sealed(rec.value), now=_FAR_FUTURE)))
                except EventRejected as exc:
                    self.metrics.rejected.inc()
                    log.warning("invalid record on the events topic", extra={"reason": exc.reason})
                    dlq.append(
                        OutboxMessage(
                            self.config.dlq_topic, rec.key, rec.value,
                            headers=[("reason", str(exc.reason)), ("source", _where(tp, rec))],
                            msg_id=f"dlq:{_where(tp, rec)}",
                        )
                    )  # fmt: skip
        return parsed, dlq

    async def _load(self, pg: store.Pg, wanted: Sequence[tuple[TopicPartition, str]]) -> None:
        """Bring every wanted customer into its partition's cache (one SELECT for the misses)."""
        missing: dict[str, TopicPartition] = {}
        for tp, cid in wanted:
            cache = self._cache.setdefault(tp, OrderedDict())
            if cid not in cache and cid not in missing:
                missing[cid] = tp
        if not missing:
            return
        for row in await store.load_customers(pg, list(missing)):
            retail: RetailStats | None = (
                pickle.loads(row.retail_stats) if row.retail_stats else None
            )
            entry = Entry(
                CustomerProfile.from_bytes(row.state), retail, row.last_score, row.last_snapshot
            )
            self._cache[missing.pop(row.customer_id)][row.customer_id] = entry
        for cid, tp in missing.items():  # never seen: a new customer
            self._cache[tp][cid] = Entry(CustomerProfile(), None, None, None)

    def _entry(self, tp: TopicPartition, cid: str) -> Entry:
        cache = self._cache[tp]
        cache.move_to_end(cid)
        return cache[cid]

    def _apply(self, parsed: Sequence[tuple[TopicPartition, Record, Event]]) -> dict[str, _Touch]:
        """Fold events into profiles; the last applied event of each customer, with its clock."""
        lateness = self.config.lateness
        changes: list[tuple[str, _Touch]] = []
        applied = 0
        for tp, rec, ev in parsed:
            at = ev.occurred_at
            seen = self._max_seen.get(tp)
            if seen is None or at > seen:
                self._max_seen[tp] = seen = at
            clock = max(seen - lateness, at)
            entry = self._cache[tp][ev.customer_id]
            if not apply(entry.profile, ev):
                continue
            applied += 1
            self.kpis.event(tp.partition, ev, entry.profile, late=clock > at)
            if isinstance(ev, PurchaseEvent):
                entry.retail = update(entry.retail, at, ev.attributes.amount)
            elif isinstance(ev, CustomerErasedEvent):
                entry.retail = None
            ts = getattr(rec, "timestamp", None)
            touch = _Touch(
                tp, clock, ev.event_id, trace_headers(rec.headers or ()), ts / 1000 if ts else None
            )
            changes.append((ev.customer_id, touch))
        self.metrics.events.inc(applied)
        self.metrics.duplicates.inc(len(parsed) - applied)
        return last_per_key(changes)

    async def _sweep(
        self, pg: store.Pg, batch: Batch, touched: dict[str, _Touch], work: list[_Work]
    ) -> int:
        """Queue the customers whose silence is due by their partition's (advanced) watermark
        for a rescore at that watermark (after the batch's event customers)."""
        if not self.config.silence:
            return 0
        advanced: dict[int, datetime] = {}
        tps: dict[int, TopicPartition] = {}
        for tp in batch.partitions:
            wm = self._watermark(tp)
            if wm is not None and wm > self._stored_wm.get(tp, _EPOCH):
                advanced[tp.partition] = wm
                tps[tp.partition] = tp
        due = [
            (cid, p)
            for cid, p in await store.due_customers(pg, advanced, self.config.silence_limit)
            if cid not in touched and p in tps
        ]
        await self._load(pg, [(tps[p], cid) for cid, p in due])
        for cid, p in due:
            work.append(_Work(cid, p, self._entry(tps[p], cid), advanced[p], "silence", None))
        return len(due)

    def _watermark(self, tp: TopicPartition) -> datetime | None:
        seen = self._max_seen.get(tp)
        return None if seen is None else seen - self.config.lateness

    async def _write_watermarks(self, pg: store.Pg, batch: Batch) -> None:
        by_topic: dict[str, dict[int, datetime]] = {}
        for tp in batch.partitions:
            wm = self._watermark(tp)
            if wm is not None and wm > self._stored_wm.get(tp, _EPOCH):
                by_topic.setdefault(tp.topic, {})[tp.partition] = wm
                self._stored_wm[tp] = wm
        for topic, marks in by_topic.items():
            await store.write_watermarks(pg, self.config.group_id, topic, marks)

    def _evict(self) -> None:
        cap = self.config.cache_per_partition
        for cache in self._cache.values():
            while len(cache) > cap:
                cache.popitem(last=False)

    def _note_model(self) -> None:
        if self.models.model_row != self._model_row:
            self._model_row = self.models.model_row
            self.metrics.set_model(self.models.model.version, self.models.model_row)


def _where(tp: TopicPartition, rec: Record) -> str:
    return f"{tp.topic}/{tp.partition}/{rec.offset}"
