"""Working tasks by hand, the pure part: the errors, the views people see, the clock of
human actions and the checks an assignment passes (no I/O; `worktasks` runs them in a
transaction, `store.tasks` holds the SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from churnwatch.alerts import Task, TaskState
from churnwatch.errors import ChurnError

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


def wall_clock(now: datetime | None) -> datetime:
    """``now`` (timezone-aware) or the current time: the clock of human actions."""
    at = now or datetime.now(UTC)
    if at.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return at


def check_agent(view: TaskView, agent_id: str, agent: Any | None, load: int) -> None:
    """Whether ``agent_id`` may take ``view``: it exists (``agent``: its row with ``team``,
    ``active``, ``max_open``; None: not found), is active, is in the task's team and has room
    (``load``: its other assigned or in-progress tasks).

    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> v = TaskView("T-1", "C-1", "pb", 1, "save_call", TaskState.OPEN, 1.0, 1.0, 0.5,
    ...              "gold", "save", None, at, at, None, None, None, [], [])
    >>> check_agent(v, "ann", {"team": "save", "active": True, "max_open": 2}, 2)
    Traceback (most recent call last):
    churnwatch_alerts.taskrules.AgentFull: agent ann has 2 open tasks (max_open 2)
    """
    if agent is None:
        raise AgentNotFound(f"no agent {agent_id!r}")
    if not agent["active"]:
        raise AgentUnavailable(f"agent {agent_id} is inactive")
    if agent["team"] != view.team:
        raise AgentUnavailable(
            f"agent {agent_id} is in team {agent['team']}; task {view.task_id} is {view.team}'s"
        )
    if load >= agent["max_open"]:
        raise AgentFull(f"agent {agent_id} has {load} open tasks (max_open {agent['max_open']})")
