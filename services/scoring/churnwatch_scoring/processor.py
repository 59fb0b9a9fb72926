"""The scoring processor: events → profiles → scores, silence sweeps, in the worker's transaction.

Per batch (docs/scoring.md, "Worker"):

1. parse; load the profiles the cache lacks and the silence dues the batch's watermarks reach
   (one SELECT each);
2. walk each partition's records in order: when a record moves the watermark, first rescore the
   customers whose silence became due (earliest due first, at that watermark), then apply the
   event (a duplicate changes nothing) and score the customer at that event;
3. value (CLV, tier, RFM segment against the versioned cut points) chunk by chunk, snapshots,
   then one statement per table and one outbox insert per chunk.

Every scoring point is a function of the partition's records and the versions in force, never of
where a batch starts or ends (docs/scoring.md, "Replay = live").
"""

from __future__ import annotations

import asyncio
import heapq
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
from churnwatch_scoring import activity_volumes, directory, store
from churnwatch_scoring.hotload import ModelSource
from churnwatch_scoring.kpi_hook import KpiHook
from churnwatch_scoring.metrics import ScoringMetrics
from churnwatch_scoring.pipeline import ChunkWriter
from churnwatch_scoring.records import trace_headers
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
    silence: bool = True
    write_chunk: int = 1_000  # scores per written chunk (docs/scoring.md, "pipelining")
    yield_every: int = 64  # scores between two turns of the loop (the writer's)
    options: ScoreOptions = field(default_factory=ScoreOptions)
    kpis: bool = True  # keep the KPI aggregates (docs/kpis-as-built.md)


@dataclass(slots=True)
class _Dues:
    """One partition's silence dues up to the batch's last watermark: a heap of (due, customer)
    with lazy deletion (``current`` holds each customer's one valid due time)."""

    heap: list[tuple[datetime, str]] = field(default_factory=list)
    current: dict[str, datetime | None] = field(default_factory=dict)

    def set(self, cid: str, due: datetime | None, horizon: datetime) -> None:
        self.current[cid] = due
        if due is not None and due <= horizon:
            heapq.heappush(self.heap, (due, cid))

    def pop_due(self, watermark: datetime) -> list[str]:
        """Customers due by ``watermark``, earliest due first (ties by id)."""
        out: list[str] = []
        while self.heap and self.heap[0][0] <= watermark:
            due, cid = heapq.heappop(self.heap)
            if self.current.get(cid) == due:
                self.current[cid] = None
                out.append(cid)
        return out


class ScoringProcessor:
    """A `Processor` with `PartitionHooks`: per-partition LRU caches of profiles and clocks."""

    def __init__(
        self,
        config: ScoringConfig,
        models: ModelSource | None = None,
        metrics: ScoringMetrics | None = None,
    ) -> None:
        self.config = config
        self.models = models or ModelSource()
        self.metrics = metrics or ScoringMetrics()
        self.kpis = KpiHook(config.options.value.basis, enabled=config.kpis)
        self._cache: dict[TopicPartition, OrderedDict[str, Entry]] = {}
        self._max_seen: dict[TopicPartition, datetime] = {}  # max event time consumed
        self._stored_wm: dict[TopicPartition, datetime] = {}  # watermark last committed
        self._model_row: int | None = -1

    # -- partition hooks ---------------------------------------------------------------------

    async def on_assigned(
        self, conn: AsyncConnection, partitions: Collection[TopicPartition]
    ) -> None:
        pg = await store.raw(conn)
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
        parsed, dlq = self._parse(batch)
        await activity_volumes.add(pg, activity_volumes.batch_volumes(ev for _, _, ev in parsed))
        horizons = self._horizons(parsed)
        dues = await self._load_dues(pg, horizons)
        await self._load(
            pg,
            [(tp, ev.customer_id) for tp, _, ev in parsed]
            + [(tp, cid) for tp, d in dues.items() for cid in d.current],
        )
        writer = ChunkWriter(pg, conn, datetime.now(UTC))
        try:
            counts = await self._run(parsed, dlq, dues, horizons, writer)
        except BaseException:
            await writer.settle()
            raise
        await writer.wait()
        await self.kpis.flush(pg)
        self.metrics.kpi_seconds.inc(self.kpis.take_seconds())
        await self._write_watermarks(pg, batch)
        self._evict()
        m = self.metrics
        m.scored.labels("event").inc(counts[0])
        m.scored.labels("silence").inc(counts[1])
        m.batch_seconds.observe(time.perf_counter() - started)

    def _horizons(
        self, parsed: Sequence[tuple[TopicPartition, Record, Event]]
    ) -> dict[TopicPartition, datetime]:
        """The watermark each partition will reach at the end of this batch."""
        seen = dict(self._max_seen)
        for tp, _, ev in parsed:
            at, top = ev.occurred_at, seen.get(tp)
            if top is None or at > top:
                seen[tp] = at
        tps = {tp for tp, _, _ in parsed}
        return {tp: seen[tp] - self.config.lateness for tp in tps}

    async def _load_dues(
        self, pg: store.Pg, horizons: dict[TopicPartition, datetime]
    ) -> dict[TopicPartition, _Dues]:
        dues = {tp: _Dues() for tp in horizons}
        if not self.config.silence:
            return dues
        by_part = {tp.partition: tp for tp in horizons}
        rows = await store.due_until(pg, {tp.partition: wm for tp, wm in horizons.items()})
        for cid, part, due in rows:
            tp = by_part[part]
            dues[tp].set(cid, due, horizons[tp])
        return dues

    async def _run(
        self,
        parsed: Sequence[tuple[TopicPartition, Record, Event]],
        dlq: list[OutboxMessage],
        dues: dict[TopicPartition, _Dues],
        horizons: dict[TopicPartition, datetime],
        writer: ChunkWriter,
    ) -> tuple[int, int]:
        """Walk the records in partition order, scoring at every scoring point; value and write
        every ``write_chunk`` scores while the walk goes on (`ChunkWriter`)."""
        opts, model, lateness = self.config.options, self.models.model, self.config.lateness
        silence = self.config.silence
        every = self.config.yield_every
        scored: list[Scored] = []
        messages: list[OutboxMessage] = list(dlq)
        headers: dict[str, list[tuple[str, str]]] = {}
        events = rescored = 0
        wall = time.time()
        for tp, rec, ev in parsed:
            at, top = ev.occurred_at, self._max_seen.get(tp)
            if top is None or at > top:
                self._max_seen[tp] = top = at
            wm = top - lateness
            cache, part_dues = self._cache[tp], dues[tp]
            if silence:
                for cid in part_dues.pop_due(wm):
                    s = score_customer(
                        cid, tp.partition, self._entry(tp, cid), wm, model, opts,
                        cause="silence", cause_event_id=None,
                    )  # fmt: skip
                    part_dues.set(cid, s.due, horizons[tp])
                    scored.append(s)
                    rescored += 1
            entry = cache[ev.customer_id]
            if not apply(entry.profile, ev):
                self.metrics.duplicates.inc()
                continue
            clock = max(wm, at)
            events += 1
            self.kpis.event(tp.partition, ev, entry.profile, late=clock > at)
            if isinstance(ev, PurchaseEvent):
                entry.retail = update(entry.retail, at, ev.attributes.amount)
            elif isinstance(ev, CustomerErasedEvent):
                entry.retail = None
            cache.move_to_end(ev.customer_id)
            trace = trace_headers(rec.headers or ())
            if trace:
                headers[ev.event_id] = trace
            ts = getattr(rec, "timestamp", None)
            if ts:
                self.metrics.event_to_score.observe(max(0.0, wall - ts / 1000))
            s = score_customer(
                ev.customer_id, tp.partition, entry, clock, model, opts,
                cause="event", cause_event_id=ev.event_id,
            )  # fmt: skip
            if silence:
                part_dues.set(ev.customer_id, s.due, horizons[tp])
            scored.append(s)
            if len(scored) % every == 0:
                await asyncio.sleep(0)  # the writer sends its next statement
            if len(scored) >= self.config.write_chunk:
                self._submit(scored, messages, headers, writer)
                scored, messages = [], []
                await asyncio.sleep(0)
        self.metrics.events.inc(events)
        if scored or messages:
            self._submit(scored, messages, headers, writer)
        return events, rescored

    def _submit(
        self,
        scored: list[Scored],
        messages: list[OutboxMessage],
        headers: dict[str, list[tuple[str, str]]],
        writer: ChunkWriter,
    ) -> None:
        """Value one chunk of scores (in scoring order) and queue it for writing."""
        population = self.models.population
        result = finish(
            scored, self.models.clv, population, self.config.options,
            clv_params_id=self.models.clv_row,
        )  # fmt: skip
        self.kpis.scored(scored, result.all_records, population)
        messages.extend(
            OutboxMessage(
                self.config.scores_topic,
                rec.customer_id.encode(),
                value,
                headers=headers.get(rec.cause_event_id or "", ()),
                msg_id=msg_id,
            )
            for rec, value, msg_id in result.messages
        )
        writer.submit(result, messages)

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
