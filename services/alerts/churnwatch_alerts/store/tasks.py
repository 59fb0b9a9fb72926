"""The SQL of working tasks (tables ``tasks``, ``task_audit``, ``treatments``, ``agents``,
``team_cursors``): shared by `worktasks`, `agents`, `backlog` and the expiry job. Each function
runs on the caller's asyncpg connection, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from churnwatch.alerts import AuditRow, Task, TaskState
from churnwatch_alerts.taskrules import AuditEntry, TaskNotFound, TaskView
from churnwatch_runtime.db import Pg, json_list

TASK_COLUMNS = (
    "task_id, customer_id, playbook_id, playbook_version, action_type, state, priority,"
    " value_at_risk, churn_probability, tier, team, assignee, sla_due_at, created_at,"
    " first_contact_at, closed_at, outcome, reasons, talking_points"
)
"""The select list `task_view` reads."""


def task_view(row: Mapping[str, Any]) -> TaskView:
    """A `TaskView` from a row of ``SELECT TASK_COLUMNS FROM tasks``."""
    values = dict(row)
    values["state"] = TaskState(values["state"])
    values["reasons"] = json_list(values["reasons"])
    values["talking_points"] = json_list(values["talking_points"])
    return TaskView(**values)


async def lock_task(pg: Pg, task_id: str) -> TaskView:
    """The task, locked ``FOR UPDATE`` until the transaction ends (`TaskNotFound`)."""
    row = await pg.fetchrow(
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE task_id = $1 FOR UPDATE", task_id
    )
    if row is None:
        raise TaskNotFound(f"no task {task_id!r}")
    return task_view(row)


async def write_transition(
    pg: Pg, task: Task, row: AuditRow, *, final: bool, note: str | None = None
) -> None:
    """A move `transition` allowed: the task row, its audit row and, for a final state, the
    outcome on the task's treatment."""
    await pg.execute(
        "UPDATE tasks SET state = $2, assignee = $3, first_contact_at = $4, closed_at = $5,"
        " outcome = CASE WHEN $6 THEN $2 ELSE outcome END WHERE task_id = $1",
        task.task_id, task.state.value, task.assignee, task.first_contact_at, task.closed_at,
        final,
    )  # fmt: skip
    await pg.execute(
        "INSERT INTO task_audit (task_id, from_state, to_state, actor, assignee, at, note)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        row.task_id, row.from_state.value, row.to_state.value, row.actor, row.assignee, row.at,
        note,
    )  # fmt: skip
    if final:
        await pg.execute(
            "UPDATE treatments SET outcome = $2, outcome_at = $3 WHERE action_id = $1",
            task.task_id, task.state.value, row.at,
        )  # fmt: skip


async def lock_agent(pg: Pg, team: str, agent_id: str) -> Any | None:
    """Lock ``team``'s cursor (created if missing), then the agent's row, and return the row
    (``team``, ``active``, ``max_open``; None: no such agent): no concurrent assignment can
    take the same slot."""
    await pg.execute("INSERT INTO team_cursors (team) VALUES ($1) ON CONFLICT DO NOTHING", team)
    await pg.execute("SELECT 1 FROM team_cursors WHERE team = $1 FOR UPDATE", team)
    return await pg.fetchrow(
        "SELECT team, active, max_open FROM agents WHERE agent_id = $1 FOR UPDATE", agent_id
    )


async def agent_load(pg: Pg, agent_id: str, *, excluding: str) -> int:
    """The agent's tasks assigned or in progress, other than ``excluding``."""
    load = await pg.fetchval(
        "SELECT count(*) FROM tasks WHERE assignee = $1 AND task_id <> $2"
        " AND state IN ('assigned', 'in_progress')",
        agent_id, excluding,
    )  # fmt: skip
    return int(load)


async def fetch_task(pg: Pg, task_id: str) -> TaskView:
    """The task with its audit trail, oldest first (`TaskNotFound`)."""
    row = await pg.fetchrow(f"SELECT {TASK_COLUMNS} FROM tasks WHERE task_id = $1", task_id)
    if row is None:
        raise TaskNotFound(f"no task {task_id!r}")
    audit = await pg.fetch(
        "SELECT from_state, to_state, actor, assignee, at, note FROM task_audit"
        " WHERE task_id = $1 ORDER BY id",
        task_id,
    )
    return replace(task_view(row), audit=tuple(AuditEntry(*a) for a in audit))


async def assigned_tasks(pg: Pg, agent_id: str) -> list[TaskView]:
    """The agent's ``assigned`` tasks, locked (in id order) until the transaction ends."""
    rows = await pg.fetch(
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE assignee = $1 AND state = 'assigned'"
        " ORDER BY task_id FOR UPDATE",
        agent_id,
    )
    return [task_view(r) for r in rows]


async def unassigned_open(pg: Pg, team: str | None) -> list[TaskView]:
    """Open tasks nobody is assigned to (of ``team``, or every team), locked in id order
    ``FOR UPDATE SKIP LOCKED`` until the transaction ends (backlog assignment)."""
    rows = await pg.fetch(
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE state = 'open' AND assignee IS NULL"
        " AND ($1::text IS NULL OR team = $1)"
        " ORDER BY task_id FOR UPDATE SKIP LOCKED",
        team,
    )
    return [task_view(r) for r in rows]


async def due_for_expiry(
    pg: Pg, rules: Mapping[tuple[str, int], float], default_s: float, clock: datetime,
    limit: int,
) -> list[tuple[TaskView, datetime]]:  # fmt: skip
    """Up to ``limit`` unfinished tasks whose expiry (creation + the playbook version's
    lifetime in ``rules``, else ``default_s``) is at or before ``clock``, oldest first, with
    their expiry; locked ``FOR UPDATE SKIP LOCKED``."""
    rows = await pg.fetch(
        f"SELECT {TASK_COLUMNS},"
        " t.created_at + make_interval(secs => coalesce(r.secs, $4)) AS expires_at"
        " FROM tasks t LEFT JOIN unnest($1::text[], $2::int[], $3::float8[]) AS r(id, v, secs)"
        " ON r.id = t.playbook_id AND r.v = t.playbook_version"
        " WHERE t.state IN ('open', 'assigned', 'in_progress')"
        " AND t.created_at + make_interval(secs => coalesce(r.secs, $4)) <= $5"
        " ORDER BY t.created_at, t.task_id LIMIT $6 FOR UPDATE OF t SKIP LOCKED",
        [k[0] for k in rules], [k[1] for k in rules], list(rules.values()),
        default_s, clock, limit,
    )  # fmt: skip
    out: list[tuple[TaskView, datetime]] = []
    for row in rows:
        values = dict(row)
        expires_at = values.pop("expires_at")
        out.append((task_view(values), expires_at))
    return out
