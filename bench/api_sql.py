"""The bare SQL behind three API reads, through asyncpg directly: the ceiling `bench_api` puts
beside each endpoint's latency. Statements are imported from the API's store modules where they
are module constants; the task KPI ones are copies of `churnwatch_api.store.kpis` (keep in step)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from churnwatch_alerts.worktasks import TASK_COLUMNS
from churnwatch_api.store.at_risk import AtRiskFilter, build_query
from churnwatch_api.store.customers import ACTIONS, SCORE
from churnwatch_api.store.kpis import DAYS, HEAD


async def customer(pg: Any, customer_id: str) -> None:
    """`churnwatch_api.store.customers.load_customer`'s four statements."""
    await pg.fetchrow(SCORE, customer_id)
    await pg.fetchval("SELECT state FROM customer_profiles WHERE customer_id = $1", customer_id)
    await pg.fetch(
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE customer_id = $1"
        " ORDER BY created_at DESC, task_id LIMIT 100",
        customer_id,
    )
    await pg.fetch(ACTIONS, customer_id, 50)


async def at_risk(pg: Any, bands: list[str], tier: str) -> None:
    """The first page (50 rows + 1 to know whether more follow), as `fetch_page` asks it."""
    sql, params = build_query(
        AtRiskFilter(bands=tuple(bands), tiers=(tier,)), "value_at_risk", "desc", None, 51
    )
    await pg.fetch(sql, *params)


async def touch(pg: Any, days: list[date]) -> None:
    """Move the change stamps of ``days`` as a scoring batch writing to them would."""
    await pg.execute(
        "UPDATE kpi_day_stamp SET version = pg_current_xact_id()::text::bigint"
        " WHERE day = ANY($1::date[])",
        days,
    )


async def kpis(pg: Any, first: date, last: date, changed: list[date]) -> None:
    """``GET /v1/kpis`` (cut all) with ``changed`` days moved since its last call: totals and
    the window's day stamps, the changed days' deltas in the same snapshot, and the task KPIs of
    the window (the API caches the other days: `churnwatch_api.store.kpis.DayCache`)."""
    await pg.fetch(HEAD, "all", first - timedelta(days=1))
    if changed:
        async with pg.transaction(isolation="repeatable_read", readonly=True):
            await pg.fetch(HEAD, "all", first - timedelta(days=1))
            await pg.fetch(DAYS, "all", changed)
    lo = datetime.combine(first, time(), UTC)
    hi = datetime.combine(last + timedelta(days=1), time(), UTC)
    await pg.fetch(
        "SELECT (closed_at AT TIME ZONE 'UTC')::date, 'all',"
        " count(*) FILTER (WHERE state = 'won'), count(*) FROM tasks"
        " WHERE closed_at >= $1 AND closed_at < $2 GROUP BY 1, 2",
        lo, hi,
    )  # fmt: skip
    await pg.fetch(
        "SELECT (sla_due_at AT TIME ZONE 'UTC')::date, 'all',"
        " count(*) FILTER (WHERE first_contact_at <= sla_due_at), count(*) FROM tasks"
        " WHERE sla_due_at >= $1 AND sla_due_at < least($2, now()) GROUP BY 1, 2",
        lo, hi,
    )  # fmt: skip
