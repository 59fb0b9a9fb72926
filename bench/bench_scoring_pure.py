"""The scoring worker's pure path per event, in-process: apply, score, value, lay out the rows.

What one scoring worker spends in Python per event, without Kafka, PostgreSQL or the event
parser: `apply` → `score_customer` (features, model, band, lifecycle, reasons, next due, RFM,
snapshot) → `finish` per chunk of 1,000 scores (CLV, tiers, RFM segments, records, history,
publish policy, score messages, profile encoding). The simulator's stream at 10,000 and 100,000
customers, the first half (in events) as warm-up, the second half timed on the process CPU
clock. Two cache patterns:

- ``warm``: every customer stays decoded in memory (the worker's LRU at 5,000 customers);
- ``cold``: every event's customer is decoded from its stored bytes first (profile and pickled
  `RetailStats`), as at 1,000,000 customers where a 5,000-record batch almost never meets a
  customer twice, and each chunk re-encodes every customer it scored (as it does anyway).

The per-event cost of the cold pattern at 100,000 customers is the figure issue 14's
"1M within 15% of 10k" is about; the database's share is measured by ``--only scoring``.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.harness import Benchmark, Context, Metric
from churnwatch.events import CustomerErasedEvent, Event, PurchaseEvent, parse_event
from churnwatch.model import ModelState, Scorer
from churnwatch.profile import CustomerProfile, apply
from churnwatch.value import update
from churnwatch_scoring.population import Population
from churnwatch_scoring.scoring import Entry, Scored, ScoreOptions, finish, score_customer
from churnwatch_scoring.valuation import ClvParams

FAR = datetime(2100, 1, 1, tzinfo=UTC)
CHUNK = 1_000
SIZES = ((10_000, 10), (100_000, 3))  # (customers, simulated days)
QUICK_SIZES = ((10_000, 4), (100_000, 1))
POPULATION = Population.from_row(
    1,
    {"platinum": 900.0, "gold": 400.0, "silver": 150.0},
    {"recency": [7, 14, 30, 60], "frequency": [1, 2, 3, 5], "monetary": [20, 50, 100, 250]},
)


def simulate(customers: int, days: int, seed: int = 7) -> list[Event]:
    """The simulator's events for ``customers`` over ``days``, parsed, in stream order."""
    from churnwatch_sim import SimConfig, Simulator

    cfg = SimConfig(days=days, seed=seed).with_overrides(**{"population.customers": customers})
    sim = Simulator(cfg)
    out: list[Event] = []
    while not sim.done:
        for chunk in sim.step().chunks(50_000):
            out.extend(parse_event(line, now=FAR) for line in chunk)
    return out


@dataclass(slots=True)
class _Stored:
    """A customer as the database holds it between batches (the cold pattern)."""

    state: bytes
    retail: bytes | None
    entry: Entry  # for last_score / last_snapshot / last_published only


def run(events: list[Event], *, cold: bool, warm_up: int) -> tuple[float, int]:
    """CPU seconds and events applied after the first ``warm_up`` events."""
    model = _model()
    opts, clv = ScoreOptions(), ClvParams.default()
    live: dict[str, Entry] = {}  # warm: all; cold: the current chunk's customers only
    stored: dict[str, _Stored] = {}
    scored: list[Scored] = []
    started, counted = 0.0, 0
    for i, ev in enumerate(events):
        if i == warm_up:
            started, counted = time.process_time(), 0
        cid = ev.customer_id
        entry = live.get(cid)
        if entry is None:
            entry = live[cid] = _load(stored.get(cid)) if cold else _new()
        if not apply(entry.profile, ev):
            continue
        if isinstance(ev, PurchaseEvent):
            entry.retail = update(entry.retail, ev.occurred_at, ev.attributes.amount)
        elif isinstance(ev, CustomerErasedEvent):
            entry.retail = None
        scored.append(
            score_customer(cid, 0, entry, ev.occurred_at, model, opts, cause="event",
                           cause_event_id=ev.event_id)
        )  # fmt: skip
        counted += 1
        if len(scored) >= CHUNK:
            _finish(scored, clv, opts, live, stored, cold)
            scored = []
    _finish(scored, clv, opts, live, stored, cold)
    return time.process_time() - started, counted


def _model() -> Scorer:
    return ModelState().serving()


def _new() -> Entry:
    return Entry(CustomerProfile(), None, None, None)


def _load(row: _Stored | None) -> Entry:
    if row is None:
        return _new()
    retail = pickle.loads(row.retail) if row.retail else None
    e = row.entry
    return Entry(
        CustomerProfile.from_bytes(row.state), retail, e.last_score, e.last_snapshot,
        e.last_published,
    )  # fmt: skip


def _finish(
    scored: list[Scored],
    clv: ClvParams,
    opts: ScoreOptions,
    live: dict[str, Entry],
    stored: dict[str, _Stored],
    cold: bool,
) -> None:
    if not scored:
        return
    result = finish(scored, clv, POPULATION, opts)
    if cold:  # the chunk's rows are "written"; the next event reads them back
        for cid, _, state, retail in result.profiles:
            stored[cid] = _Stored(state, retail, live.pop(cid))


def _run(ctx: Context) -> list[Metric]:
    sizes = QUICK_SIZES if ctx.quick else SIZES
    command = "python -m bench --only pure_scoring" + (" --quick" if ctx.quick else "")
    load = os.getloadavg()[0]
    metrics: list[Metric] = []
    for customers, days in sizes:
        events = simulate(customers, days)
        half = len(events) // 2
        for cold in (False, True):
            cpu, n = run(events, cold=cold, warm_up=half)
            pattern = "cold" if cold else "warm"
            label = f"{customers // 1000}k"
            notes = (
                f"{customers:,} customers, {days} simulated days ({len(events):,} events, seed 7),"
                f" the second half timed ({n:,} applied events); {pattern} cache; process CPU "
                f"time, one core; prior model, populated cut points; load average {load:.1f}."
            )
            metrics.append(
                Metric(
                    f"scoring_pure_us_per_event_{label}_{pattern}",
                    round(cpu / max(n, 1) * 1e6, 1),
                    "µs CPU/event",
                    command,
                    notes=notes,
                )
            )
    return metrics


def _available() -> str | None:
    try:
        import churnwatch_sim  # noqa: F401
    except ImportError:
        return "the simulator is not installed"
    return None


BENCHMARKS = [
    Benchmark(
        name="pure_scoring",
        run=_run,
        available=_available,
        description="scoring worker's pure path per event (apply, score, finish), warm and cold",
    )
]
