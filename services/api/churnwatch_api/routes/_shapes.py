"""Response shapes several routers share: reasons, tasks with their audit steps, paging errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

from pydantic import BaseModel, Field

from churnwatch_alerts.worktasks import AuditEntry, TaskView
from churnwatch_api.paging import BadCursor
from churnwatch_api.problems import Problem

__all__ = ["AuditStep", "Reason", "TaskOut", "bad_cursor", "is_overdue", "reasons_of"]


class Reason(BaseModel):
    """Why the score is what it is, in words (the strongest contributions first)."""

    feature: str = Field(examples=["days_since_last_activity"])
    text: str = Field(examples=["no activity for 38 days"])
    weight: float = Field(examples=[0.41])


def reasons_of(raw: list[Any]) -> list[Reason]:
    """Score reasons (objects) or task reasons (plain texts) as `Reason`s."""
    out = []
    for r in raw or []:
        if isinstance(r, str):
            out.append(Reason(feature="", text=r, weight=0.0))
        else:
            out.append(Reason(feature=str(r.get("feature", "")), text=str(r.get("text", "")),
                              weight=float(r.get("weight") or 0.0)))  # fmt: skip
    return out


class AuditStep(BaseModel):
    """One step of a task (``from_state`` null: its creation); ``actor`` is who did it."""

    from_state: str | None = Field(examples=["assigned"])
    to_state: str = Field(examples=["in_progress"])
    actor: str = Field(examples=["A-1"])
    assignee: str | None = Field(examples=["A-1"])
    at: datetime
    note: str | None = None

    @classmethod
    def of(cls, a: AuditEntry) -> AuditStep:
        return cls(from_state=a.from_state, to_state=a.to_state, actor=a.actor,
                   assignee=a.assignee, at=a.at, note=a.note)  # fmt: skip


def is_overdue(state: str, first_contact_at: datetime | None, sla_due_at: datetime,
               now: datetime) -> bool:  # fmt: skip
    """The SLA asks for a first contact by ``sla_due_at``: a task still waiting for it
    (open or assigned) past that time is overdue; one in progress already had its contact.

    >>> due = datetime(2026, 3, 10, 17, tzinfo=UTC)
    >>> is_overdue("assigned", None, due, due.replace(hour=18))
    True
    >>> is_overdue("in_progress", due, due, due.replace(hour=18))
    False
    >>> is_overdue("open", None, due, due.replace(hour=9))
    False
    """
    return state in ("open", "assigned") and first_contact_at is None and now > sla_due_at


class TaskOut(BaseModel):
    """A save-team task as people work it."""

    task_id: str = Field(examples=["a3f9c2e41b7d"])
    customer_id: str = Field(examples=["C-1042"])
    playbook_id: str = Field(examples=["save_call_vip"])
    playbook_version: int = Field(examples=[1])
    action_type: str = Field(examples=["save_call"])
    state: str = Field(examples=["assigned"])
    priority: float
    value_at_risk: float = Field(examples=[812.5])
    churn_probability: float = Field(examples=[0.74])
    tier: str = Field(examples=["platinum"])
    team: str = Field(examples=["save"])
    assignee: str | None = Field(examples=["A-1"])
    sla_due_at: datetime
    overdue: bool = Field(description="waiting for first contact past the SLA due time")
    in_sla: bool | None = Field(description="first contact by the due time (null: none yet)")
    created_at: datetime
    first_contact_at: datetime | None
    closed_at: datetime | None
    outcome: str | None = Field(examples=["won"])
    reasons: list[Reason]
    talking_points: list[str]
    audit: list[AuditStep] = Field(default_factory=list, description="GET /v1/tasks/{id} only")

    @classmethod
    def of(cls, t: TaskView, now: datetime | None = None) -> Self:
        at = now or datetime.now(UTC)
        return cls(
            task_id=t.task_id, customer_id=t.customer_id, playbook_id=t.playbook_id,
            playbook_version=t.playbook_version, action_type=t.action_type, state=t.state.value,
            priority=t.priority, value_at_risk=t.value_at_risk,
            churn_probability=t.churn_probability, tier=t.tier, team=t.team,
            assignee=t.assignee, sla_due_at=t.sla_due_at,
            overdue=is_overdue(t.state.value, t.first_contact_at, t.sla_due_at, at),
            in_sla=t.in_sla, created_at=t.created_at, first_contact_at=t.first_contact_at,
            closed_at=t.closed_at, outcome=t.outcome, reasons=reasons_of(t.reasons),
            talking_points=[str(p) for p in t.talking_points],
            audit=[AuditStep.of(a) for a in t.audit],
        )  # fmt: skip


def bad_cursor(exc: BadCursor) -> Problem:
    """A 422 naming the cursor parameter."""
    return Problem(422, "Invalid request", f"query.cursor: {exc}",
                   errors=[{"field": "query.cursor", "message": str(exc)}])  # fmt: skip
