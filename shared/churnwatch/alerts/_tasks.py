"""Save-team tasks: lifecycle, SLA due times and assignment, as pure functions.

States: ``open → assigned → in_progress → won | lost | no_contact``; an unfinished task can
``expire`` and is auto-closed as ``recovered`` (the score stayed below the threshold long
enough) or ``churned``. `transition` returns the new task and its audit row, or raises
`InvalidTransition`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ._errors import InvalidTransition
from ._facts import TIERS

__all__ = [
    "DEFAULT_SLA_HOURS",
    "FINAL_STATES",
    "TRANSITIONS",
    "Agent",
    "AuditRow",
    "Task",
    "TaskState",
    "assign_by_tier",
    "assign_round_robin",
    "due_at",
    "transition",
]


class TaskState(StrEnum):
    """Where a task is in its lifecycle."""

    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WON = "won"
    LOST = "lost"
    NO_CONTACT = "no_contact"
    EXPIRED = "expired"
    RECOVERED = "recovered"
    CHURNED = "churned"


S = TaskState
_AUTO = {S.EXPIRED, S.RECOVERED, S.CHURNED}
TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    S.OPEN: frozenset({S.ASSIGNED, *_AUTO}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.OPEN, S.IN_PROGRESS, S.NO_CONTACT, *_AUTO}),
    S.IN_PROGRESS: frozenset({S.WON, S.LOST, S.NO_CONTACT, *_AUTO}),
}
"""Allowed moves; ``assigned → assigned`` reassigns, ``assigned → open`` releases the task."""
FINAL_STATES = frozenset(set(TaskState) - set(TRANSITIONS))
"""States a task never leaves."""

DEFAULT_SLA_HOURS: dict[str, float] = {"platinum": 4, "gold": 8, "silver": 24, "bronze": 72}
"""Hours from creation to first contact, by tier (platinum callers first)."""


@dataclass(frozen=True, slots=True)
class Task:
    """A save-team task as the domain sees it (the service stores it)."""

    task_id: str
    customer_id: str
    playbook_id: str
    tier: str
    created_at: datetime
    due_at: datetime
    state: TaskState = TaskState.OPEN
    team: str = ""
    assignee: str | None = None
    first_contact_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One transition, for the audit table."""

    task_id: str
    from_state: TaskState
    to_state: TaskState
    at: datetime
    actor: str
    assignee: str | None


def due_at(
    created_at: datetime, tier: str, sla_hours: Mapping[str, float] | None = None
) -> datetime:
    """When the first contact is due: creation + the tier's SLA (`DEFAULT_SLA_HOURS` filled in
    for tiers ``sla_hours`` leaves out).

    >>> from datetime import UTC, datetime
    >>> due_at(datetime(2026, 3, 1, 9, tzinfo=UTC), "platinum").isoformat()
    '2026-03-01T13:00:00+00:00'
    >>> due_at(datetime(2026, 3, 1, 9, tzinfo=UTC), "gold", {"gold": 2}).hour
    11
    """
    hours = {**DEFAULT_SLA_HOURS, **(sla_hours or {})}
    if tier not in hours:
        raise ValueError(f"no SLA for tier {tier!r}")
    return created_at + timedelta(hours=hours[tier])


def transition(
    task: Task, to: TaskState, *, at: datetime, actor: str, assignee: str | None = None
) -> tuple[Task, AuditRow]:
    """The task moved to ``to`` at ``at`` by ``actor``, and the audit row of the move.

    ``assigned`` needs an ``assignee``; ``in_progress`` records the first contact (for SLA
    attainment); a final state sets ``closed_at``.

    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2026, 3, 1, tzinfo=UTC)
    >>> task = Task("T-1", "C-1", "save_call_vip", "gold", t0, due_at(t0, "gold"))
    >>> task, row = transition(task, TaskState.ASSIGNED, at=t0, actor="router", assignee="ann")
    >>> task.state, task.assignee, row.from_state
    (<TaskState.ASSIGNED: 'assigned'>, 'ann', <TaskState.OPEN: 'open'>)
    >>> transition(task, TaskState.WON, at=t0, actor="ann")
    Traceback (most recent call last):
      ...
    churnwatch.alerts._errors.InvalidTransition: task T-1: cannot go from assigned to won (allowed: assigned, churned, expired, in_progress, no_contact, open, recovered)
    """  # noqa: E501
    allowed = TRANSITIONS.get(task.state, frozenset())
    if to not in allowed:
        why = (
            f"{task.state} is final"
            if not allowed
            else "allowed: " + ", ".join(sorted(s.value for s in allowed))
        )
        raise InvalidTransition(f"task {task.task_id}: cannot go from {task.state} to {to} ({why})")
    if to == S.ASSIGNED and not assignee:
        raise InvalidTransition(f"task {task.task_id}: assigning needs an assignee")
    if at < task.created_at:
        raise InvalidTransition(f"task {task.task_id}: {at.isoformat()} is before its creation")
    new = replace(
        task,
        state=to,
        assignee=assignee if to == S.ASSIGNED else (None if to == S.OPEN else task.assignee),
        first_contact_at=task.first_contact_at or (at if to == S.IN_PROGRESS else None),
        closed_at=at if to in FINAL_STATES else None,
    )
    return new, AuditRow(task.task_id, task.state, to, at, actor, new.assignee)


@dataclass(frozen=True, slots=True)
class Agent:
    """A save-team member: ``senior`` agents take the top tiers; ``load`` = open tasks."""

    agent_id: str
    team: str
    senior: bool = False
    load: int = 0
    capacity: int = 20
    available: bool = True


def _eligible(agents: Sequence[Agent], team: str) -> list[Agent]:
    return [a for a in agents if a.team == team and a.available and a.load < a.capacity]


def assign_round_robin(agents: Sequence[Agent], team: str, last: str | None) -> Agent | None:
    """The next available agent of ``team`` after ``last`` (by agent id, wrapping round).

    >>> team = [Agent("ann", "save"), Agent("bob", "save"), Agent("cy", "save", load=20)]
    >>> [assign_round_robin(team, "save", last).agent_id for last in (None, "ann", "bob")]
    ['ann', 'bob', 'ann']
    """
    pool = sorted(_eligible(agents, team), key=lambda a: a.agent_id)
    if not pool:
        return None
    after = [a for a in pool if last is None or a.agent_id > last]
    return after[0] if after else pool[0]


def assign_by_tier(
    agents: Sequence[Agent],
    team: str,
    tier: str,
    senior_tiers: frozenset[str] = frozenset({"platinum", "gold"}),
) -> Agent | None:
    """The least-loaded available agent of ``team``: a senior one for ``senior_tiers`` (any
    agent if no senior is free), a non-senior one for other tiers (seniors if none is free).

    >>> team = [Agent("ann", "save", senior=True, load=3), Agent("bob", "save", load=1)]
    >>> assign_by_tier(team, "save", "platinum").agent_id, assign_by_tier(team, "save", "bronze").agent_id
    ('ann', 'bob')
    """  # noqa: E501
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}")
    pool = _eligible(agents, team)
    wants_senior = tier in senior_tiers
    preferred = [a for a in pool if a.senior == wants_senior] or pool
    return min(preferred, key=lambda a: (a.load / a.capacity, a.load, a.agent_id), default=None)
