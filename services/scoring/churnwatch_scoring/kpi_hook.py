"""The scoring worker's KPI hook: captures applied events, takes each scored customer's KPI
state before and after the batch, and writes the deltas in the batch's transaction.

Called from `ScoringProcessor` at four points of a batch (``begin``, ``event`` per applied event,
``scored`` per valued chunk, ``flush`` after the chunks are written); the arithmetic is
`churnwatch.kpis`, the SQL `kpi_store`. Late events (event time behind the partition's
watermark) are counted here into ``quality_daily`` by the day they were consumed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, date, datetime

from churnwatch.events import Event
from churnwatch.kpis import CustomerState, EventFact, Move, batch_deltas, capture
from churnwatch.profile import CustomerProfile, rfm_scores
from churnwatch_scoring import kpi_store
from churnwatch_scoring.population import Population
from churnwatch_scoring.records import ScoreRecord
from churnwatch_scoring.scoring import Scored
from churnwatch_scoring.store import Pg


class KpiHook:
    """One batch at a time; `begin` forgets whatever a failed batch left behind."""

    def __init__(self, basis: str = "retained", *, enabled: bool = True) -> None:
        self.basis = basis
        self.enabled = enabled
        self._facts: list[EventFact] = []
        self._late: dict[tuple[str, int], int] = {}
        self._new: list[tuple[str, int, CustomerState, date]] = []
        self.seconds = 0.0  # time spent in the hook since the last `take_seconds`

    def take_seconds(self) -> float:
        """The hook's time since the last call (``cw_scoring_kpi_seconds``: its cost, measured
        in the same batches as the batch time, whatever else loads the machine)."""
        spent, self.seconds = self.seconds, 0.0
        return spent

    def begin(self) -> None:
        self._facts.clear()
        self._late.clear()
        self._new.clear()

    def event(self, partition: int, ev: Event, profile: CustomerProfile, *, late: bool) -> None:
        """An event was applied to ``profile`` (already holding it)."""
        if not self.enabled:
            return
        t = time.perf_counter()
        self._facts.append(capture(ev, profile, partition))
        if late:
            key = (ev.source, partition)
            self._late[key] = self._late.get(key, 0) + 1
        self.seconds += time.perf_counter() - t

    def scored(
        self, scored: Sequence[Scored], records: Sequence[ScoreRecord], population: Population
    ) -> None:
        """The new KPI state of each customer of a valued chunk."""
        if not self.enabled:
            return
        t = time.perf_counter()
        for s, rec in zip(scored, records, strict=True):
            self._new.append(
                (rec.customer_id, rec.partition, self._state(s, rec, population),
                 rec.event_time.astimezone(UTC).date())
            )  # fmt: skip
        self.seconds += time.perf_counter() - t

    def _state(self, s: Scored, rec: ScoreRecord, population: Population) -> CustomerState:
        r = f = 0
        if s.rfm is not None and population.cuts is not None:
            sc = rfm_scores(s.rfm.recency_days, s.rfm.frequency, s.rfm.monetary, population.cuts)
            r, f = sc.r, sc.f
        value = (rec.value_if_retained or 0.0) if self.basis == "retained" else rec.clv
        mrr = s.price_monthly if s.subscription and s.subscription_active else 0.0
        last = datetime.fromtimestamp(s.last_tx, UTC).date() if s.purchases and s.last_tx else None
        return CustomerState(
            rec.tier, rec.rfm_segment or "", rec.lifecycle_stage, rec.band, rec.business_model,
            value, rec.value_at_risk, mrr, min(s.purchases, 2), last, r, f,
        )  # fmt: skip

    async def flush(self, pg: Pg) -> None:
        """Load the previous states, write the deltas and the new states; then forget the batch."""
        if not self.enabled:
            return
        t = time.perf_counter()
        try:
            stored = await kpi_store.load_packed(pg, list({c: None for c, _, _, _ in self._new}))
            moves, changed = _moves(self._new, stored)
            deltas = batch_deltas(moves, self._facts)
            await kpi_store.write_batch(
                pg, deltas.sorted_daily(), deltas.sorted_totals(), sorted(changed.items())
            )
            if self._late:
                today = datetime.now(UTC).date()
                await kpi_store.add_quality(
                    pg,
                    sorted(
                        ((today, src, "late", "", "scoring", part), n)
                        for (src, part), n in self._late.items()
                    ),
                )
        finally:
            self.begin()
            self.seconds += time.perf_counter() - t


def _moves(
    scored: Sequence[tuple[str, int, CustomerState, date]], stored: dict[str, str]
) -> tuple[list[Move], dict[str, str]]:
    """Each score's move, and the packed states to write (the last of each customer whose
    state differs from the stored one). An unchanged state moves from itself (no unpacking;
    `batch_deltas` skips it) and is not written again."""
    moves: list[Move] = []
    seen: dict[str, CustomerState] = {}  # a customer scored twice moves from its last score
    changed: dict[str, str] = {}
    for c, p, new, day in scored:
        text = new.pack()
        old = seen.get(c)
        if old is None:
            was = stored.get(c)
            old = new if was == text else None if was is None else CustomerState.unpack(was)
        moves.append(Move(c, p, old, new, day))
        seen[c] = new
        if stored.get(c) == text:
            changed.pop(c, None)
        else:
            changed[c] = text
    return moves, changed
