"""The task queue as the API pages it: per team, per agent, by state, overdue or not.

Queue order is the alerts service's (``churnwatch_alerts.worktasks.list_tasks``): priority
descending, then the SLA due time, then the id — here keyset-paged so a team's queue of
thousands pages without OFFSET. *Overdue* means waiting for the first contact (open or assigned)
past the SLA due time, by the wall clock (the clock of people's work, as in worktasks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_alerts.worktasks import TASK_COLUMNS, UNFINISHED, TaskView, task_view
from churnwatch_runtime.db import raw_connection

__all__ = ["TaskQuery", "build_query", "fetch_tasks"]


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """Filters of the queue; ``states`` empty: every unfinished state."""

    team: str | None = None
    agent: str | None = None
    states: tuple[str, ...] = ()
    overdue: bool | None = None
    customer: str | None = None


def build_query(
    q: TaskQuery, now: datetime, after: Sequence[Any] | None, limit: int
) -> tuple[str, list[Any]]:
    """SQL and parameters of one page in queue order after ``after`` (priority, due, id).

    >>> from datetime import UTC
    >>> sql, params = build_query(TaskQuery(team="save", overdue=True),
    ...                           datetime(2026, 3, 10, tzinfo=UTC), None, 51)
    >>> print(sql[sql.index("WHERE"):].replace(" AND ", "\\n AND "))
    WHERE state = ANY($1::text[])
     AND team = $2
     AND (state IN ('open', 'assigned')
     AND first_contact_at IS NULL
     AND sla_due_at < $3) ORDER BY priority DESC, sla_due_at, task_id LIMIT 51
    >>> params[0]
    ['open', 'assigned', 'in_progress']
    """
    params: list[Any] = []

    def p(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    states = list(q.states) or [s.value for s in UNFINISHED]
    where = [f"state = ANY({p(states)}::text[])"]
    for column, value in (("team", q.team), ("assignee", q.agent), ("customer_id", q.customer)):
        if value is not None:
            where.append(f"{column} = {p(value)}")
    if q.overdue is not None:
        due = (
            "(state IN ('open', 'assigned') AND first_contact_at IS NULL"
            f" AND sla_due_at < {p(now)})"
        )
        where.append(due if q.overdue else f"NOT {due}")
    if after is not None:
        prio, due_at, task_id = p(after[0]), p(after[1]), p(after[2])
        where.append(
            f"(priority < {prio} OR (priority = {prio} AND (sla_due_at, task_id) > ({due_at},"
            f" {task_id})))"
        )
    sql = (
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE {' AND '.join(where)}"
        f" ORDER BY priority DESC, sla_due_at, task_id LIMIT {int(limit)}"
    )
    return sql, params


async def fetch_tasks(
    engine: AsyncEngine, q: TaskQuery, *, now: datetime, after: Sequence[Any] | None = None,
    limit: int = 50,
) -> tuple[list[TaskView], bool]:  # fmt: skip
    """One page of the queue and whether more follow."""
    sql, params = build_query(q, now, after, limit + 1)
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await pg.fetch(sql, *params)
    views = [task_view(r) for r in rows]
    return views[:limit], len(views) > limit
