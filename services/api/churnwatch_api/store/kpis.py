"""Reads of the KPI aggregates (migration 0032) and of the small task/uplift tables.

Nothing here scans the customer population: ``kpi_totals`` is a few rows per cut value and
``kpi_daily`` a few per day and cut value; the task KPIs read tasks closed or due in the window
(indexes ``ix_tasks_closed_at`` / ``ix_tasks_sla_due_at``) and ``uplift_reports`` is small.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db import raw_connection

TASK_CUT_COLUMN = {"all": "'all'", "tier": "tier", "playbook": "playbook_id"}


@dataclass
class Aggregates:
    """One cut's totals now and its daily deltas from a day on (all later days included)."""

    totals: dict[tuple[str, str], float] = field(default_factory=dict)
    daily: dict[tuple[date, str, str], float] = field(default_factory=dict)
    cut_values: set[str] = field(default_factory=set)


async def last_day(engine: AsyncEngine) -> date | None:
    """The newest event day with any aggregate (the default end of a window)."""
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        value = await pg.fetchval("SELECT max(day) FROM kpi_day_stamp")
    return value if isinstance(value, date) else None


Stamp = str
"""A day's change stamp: max, sum and count of its partitions' writer xids (any write moves it)."""
DayRows = dict[tuple[str, str], float]
"""(cut value, metric) → the day's delta, summed over partitions."""

# the totals of a cut and the stamps of the days from ``since`` on, in one statement (one
# snapshot): stamp rows carry a NULL cut value
HEAD = (
    "SELECT NULL::date, cut_value, metric, sum(value), NULL FROM kpi_totals WHERE cut = $1"
    " GROUP BY 2, 3 UNION ALL SELECT day, NULL, NULL, NULL,"
    " max(version)::text || ':' || sum(version)::text || ':' || count(*)::text"
    " FROM kpi_day_stamp WHERE day >= $2 GROUP BY day"
)
DAYS = (
    "SELECT day, cut_value, metric, sum(value) FROM kpi_daily WHERE cut = $1"
    " AND day = ANY($2::date[]) GROUP BY 1, 2, 3"
)


class DayCache:
    """Each (cut, day)'s summed ``kpi_daily`` rows with the stamp they were read at, per engine
    (one database): a request re-reads only the days scoring wrote since. Bounded: the least
    recently used days go first."""

    def __init__(self, max_days: int = 1_024) -> None:
        self.max_days = max_days
        self._days: OrderedDict[tuple[str, date], tuple[Stamp, DayRows]] = OrderedDict()

    def get(self, cut: str, day: date, stamp: Stamp) -> DayRows | None:
        hit = self._days.get((cut, day))
        if hit is None or hit[0] != stamp:
            return None
        self._days.move_to_end((cut, day))
        return hit[1]

    def put(self, cut: str, day: date, stamp: Stamp, rows: DayRows) -> None:
        self._days[(cut, day)] = (stamp, rows)
        self._days.move_to_end((cut, day))
        while len(self._days) > self.max_days:
            self._days.popitem(last=False)


_CACHES: WeakKeyDictionary[AsyncEngine, DayCache] = WeakKeyDictionary()


def day_cache(engine: AsyncEngine) -> DayCache:
    """The cache of ``engine``'s database (gone with the engine)."""
    cache = _CACHES.get(engine)
    if cache is None:
        cache = _CACHES[engine] = DayCache()
    return cache


def _head(rows: list[Any]) -> tuple[dict[tuple[str, str], float], dict[date, Stamp]]:
    totals: dict[tuple[str, str], float] = {}
    stamps: dict[date, Stamp] = {}
    for r in rows:
        if r[1] is None:
            stamps[r[0]] = r[4]
        else:
            totals[(r[1], r[2])] = float(r[3])
    return totals, stamps


async def aggregates(engine: AsyncEngine, cut: str, since: date) -> Aggregates:
    """Totals of ``cut`` and its deltas on ``since`` and after, summed over partitions.

    Steady state: one statement (totals and stamps); the days whose stamp moved (or not cached
    yet) are read in the same repeatable-read snapshot as the totals they are levelled against.
    """
    cache = day_cache(engine)
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        totals, stamps = _head(await pg.fetch(HEAD, cut, since))
        if any(cache.get(cut, d, s) is None for d, s in stamps.items()):
            async with pg.transaction(isolation="repeatable_read", readonly=True):
                totals, stamps = _head(await pg.fetch(HEAD, cut, since))
                missing = [d for d, s in stamps.items() if cache.get(cut, d, s) is None]
                read: dict[date, DayRows] = {d: {} for d in missing}
                for r in await pg.fetch(DAYS, cut, missing):
                    read[r[0]][(r[1], r[2])] = float(r[3])
            for d, day_rows in read.items():
                cache.put(cut, d, stamps[d], day_rows)
    out = Aggregates(totals=totals, cut_values={cv for cv, _ in totals})
    for d, s in stamps.items():
        for (cv, metric), x in (cache.get(cut, d, s) or {}).items():
            out.daily[(d, cv, metric)] = x
            out.cut_values.add(cv)
    return out


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first, time(), UTC),
        datetime.combine(last + timedelta(days=1), time(), UTC),
    )


TaskCounts = dict[tuple[date, str], tuple[int, int]]
"""(day, cut value) → (numerator, denominator)"""


async def task_counts(
    engine: AsyncEngine, cut: str, first: date, last: date
) -> tuple[TaskCounts, TaskCounts]:
    """(won, closed) by the day tasks closed; (contacted in SLA, due) by the day their SLA fell
    due (only SLAs already past: a task due tomorrow can still make it)."""
    column = TASK_CUT_COLUMN[cut]
    lo, hi = _bounds(first, last)
    saves: TaskCounts = {}
    sla: TaskCounts = {}
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        for r in await pg.fetch(
            f"SELECT (closed_at AT TIME ZONE 'UTC')::date, {column},"
            " count(*) FILTER (WHERE state = 'won'), count(*) FROM tasks"
            " WHERE closed_at >= $1 AND closed_at < $2 GROUP BY 1, 2",
            lo, hi,
        ):  # fmt: skip
            saves[(r[0], r[1])] = (int(r[2]), int(r[3]))
        for r in await pg.fetch(
            f"SELECT (sla_due_at AT TIME ZONE 'UTC')::date, {column},"
            " count(*) FILTER (WHERE first_contact_at <= sla_due_at), count(*) FROM tasks"
            " WHERE sla_due_at >= $1 AND sla_due_at < least($2, now()) GROUP BY 1, 2",
            lo, hi,
        ):  # fmt: skip
            sla[(r[0], r[1])] = (int(r[2]), int(r[3]))
    return saves, sla


@dataclass(frozen=True, slots=True)
class UpliftPoint:
    day: date
    playbook_id: str
    uplift: float | None
    low: float | None
    high: float | None
    treated: int
    control: int


async def uplift_points(engine: AsyncEngine, first: date, last: date) -> list[UpliftPoint]:
    """The last uplift report of each day (by its event-time watermark) per playbook, segment
    ``all``."""
    lo, hi = _bounds(first, last)
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await pg.fetch(
            "SELECT DISTINCT ON (d, playbook_id) (watermark AT TIME ZONE 'UTC')::date AS d,"
            " playbook_id, uplift, uplift_low, uplift_high, treated, control FROM uplift_reports"
            " WHERE segment = 'all' AND watermark >= $1 AND watermark < $2"
            " ORDER BY d, playbook_id, computed_at DESC, id DESC",
            lo, hi,
        )  # fmt: skip
    return [UpliftPoint(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


async def totals(engine: AsyncEngine, cut: str, prefix: str = "") -> dict[tuple[str, str], float]:
    """(cut value, metric) → running total now, for metrics starting with ``prefix``."""
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await pg.fetch(
            "SELECT cut_value, metric, sum(value) FROM kpi_totals WHERE cut = $1"
            " AND metric LIKE $2 GROUP BY 1, 2",
            cut, prefix + "%",
        )  # fmt: skip
    return {(r[0], r[1]): float(r[2]) for r in rows}


async def flows(
    engine: AsyncEngine, cut: str, first: date, last: date, prefixes: tuple[str, ...]
) -> dict[str, float]:
    """metric → Σ over the window of the daily rows of ``cut`` (all cut values)."""
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await pg.fetch(
            "SELECT metric, sum(value) FROM kpi_daily WHERE cut = $1 AND day BETWEEN $2 AND $3"
            " AND metric LIKE ANY($4::text[]) GROUP BY 1",
            cut, first, last, [p + "%" for p in prefixes],
        )  # fmt: skip
    return {r[0]: float(r[1]) for r in rows}
