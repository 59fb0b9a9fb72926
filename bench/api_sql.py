"""The bare SQL behind three API reads, through asyncpg directly: the ceiling `bench_api` puts
beside each endpoint's latency. Statements are imported from the API's store modules where they
are module constants; the KPI ones are copies of `churnwatch_api.store.kpis` (keep in step)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from churnwatch_alerts.worktasks import TASK_COLUMNS
from churnwatch_api.store.at_risk import AtRiskFilter, build_query
from churnwatch_api.store.customers import ACTIONS, SCORE


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


async def kpis(pg: Any, first: date, last: date) -> None:
    """``GET /v1/kpis`` (cut all): newest day, totals, deltas since the day before ``first``,
    and the task KPIs of the window."""
    await pg.fetchval("SELECT max(day) FROM kpi_daily WHERE cut = 'all'")
    await pg.fetch(
        "SELECT cut_value, metric, sum(value) FROM kpi_totals WHERE cut = $1"
        " AND metric LIKE ANY($2::text[]) GROUP BY 1, 2",
        "all", ["%"],
    )  # fmt: skip
    await pg.fetch(
        "SELECT day, cut_value, metric, sum(value) FROM kpi_daily WHERE cut = $1"
        " AND day >= $2 AND metric LIKE ANY($3::text[]) GROUP BY 1, 2, 3",
        "all", first - timedelta(days=1), ["%"],
    )  # fmt: skip
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
