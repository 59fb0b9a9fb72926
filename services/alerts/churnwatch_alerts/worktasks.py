"""Working save-team tasks by hand: assign, release, start (first contact), close, read.

The service layer under the ``churnwatch task`` commands (and the HTTP API): no CLI code here;
the rules are in `taskrules`, the SQL in `store.tasks`. Every change is one transaction on the
engine: the task row is locked (``SELECT … FOR UPDATE``), the pure
`churnwatch.alerts.transition` decides whether the move is allowed, and the update, its
``task_audit`` row and, for a final state, the outcome on the task's ``treatments``
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
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import FINAL_STATES, InvalidTransition, TaskState, transition
from churnwatch_alerts.store.queue import (
    QUEUE_ORDER,
    Contact,
    ContactReader,
    QueueFilter,
    cursor_of,
    fetch_queue,
    queue_contacts,
    queue_key,
)
from churnwatch_alerts.store.tasks import (
    TASK_COLUMNS,
    agent_load,
    fetch_task,
    lock_agent,
    lock_task,
    task_view,
    write_transition,
)
from churnwatch_alerts.taskrules import (
    OUTCOMES,
    UNFINISHED,
    AgentFull,
    AgentNotFound,
    AgentUnavailable,
    AuditEntry,
    Outcome,
    TaskNotFound,
    TaskView,
    TaskWorkError,
    check_agent,
    wall_clock,
)
from churnwatch_runtime.db import Pg, raw_connection

__all__ = [
    "OUTCOMES",
    "QUEUE_ORDER",
    "TASK_COLUMNS",
    "UNFINISHED",
    "AgentFull",
    "AgentNotFound",
    "AgentUnavailable",
    "AuditEntry",
    "Contact",
    "ContactReader",
    "Outcome",
    "QueueFilter",
    "QueuePage",
    "TaskNotFound",
    "TaskView",
    "TaskWorkError",
    "apply_transition",
    "assign",
    "close",
    "cursor_of",
    "get_task",
    "list_tasks",
    "queue",
    "queue_key",
    "release",
    "start",
    "task_view",
    "wall_clock",
]


async def apply_transition(
    pg: Pg, view: TaskView, to: TaskState, *, at: datetime, actor: str,
    assignee: str | None = None, note: str | None = None,
) -> TaskView:  # fmt: skip
    """Move a task locked by the caller's transaction: `transition` decides (raising
    `InvalidTransition`), then the task row, its audit row and — for a final state — the
    treatment's outcome are written. Shared with the expiry job and agent deactivation."""
    task, row = transition(view.domain(), to, at=at, actor=actor, assignee=assignee)
    final = to in FINAL_STATES
    await write_transition(pg, task, row, final=final, note=note)
    return replace(
        view, state=task.state, assignee=task.assignee, first_contact_at=task.first_contact_at,
        closed_at=task.closed_at, outcome=to.value if final else view.outcome,
    )  # fmt: skip


async def _move(
    engine: AsyncEngine, task_id: str, to: TaskState, *, actor: str, now: datetime | None,
    note: str | None = None,
) -> TaskView:  # fmt: skip
    at = wall_clock(now)
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        view = await lock_task(pg, task_id)
        return await apply_transition(
            pg, view, to, at=max(at, view.created_at), actor=actor, note=note
        )


async def assign(
    engine: AsyncEngine, task_id: str, agent_id: str, *, actor: str, now: datetime | None = None
) -> TaskView:
    """Give an open task to an agent, or move an assigned one to another (``assigned →
    assigned``). The agent must be active, in the task's team, and below ``max_open``."""
    at = wall_clock(now)
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        view = await lock_task(pg, task_id)
        at = max(at, view.created_at)
        # the lifecycle first: assigning a closed task says so, whatever the agent
        transition(view.domain(), TaskState.ASSIGNED, at=at, actor=actor, assignee=agent_id)
        agent = await lock_agent(pg, view.team, agent_id)
        load = 0 if agent is None else await agent_load(pg, agent_id, excluding=view.task_id)
        check_agent(view, agent_id, agent, load)
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
        return await fetch_task(await raw_connection(conn), task_id)


async def list_tasks(
    engine: AsyncEngine, *, state: str | None = None, team: str | None = None,
    assignee: str | None = None, limit: int = 50,
) -> list[TaskView]:  # fmt: skip
    """Tasks in queue order (`QUEUE_ORDER`: priority descending, then the SLA due time, the
    creation time, the id); ``state`` None means every unfinished one (open, assigned, in
    progress)."""
    f = QueueFilter(team=team, assignee=assignee, states=() if state is None else (state,))
    return (await queue(engine, f, limit=limit)).tasks


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A page of the queue: its tasks, whether more follow, and — read for a `ContactReader`
    only, else None — contact details by customer id (a customer the directory holds nothing
    for, never given or erased, is missing)."""

    tasks: list[TaskView]
    more: bool
    contacts: dict[str, Contact] | None = None


async def queue(
    engine: AsyncEngine, f: QueueFilter, *, now: datetime | None = None,
    after: tuple[float, datetime, datetime, str] | None = None, limit: int = 50,
    contacts_for: ContactReader | None = None,
) -> QueuePage:  # fmt: skip
    """Up to ``limit`` tasks of the queue after ``after`` (`cursor_of` a task) and, for
    ``contacts_for`` only, the contact details of those tasks' customers, audited in the same
    transaction (without a reader the directory is not touched). ``now`` decides *overdue*."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    at = wall_clock(now)
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        tasks = await fetch_queue(pg, f, now=at, after=after, limit=limit + 1)
        page = tasks[:limit]
        contacts = None
        if contacts_for is not None:
            ids = [t.customer_id for t in page]
            contacts = await queue_contacts(pg, ids, reader=contacts_for)
        return QueuePage(page, len(tasks) > limit, contacts)
