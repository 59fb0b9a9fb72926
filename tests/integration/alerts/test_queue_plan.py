"""The queue's statement can be served by its indexes (migration 0039) in every shape the API,
the dashboard and the CLI ask for: no Sort node, a range scan of the queue index — also under a
prepared statement's generic plan (the states are literals, so the partial index's predicate is
provable without the parameters' values)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_alerts.store.queue import queue_sql
from churnwatch_alerts.worktasks import QueueFilter
from churnwatch_runtime.db import raw_connection

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)
AFTER = (5.0, NOW, NOW, "T-9")


@pytest.mark.parametrize(
    ("f", "after", "index"),
    [
        (QueueFilter(), None, "ix_tasks_queue_order"),
        (QueueFilter(), AFTER, "ix_tasks_queue_order"),
        (QueueFilter(overdue=True), None, "ix_tasks_queue_order"),
        (QueueFilter(team="save"), None, "ix_tasks_queue_team"),
        (QueueFilter(team="save", overdue=False), AFTER, "ix_tasks_queue_team"),
        (QueueFilter(assignee="A-1"), None, "ix_tasks_queue_assignee"),
        (QueueFilter(assignee="A-1"), AFTER, "ix_tasks_queue_assignee"),
    ],
)
async def test_a_queue_page_is_an_index_scan_without_a_sort(
    db: AsyncEngine, f: QueueFilter, after: tuple[float, datetime, datetime, str] | None,
    index: str,
) -> None:  # fmt: skip
    sql, params = queue_sql(f, NOW, after, 51)
    async with db.connect() as conn:
        pg = await raw_connection(conn)
        # the table is empty here: forbid the alternatives so the plan shows what is possible
        for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
            await pg.execute(f"SET {setting} = off")
        await pg.execute("SET plan_cache_mode = force_generic_plan")
        await pg.execute(f"PREPARE queue_page AS {sql}")
        args = f"({', '.join(_literal(v) for v in params)})" if params else ""
        rows = await pg.fetch(f"EXPLAIN (COSTS OFF) EXECUTE queue_page{args}")
        await pg.execute("DEALLOCATE queue_page")
    plan = "\n".join(r[0] for r in rows)
    assert f"Index Scan using {index} on tasks" in plan, plan
    assert "Sort" not in plan, plan


def _literal(value: object) -> str:
    """A parameter as an SQL literal of the test's own values (EXECUTE takes no binds)."""
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    if isinstance(value, float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
