"""The uplift job's SQL (tables ``exposures``, ``uplift_reports``, migration 0021), the
report rows in the column order of ``uplift_reports``, and the reads behind
`churnwatch_alerts.uplift_view` (on the caller's SQLAlchemy connection)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.alerts import (
    Exposure,
    Rate,
    UpliftReport,
    uplift_reports,  # noqa: F401  (report_rows' doctest)
)
from churnwatch_runtime.db import Pg, transpose

LOCK_SQL = "SELECT pg_try_advisory_xact_lock($1)"


async def try_lock(pg: Pg, key: int) -> bool:
    """The job's transaction-level advisory lock (False: another instance holds it)."""
    return bool(await pg.fetchval(LOCK_SQL, key))


async def scoring_watermark(pg: Pg, group: str | None) -> datetime | None:
    """The minimum over the scoring partitions' event-time watermarks (None before any)."""
    if group is None:
        value = await pg.fetchval("SELECT min(watermark) FROM partition_watermarks")
    else:
        value = await pg.fetchval(
            "SELECT min(watermark) FROM partition_watermarks WHERE group_id = $1", group
        )
    return value  # type: ignore[no-any-return]


async def unresolved_page(
    pg: Pg, cutoff: datetime, after: tuple[datetime, str], limit: int
) -> list[Any]:
    """Up to ``limit`` unresolved exposures up to ``cutoff``, after ``after`` (keyset order
    ``exposed_at, action_id``): ``action_id, exposed_at``, the customer's profile ``state``
    and last ``lifecycle_stage`` (either None when unknown)."""
    rows: list[Any] = await pg.fetch(
        "SELECT e.action_id, e.exposed_at, p.state, s.lifecycle_stage FROM exposures e"
        " LEFT JOIN customer_profiles p ON p.customer_id = e.customer_id"
        " LEFT JOIN latest_scores s ON s.customer_id = e.customer_id"
        " WHERE e.churned IS NULL AND e.exposed_at <= $1"
        " AND (e.exposed_at, e.action_id) > ($2, $3)"
        " ORDER BY e.exposed_at, e.action_id LIMIT $4",
        cutoff, after[0], after[1], limit,
    )  # fmt: skip
    return rows


async def set_churned(
    pg: Pg, ids: Sequence[str], values: Sequence[bool], resolved_at: datetime
) -> None:
    """Resolve the exposures ``ids`` (still unresolved) with their ``churned`` labels."""
    await pg.execute(
        "UPDATE exposures e SET churned = v.churned, resolved_at = $3"
        " FROM unnest($1::text[], $2::bool[]) AS v(action_id, churned)"
        " WHERE e.action_id = v.action_id AND e.churned IS NULL",
        list(ids), list(values), resolved_at,
    )  # fmt: skip


async def resolved_exposures(pg: Pg) -> list[Exposure]:
    """Every resolved exposure, as the domain's `Exposure`."""
    return [
        Exposure(pb, segment, arm, churned, clv)
        for pb, segment, arm, churned, clv in await pg.fetch(
            "SELECT playbook_id, segment, arm, churned, clv FROM exposures"
            " WHERE churned IS NOT NULL"
        )
    ]


async def task_outcomes(pg: Pg) -> list[Any]:
    """``playbook_id, tier, state, sla_due_at, first_contact_at`` of every task."""
    rows: list[Any] = await pg.fetch(
        "SELECT playbook_id, tier, state, sla_due_at, first_contact_at FROM tasks"
    )
    return rows


async def playbook_texts(pg: Pg) -> list[Any]:
    """``id, version, yaml`` of every stored playbook version (enabled or not)."""
    rows: list[Any] = await pg.fetch("SELECT id, version, yaml FROM playbooks")
    return rows


def _interval_cols(i: Any) -> tuple[float | None, float | None, float | None]:
    return (None, None, None) if i is None else (i.estimate, i.low, i.high)


def report_rows(
    reports: Sequence[UpliftReport],
    saves: dict[tuple[str, str], Rate],
    sla: dict[tuple[str, str], Rate],
) -> list[tuple[Any, ...]]:
    """``uplift_reports`` rows (without the run columns) from the reports and the task rates
    per (playbook, segment); the honest save rate is the uplift itself.

    >>> rows = [Exposure("pb", "gold", "treated", i < 2) for i in range(10)]
    >>> rows += [Exposure("pb", "gold", "control", i < 5) for i in range(10)]
    >>> r = report_rows(uplift_reports(rows), {("pb", "all"): Rate(3, 4)}, {})
    >>> [(x[0], x[1], x[2], x[4], round(x[8], 2), x[-6:-3]) for x in r]
    [('pb', 'all', 10, 2, 0.3, (0.75, 3, 4)), ('pb', 'gold', 10, 2, 0.3, (None, 0, 0))]
    """
    out: list[tuple[Any, ...]] = []
    for r in reports:
        key = (r.playbook_id, r.segment)
        save, met = saves.get(key, Rate(0, 0)), sla.get(key, Rate(0, 0))
        churned_t = round((r.churn_treated or 0.0) * r.treated)
        churned_c = round((r.churn_control or 0.0) * r.control)
        out.append(
            (
                r.playbook_id, r.segment, r.treated, r.control, churned_t, churned_c,
                r.churn_treated, r.churn_control, *_interval_cols(r.uplift),
                *_interval_cols(r.customers_saved), *_interval_cols(r.value_saved),
                save.value, save.numerator, save.denominator,
                met.value, met.numerator, met.denominator,
            )
        )  # fmt: skip
    return out


_COLUMNS: tuple[tuple[str, str], ...] = (
    ("playbook_id", "text"), ("segment", "text"), ("treated", "int"), ("control", "int"),
    ("churned_treated", "int"), ("churned_control", "int"), ("churn_treated", "float8"),
    ("churn_control", "float8"), ("uplift", "float8"), ("uplift_low", "float8"),
    ("uplift_high", "float8"), ("customers_saved", "float8"), ("customers_saved_low", "float8"),
    ("customers_saved_high", "float8"), ("value_saved", "float8"), ("value_saved_low", "float8"),
    ("value_saved_high", "float8"), ("raw_save_rate", "float8"), ("tasks_won", "int"),
    ("tasks_closed", "int"), ("sla_attainment", "float8"), ("tasks_in_sla", "int"),
    ("tasks_due", "int"),
)  # fmt: skip
_INSERT = (
    "INSERT INTO uplift_reports (computed_at, watermark, horizon_days, "
    + ", ".join(name for name, _ in _COLUMNS)
    + ") SELECT $1, $2, $3, * FROM unnest("
    + ", ".join(f"${k + 4}::{kind}[]" for k, (_, kind) in enumerate(_COLUMNS))
    + ")"
)


async def insert_reports(
    pg: Pg, rows: Sequence[tuple[Any, ...]], *, computed_at: datetime, watermark: datetime,
    horizon_days: float,
) -> None:  # fmt: skip
    """The rows of one run (`report_rows`), stamped ``computed_at``."""
    if rows:
        await pg.execute(
            _INSERT, computed_at, watermark, horizon_days, *transpose(rows, len(_COLUMNS))
        )


_LATEST = """
SELECT * FROM uplift_reports
WHERE computed_at = (SELECT max(computed_at) FROM uplift_reports)
  AND (CAST(:playbook AS text) IS NULL OR playbook_id = :playbook)
ORDER BY playbook_id, segment <> 'all', segment
"""

_EARLY = """
SELECT playbook_id, segment, arm, count(*) AS exposed,
       count(churned) AS resolved, count(*) FILTER (WHERE churned) AS churned,
       min(exposed_at) AS first_exposed_at, max(exposed_at) AS last_exposed_at
FROM exposures
WHERE CAST(:playbook AS text) IS NULL OR playbook_id = :playbook
GROUP BY GROUPING SETS ((playbook_id, segment, arm), (playbook_id, arm))
"""


async def latest_report_rows(conn: AsyncConnection, playbook: str | None) -> list[dict[str, Any]]:
    """The ``uplift_reports`` rows of the newest run (``all`` first per playbook)."""
    result = await conn.execute(text(_LATEST), {"playbook": playbook})
    return [dict(r._mapping) for r in result]


async def exposure_counts(conn: AsyncConnection, playbook: str | None) -> list[Row[Any]]:
    """Exposures per playbook, segment (None: all) and arm: ``exposed``, ``resolved``,
    ``churned``, ``first_exposed_at``, ``last_exposed_at``."""
    return list(await conn.execute(text(_EARLY), {"playbook": playbook}))
