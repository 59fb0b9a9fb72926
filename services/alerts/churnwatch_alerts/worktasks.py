"""Working save-team tasks by hand: assign, release, start (first contact), close, read.

The service layer under the ``churnwatch task`` commands (and a future HTTP API): no CLI code
here. Every change is one transaction on the engine: the task row is locked (``SELECT … FOR
UPDATE``), the pure `churnwatch.alerts.transition` decides whether the move is allowed, and the
update, its ``task_audit`` row and, for a final state, the outcome on the task's ``treatments``
row (same id: the action id; the learner reads treatments as markers) are written together. Two
people closing one task at once: the second waits for the first's lock, then reads the closed
task and gets `InvalidTransition` naming the current state.

**Clock.** Human actions are stamped with the wall clock (``now``), not event time: event time is
the pipeline's clock, which orders what the *customer* did so a replay decides as the live run
did; people act in real time, and SLA attainment asks when the customer was actually called.
In a live stream the two clocks agree (scores are stamped when the events happen). A stamp is
never earlier than the task's creation: a replayed stream can run ahead of the wall clock.

Lock order, shared with the alerts batch (which locks its customers' open tasks, then its teams'
``team_cursors`` rows): task, then the team's cursor, then the agent. Assigning locks the
task's team cursor, so a concurrent batch and a person never both give an agent its last free
slot (``max_open``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import (
    FINAL_STATES,
    InvalidTransition,
    Task,
    TaskState,
    transition,
)
from churnwatch.errors import ChurnError
from churnwatch_runtime.db import raw_connection

__all__ = [
    "OUTCOMES",
    "TASK_COLUMNS",
    "UNFINISHED",
    "AgentFull",
    "AgentNotFound",
    "AgentUnavailable",
    "AuditEntry",
    "TaskNotFound",
    "TaskView",
    "TaskWorkError",
    "apply_transition",
    "assign",
    "close",
    "get_task",
    "list_tasks",
    "release",
    "start",
    "task_view",
    "wall_clock",
]

Pg = Any  # asyncpg.Connection (asyncpg ships no type hints)
Outcome = Literal["won", "lost", "no_contact"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
"""The outcomes a person closes a task with (expired, recovered, churned are the service's)."""
UNFINISHED = (TaskState.OPEN, TaskState.ASSIGNED, TaskState.IN_PROGRESS)


class TaskWorkError(ChurnError):
    """Root of the errors of working tasks (besides `InvalidTransition`)."""


class TaskNotFound(TaskWorkError):
    """No task has this id."""


class AgentNotFound(TaskWorkError):
    """No agent has this id."""


class AgentUnavailable(TaskWorkError):
    """The agent is inactive or not in the task's team."""


class AgentFull(TaskWorkError):
    """The agent already has ``max_open`` tasks assigned or in progress."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One ``task_audit`` row (``from_state`` None: the task's creation)."""

    from_state: str | None
    to_state: str
    actor: str
    assignee: str | None
    at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as people see it; ``audit`` is filled by `get_task` only."""

    task_id: str
    customer_id: str
    playbook_id: str
    playbook_version: int
    action_type: str
    state: TaskState
    priority: float
    value_at_risk: float
    churn_probability: float
    tier: str
    team: str
    assignee: str | None
    sla_due_at: datetime
    created_at: datetime
    first_contact_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    reasons: list[Any]
    talking_points: list[Any]
    audit: tuple[AuditEntry, ...] = ()

    @property
    def in_sla(self) -> bool | None:
        """First contact by the SLA due time (None: not contacted yet). SLA attainment over a
        period = tasks due in it with ``in_sla`` ÷ tasks due in it (docs/kpis.md)."""
        return None if self.first_contact_at is None else self.first_contact_at <= self.sla_due_at

    def domain(self) -> Task:
        """The pure domain's view, for `transition`."""
        return Task(
            self.task_id, self.customer_id, self.playbook_id, self.tier, self.created_at,
            self.sla_due_at, self.state, self.team, self.assignee, self.first_contact_at,
            self.closed_at,
        )  # fmt: skip


TASK_COLUMNS = (
    "task_id, customer_id, playbook_id, playbook_version, action_type, state, priority,"
    " value_at_risk, churn_probability, tier, team, assignee, sla_due_at, created_at,"
    " first_contact_at, closed_at, outcome, reasons, talking_points"
)


def _json(value: Any) -> list[Any]:
    if isinstance(value, str | bytes):
        value = orjson.loads(value)
    return list(value or [])


def task_view(row: Any) -> TaskView:
    """A `TaskView` from a row of ``SELECT TASK_COLUMNS FROM tasks``."""
    values = dict(row)
    values["state"] = TaskState(values["state"])
    values["reasons"] = _json(values["reasons"])
    values["talking_points"] = _json(values["talking_points"])
    return TaskView(**values)


async def _locked(pg: Pg, task_id: str) -> TaskView:
    row = await pg.fetchrow(
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE task_id = $1 FOR UPDATE", task_id
    )
    if row is None:
        raise TaskNotFound(f"no task {task_id!r}")
    return task_view(row)


async def apply_transition(
    pg: Pg, view: TaskView, to: TaskState, *, at: datetime, actor: str,
    assignee: str | None = None, note: str | None = None,
) -> TaskView:  # fmt: skip
    """Move a task locked by the caller's transaction: `transition` decides (raising
    `InvalidTransition`), then the task row, its audit row and — for a final state — the
    treatment's outcome are written. Shared with the expiry job and agent deactivation."""
    task, row = transition(view.domain(), to, at=at, actor=actor, assignee=assignee)
    final = to in FINAL_STATES
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
            task.task_id, to.value, at,
        )  # fmt: skip
    return replace(
        view, state=task.state, assignee=task.assignee, first_contact_at=task.first_contact_at,
        closed_at=task.closed_at, outcome=to.value if final else view.outcome,
    )  # fmt: skip


def wall_clock(now: datetime | None) -> datetime:
    """``now`` (timezone-aware) or the current time: the clock of human actions."""
    at = now or datetime.now(UTC)
    if at.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return at


async def _move(
    engine: AsyncEngine, task_id: str, to: TaskState, *, actor: str, now: datetime | None,
    note: str | None = None,
) -> TaskView:  # fmt: skip
    at = wall_clock(now)
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        view = await _locked(pg, task_id)
        return await apply_transition(
            pg, view, to, at=max(at, view.created_at), actor=actor, note=note
        )


async def _check_agent(pg: Pg, view: TaskView, agent_id: str) -> None:
    """The agent exists, is active, is in the task's team and has room (its team's cursor and
    its own row locked, so no concurrent assignment takes the same slot)."""
    await pg.execute(
        "INSERT INTO team_cursors (team) VALUES ($1) ON CONFLICT DO NOTHING", view.team
    )
    await pg.execute("SELECT 1 FROM team_cursors WHERE team = $1 FOR UPDATE", view.team)
    agent = await pg.fetchrow(
        "SELECT team, active, max_open FROM agents WHERE agent_id = $1 FOR UPDATE", agent_id
    )
    if agent is None:
        raise AgentNotFound(f"no agent {agent_id!r}")
    if not agent["active"]:
        raise AgentUnavailable(f"agent {agent_id} is inactive")
    if agent["team"] != view.team:
        raise AgentUnavailable(
            f"agent {agent_id} is in team {agent['team']}; task {view.task_id} is {view.team}'s"
        )
    load = await pg.fetchval(
        "SELECT count(*) FROM tasks WHERE assignee = $1 AND task_id <> $2"
        " AND state IN ('assigned', 'in_progress')",
        agent_id, view.task_id,
    )  # fmt: skip
    if load >= agent["max_open"]:
        raise AgentFull(f"agent {agent_id} has {load} open tasks (max_open {agent['max_open']})")


async def assign(
    engine: AsyncEngine, task_id: str, agent_id: str, *, actor: str, now: datetime | None = None
) -> TaskView:
    """Give an open task to an agent, or move an assigned one to another (``assigned →
    assigned``). The agent must be active, in the task's team, and below ``max_open``."""
    at = wall_clock(now)
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        view = await _locked(pg, task_id)
        at = max(at, view.created_at)
        # the lifecycle first: assigning a closed task says so, whatever the agent
        transition(view.domain(), TaskState.ASSIGNED, at=at, actor=actor, assignee=agent_id)
        await _check_agent(pg, view, agent_id)
        return await apply_transition(
            pg, view, TaskState.ASSIGNED, at=at, actor=actor, assignee=agent_id
        )


async def release(
    engine: AsyncEngine, task_id: str, *, actor: str, now: datetime | None = None
) -> TaskView:
    """Give an assigned task back to the queue (``assigned → open``)."""
    return await _move(engine, task_id, TaskState.OPEN, actor=actor, now=now)


async def start(
    engine: AsyncEngine, task_id: str, *, actor: str, now: datetime | None = None
) -> TaskView:
    """The first contact with the customer (``assigned → in_progress``); records
    ``first_contact_at``, which SLA attainment compares with ``sla_due_at``."""
    return await _move(engine, task_id, TaskState.IN_PROGRESS, actor=actor, now=now)


async def close(
    engine: AsyncEngine, task_id: str, outcome: str, *, actor: str, note: str | None = None,
    now: datetime | None = None,
) -> TaskView:  # fmt: skip
    """Close a task with a person's outcome: ``won`` / ``lost`` (from in progress) or
    ``no_contact`` (from assigned or in progress); the note goes on the audit row, the outcome
    on the task and its treatment."""
    if outcome not in OUTCOMES:
        raise InvalidTransition(
            f"task {task_id}: {outcome!r} is not an outcome (one of {', '.join(OUTCOMES)})"
        )
    return await _move(engine, task_id, TaskState(outcome), actor=actor, now=now, note=note)


async def get_task(engine: AsyncEngine, task_id: str) -> TaskView:
    """The task with its audit trail (oldest first)."""
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        row = await pg.fetchrow(f"SELECT {TASK_COLUMNS} FROM tasks WHERE task_id = $1", task_id)
        if row is None:
            raise TaskNotFound(f"no task {task_id!r}")
        audit = await pg.fetch(
            "SELECT from_state, to_state, actor, assignee, at, note FROM task_audit"
            " WHERE task_id = $1 ORDER BY id",
            task_id,
        )
    return replace(task_view(row), audit=tuple(AuditEntry(*a) for a in audit))


async def list_tasks(
    engine: AsyncEngine, *, state: str | None = None, team: str | None = None,
    assignee: str | None = None, limit: int = 50,
) -> list[TaskView]:  # fmt: skip
    """Tasks in queue order (priority descending, then the SLA due time); ``state`` None means
    every unfinished one (open, assigned, in progress)."""
    states = [s.value for s in UNFINISHED] if state is None else [TaskState(state).value]
    if limit < 1:
        raise ValueError("limit must be at least 1")
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await pg.fetch(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE state = ANY($1::text[])"
            " AND ($2::text IS NULL OR team = $2) AND ($3::text IS NULL OR assignee = $3)"
            " ORDER BY priority DESC, sla_due_at, task_id LIMIT $4",
            states, team, assignee, limit,
        )  # fmt: skip
    return [task_view(r) for r in rows]
