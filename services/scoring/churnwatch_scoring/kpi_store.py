"""SQL of the KPI and data-quality aggregates the scoring worker keeps (migration 0032).

A batch's rows go in one statement (arrays through ``unnest``) in the worker's batch
transaction: a batch rolled back takes its deltas with it, so the aggregates count each applied
event exactly once. Rows are upserted in key order, so two workers never deadlock (and they
rarely meet: every key carries the cw.events partition).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from churnwatch.kpis import CustomerState, DailyKey, TotalKey
from churnwatch_runtime.db import Pg


async def load_packed(pg: Pg, ids: Sequence[str]) -> dict[str, str]:
    """The stored KPI state of each customer of ``ids`` that has one, packed
    (`CustomerState.pack`): an unchanged state is recognised without unpacking it."""
    if not ids:
        return {}
    rows = await pg.fetch(
        "SELECT customer_id, state FROM kpi_customer_state WHERE customer_id = ANY($1::text[])",
        list(ids),
    )
    return {r[0]: r[1] for r in rows}


async def load_states(pg: Pg, ids: Sequence[str]) -> dict[str, CustomerState]:
    """The stored KPI state of each customer of ``ids`` that has one."""
    return {c: CustomerState.unpack(s) for c, s in (await load_packed(pg, ids)).items()}


# each upsert as a CTE of one statement (one round trip a batch); rows in key order, so two
# writers never deadlock. kpi_day_stamp: the writer's xid on each (day, partition) written, in
# the same statement as the rows (the API's day cache re-reads the days it moved: migration 0036)
_DAILY = (
    "INSERT INTO kpi_daily (cut, day, cut_value, metric, partition, value)"
    " SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::int[],"
    " $6::float8[]) ON CONFLICT (cut, day, cut_value, metric, partition)"
    " DO UPDATE SET value = kpi_daily.value + EXCLUDED.value"
)
_STAMP = (
    "INSERT INTO kpi_day_stamp (day, partition, version)"
    " SELECT d, p, pg_current_xact_id()::text::bigint FROM unnest($7::date[], $8::int[]) AS u(d, p)"
    " ON CONFLICT (day, partition) DO UPDATE SET version = EXCLUDED.version"
)
_TOTALS = (
    "INSERT INTO kpi_totals (cut, cut_value, metric, partition, value)"
    " SELECT * FROM unnest($9::text[], $10::text[], $11::text[], $12::int[], $13::float8[])"
    " ON CONFLICT (cut, cut_value, metric, partition)"
    " DO UPDATE SET value = kpi_totals.value + EXCLUDED.value"
)
_STATES = (
    "INSERT INTO kpi_customer_state (customer_id, state)"
    " SELECT * FROM unnest($14::text[], $15::text[])"
    " ON CONFLICT (customer_id) DO UPDATE SET state = EXCLUDED.state"
)
WRITE_BATCH = f"WITH d AS ({_DAILY}), s AS ({_STAMP}), t AS ({_TOTALS}) {_STATES}"


def _daily_args(rows: Sequence[tuple[DailyKey, float]]) -> list[list[Any]]:
    if not rows:
        return [[], [], [], [], [], [], [], []]
    cuts, days, values, metrics, parts = zip(*(k for k, _ in rows), strict=True)
    stamps = sorted({(k[1], k[4]) for k, _ in rows})
    return [list(cuts), list(days), list(values), list(metrics), list(parts),
            [v for _, v in rows], [d for d, _ in stamps], [p for _, p in stamps]]  # fmt: skip


def _totals_args(rows: Sequence[tuple[TotalKey, float]]) -> list[list[Any]]:
    if not rows:
        return [[], [], [], [], []]
    cuts, values, metrics, parts = zip(*(k for k, _ in rows), strict=True)
    return [list(cuts), list(values), list(metrics), list(parts), [v for _, v in rows]]


async def write_batch(
    pg: Pg,
    daily: Sequence[tuple[DailyKey, float]],
    totals: Sequence[tuple[TotalKey, float]],
    states: Sequence[tuple[str, str]],
) -> None:
    """Add ``daily`` and ``totals`` (sorted by key) and store the packed ``states`` (sorted by
    customer id) in one statement."""
    if not (daily or totals or states):
        return
    await pg.execute(
        WRITE_BATCH, *_daily_args(daily), *_totals_args(totals),
        [c for c, _ in states], [s for _, s in states],
    )  # fmt: skip


async def write_states(pg: Pg, states: Sequence[tuple[str, CustomerState]]) -> None:
    await write_batch(pg, [], [], sorted((c, s.pack()) for c, s in states))


async def add_daily(pg: Pg, rows: Sequence[tuple[DailyKey, float]]) -> None:
    """Add ``rows`` (sorted by key) to ``kpi_daily``."""
    await write_batch(pg, rows, [], [])


async def add_totals(pg: Pg, rows: Sequence[tuple[TotalKey, float]]) -> None:
    """Add ``rows`` (sorted by key) to ``kpi_totals``."""
    await write_batch(pg, [], rows, [])


QualityKey = tuple[date, str, str, str, str, int]
"""(day, source, outcome, reason, path, shard) of ``quality_daily``."""


async def add_quality(pg: Pg, rows: Sequence[tuple[QualityKey, int]]) -> None:
    """Add counts to ``quality_daily`` (sorted by key by the caller)."""
    if not rows:
        return
    days, sources, outcomes, reasons, paths, shards = zip(*(k for k, _ in rows), strict=True)
    await pg.execute(
        "INSERT INTO quality_daily (day, source, outcome, reason, path, shard, count)"
        " SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::text[],"
        " $6::int2[], $7::int8[]) ON CONFLICT (day, source, outcome, reason, path, shard)"
        " DO UPDATE SET count = quality_daily.count + EXCLUDED.count",
        list(days), list(sources), list(outcomes), list(reasons), list(paths), list(shards),
        [n for _, n in rows],
    )  # fmt: skip
