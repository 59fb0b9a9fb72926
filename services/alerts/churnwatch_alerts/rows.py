"""What the batch planner produces (`Plan`), with named rows for ``tasks`` and ``exposures``.

Each field is a column of the same name: the store derives its column list and types from the
fields (`churnwatch_runtime.db.BulkInsert.of`), so adding a column is one field here plus the
migration, and no value is ever matched to a column by its position.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from churnwatch_runtime.worker import OutboxMessage


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A new save-team task (table ``tasks``, migration 0020); ``reasons`` and
    ``talking_points`` are JSON text, stored as ``jsonb``."""

    task_id: str
    customer_id: str
    playbook_id: str
    playbook_version: int
    action_type: str
    state: str
    priority: float
    value_at_risk: float
    churn_probability: float
    tier: str
    reasons: str
    talking_points: str
    team: str
    sla_due_at: datetime
    created_at: datetime
    recover_band: str
    assignee: str | None


@dataclass(frozen=True, slots=True)
class ExposureRow:
    """A decided match, treated or control (table ``exposures``): what the uplift job
    resolves; ``segment`` is the customer's tier."""

    action_id: str
    customer_id: str
    playbook_id: str
    playbook_version: int
    arm: str
    trigger_key: str
    exposed_at: datetime
    segment: str
    churn_probability: float
    clv: float
    value_at_risk: float


@dataclass(slots=True)
class Plan:
    """Rows per table (named rows, or tuples in the store's column order) and the outbox
    messages."""

    customers: dict[str, tuple[str, datetime, str]] = field(default_factory=dict)
    tasks: list[TaskRow] = field(default_factory=list)
    task_updates: dict[str, tuple[str, datetime | None, str | None, datetime | None]] = field(
        default_factory=dict
    )
    audits: list[tuple[str, str | None, str, str, str | None, datetime]] = field(
        default_factory=list
    )
    suppressions: list[tuple[str, str, str, int, str, str, datetime]] = field(default_factory=list)
    exposures: list[ExposureRow] = field(default_factory=list)
    contacts: list[tuple[str, str, str, str, str, datetime]] = field(default_factory=list)
    treatments: list[tuple[str, str, str, datetime]] = field(default_factory=list)
    actions: list[OutboxMessage] = field(default_factory=list)
    deliveries: list[tuple[str, bytes]] = field(default_factory=list)
    skipped: int = 0  # re-published or out-of-date scores
    acted: Counter[tuple[str, str]] = field(default_factory=Counter)  # (playbook, type)
    suppressed: Counter[str] = field(default_factory=Counter)  # reason
    controls: Counter[str] = field(default_factory=Counter)  # playbook
    closed: Counter[str] = field(default_factory=Counter)  # outcome
    assigned: Counter[str] = field(default_factory=Counter)  # team
    unassigned: Counter[str] = field(default_factory=Counter)  # team: nobody with room
