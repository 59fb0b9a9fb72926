"""SQL of the KPI and data-quality aggregates the scoring worker keeps (migration 0032).

Every statement is one round trip with arrays through ``unnest``, in the worker's batch
transaction: a batch rolled back takes its deltas with it, so the aggregates count each applied
event exactly once. Rows are upserted in key order, so two workers never deadlock (and they
rarely meet: every key carries the cw.events partition).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from churnwatch.kpis import CustomerState, DailyKey, TotalKey
from churnwatch_runtime.db import Pg


async def load_states(pg: Pg, ids: Sequence[str]) -> dict[str, CustomerState]:
    """The stored KPI state of each customer of ``ids`` that has one."""
    if not ids:
        return {}
    rows = await pg.fetch(
        "SELECT customer_id, state FROM kpi_customer_state WHERE customer_id = ANY($1::text[])",
        list(ids),
    )
    return {r[0]: CustomerState.unpack(r[1]) for r in rows}


async def write_states(pg: Pg, states: Sequence[tuple[str, CustomerState]]) -> None:
    if not states:
        return
    ids = sorted(states, key=lambda s: s[0])
    await pg.execute(
        "INSERT INTO kpi_customer_state (customer_id, state)"
        " SELECT * FROM unnest($1::text[], $2::text[])"
        " ON CONFLICT (customer_id) DO UPDATE SET state = EXCLUDED.state",
        [c for c, _ in ids], [s.pack() for _, s in ids],
    )  # fmt: skip


async def add_daily(pg: Pg, rows: Sequence[tuple[DailyKey, float]]) -> None:
    """Add ``rows`` (sorted by key) to ``kpi_daily``."""
    if not rows:
        return
    cuts, days, values, metrics, parts = zip(*(k for k, _ in rows), strict=True)
    await pg.execute(
        "INSERT INTO kpi_daily (cut, day, cut_value, metric, partition, value)"
        " SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::int[],"
        " $6::float8[]) ON CONFLICT (cut, day, cut_value, metric, partition)"
        " DO UPDATE SET value = kpi_daily.value + EXCLUDED.value",
        list(cuts), list(days), list(values), list(metrics), list(parts), [v for _, v in rows],
    )  # fmt: skip


async def add_totals(pg: Pg, rows: Sequence[tuple[TotalKey, float]]) -> None:
    """Add ``rows`` (sorted by key) to ``kpi_totals``."""
    if not rows:
        return
    cuts, values, metrics, parts = zip(*(k for k, _ in rows), strict=True)
    await pg.execute(
        "INSERT INTO kpi_totals (cut, cut_value, metric, partition, value)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::float8[])"
        " ON CONFLICT (cut, cut_value, metric, partition)"
        " DO UPDATE SET value = kpi_totals.value + EXCLUDED.value",
        list(cuts), list(values), list(metrics), list(parts), [v for _, v in rows],
    )  # fmt: skip


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
