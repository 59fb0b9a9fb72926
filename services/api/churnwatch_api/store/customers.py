"""Reads behind the customer endpoints: search by id, the single view, the paged timeline.

Everything comes from what the services store: ``latest_scores`` (scoring's last word),
``customer_profiles`` (the encoded live profile: consent), ``tasks``/``task_audit``,
``exposures``/``treatments`` (actions, holdouts, outcomes), ``score_history`` and
``lifecycle_transitions``. The events themselves live only on Kafka (``cw.events``), so the
timeline shows what they changed, not the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.profile import CustomerProfile, ProfileDecodeError
from churnwatch_alerts.worktasks import TASK_COLUMNS, TaskView, task_view
from churnwatch_runtime.db import raw_connection

__all__ = [
    "ActionRow",
    "CustomerData",
    "TimelineEntry",
    "escape_like",
    "load_customer",
    "search_by_id",
    "summaries",
    "timeline",
]

SUMMARY = (
    "SELECT customer_id, band, churn_probability, tier, lifecycle_stage, value_at_risk"
    " FROM latest_scores"
)
SCORE = (
    "SELECT customer_id, band, churn_probability, reasons, clv, clv_low, clv_high,"
    " value_if_retained, value_at_risk, tier, lifecycle_stage, rfm_segment, business_model,"
    " model_version, event_time, cause, updated_at FROM latest_scores WHERE customer_id = $1"
)
ACTIONS = (
    "SELECT e.action_id, e.playbook_id, e.playbook_version, e.arm, e.exposed_at, e.segment,"
    " e.churn_probability, e.value_at_risk, e.churned, t.action_type, t.outcome, t.outcome_at"
    " FROM exposures e LEFT JOIN treatments t ON t.action_id = e.action_id"
    " WHERE e.customer_id = $1 ORDER BY e.exposed_at DESC, e.action_id DESC LIMIT $2"
)


def escape_like(text: str) -> str:
    r"""``text`` as a literal LIKE prefix.

    >>> escape_like("C_10%")
    'C\\_10\\%'
    """
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_by_id(engine: AsyncEngine, prefix: str, limit: int) -> list[dict[str, Any]]:
    """Customers whose id starts with ``prefix``, by id (index ``ix_latest_scores_id_prefix``)."""
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await pg.fetch(
            SUMMARY + " WHERE customer_id LIKE $1 ORDER BY customer_id LIMIT $2",
            escape_like(prefix) + "%", limit,
        )  # fmt: skip
    return [dict(r) for r in rows]


async def summaries(engine: AsyncEngine, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The list columns of the given customers (those with a score), by id."""
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await pg.fetch(
            SUMMARY + " WHERE customer_id = ANY($1::text[]) ORDER BY customer_id", list(ids)
        )
    return [dict(r) for r in rows]


@dataclass(frozen=True, slots=True)
class ActionRow:
    """One action a playbook took (treated) or withheld (control: the customer is in the
    holdout), with its outcome when known."""

    action_id: str
    playbook_id: str
    playbook_version: int
    arm: str
    exposed_at: datetime
    segment: str
    churn_probability: float
    value_at_risk: float
    churned: bool | None
    action_type: str | None
    outcome: str | None
    outcome_at: datetime | None


@dataclass(slots=True)
class CustomerData:
    """Everything stored about one customer that the single view shows."""

    customer_id: str
    score: dict[str, Any] | None
    profile: CustomerProfile | None
    tasks: list[TaskView] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.score is not None or self.profile is not None or bool(self.tasks)


async def load_customer(
    engine: AsyncEngine, customer_id: str, *, actions: int = 50
) -> CustomerData:
    """The customer's score, decoded profile, tasks (newest first) and last ``actions``."""
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        score = await pg.fetchrow(SCORE, customer_id)
        state = await pg.fetchval(
            "SELECT state FROM customer_profiles WHERE customer_id = $1", customer_id
        )
        tasks = await pg.fetch(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE customer_id = $1"
            " ORDER BY created_at DESC, task_id LIMIT 100",
            customer_id,
        )
        acted = await pg.fetch(ACTIONS, customer_id, actions)
    profile = None
    if state is not None:
        try:
            profile = CustomerProfile.from_bytes(bytes(state))
        except ProfileDecodeError:
            profile = None  # an unreadable profile shows as unknown consent, not a 500
    data = dict(score) if score is not None else None
    if data is not None and isinstance(data["reasons"], str | bytes):
        data["reasons"] = orjson.loads(data["reasons"])
    return CustomerData(
        customer_id, data, profile, [task_view(t) for t in tasks],
        [ActionRow(**dict(a)) for a in acted],
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One stored change: ``kind`` score | band_change | stage | action | task;
    ``key`` (the kind's row id) breaks ties at one time."""

    at: datetime
    kind: str
    key: str
    detail: dict[str, Any]


# Every source yields (at, kind, key, detail); keys are zero-padded so text order = id order.
_TIMELINE = """
SELECT * FROM (
  SELECT h.event_time AS at,
         CASE WHEN h.why = 'band_change' THEN 'band_change' ELSE 'score' END AS kind,
         lpad(h.id::text, 20, '0') AS key,
         jsonb_build_object('band', h.band, 'previous_band', h.previous_band,
           'churn_probability', h.churn_probability, 'clv', h.clv,
           'value_at_risk', h.value_at_risk, 'why', h.why, 'model_version', h.model_version,
           'cause_event_id', h.cause_event_id) AS detail
  FROM score_history h WHERE h.customer_id = $1
  UNION ALL
  SELECT l.event_time, 'stage', lpad(l.id::text, 20, '0'),
         jsonb_build_object('stage', l.stage, 'previous', l.previous)
  FROM lifecycle_transitions l WHERE l.customer_id = $1
  UNION ALL
  SELECT e.exposed_at, 'action', e.action_id,
         jsonb_build_object('action_id', e.action_id, 'playbook_id', e.playbook_id,
           'playbook_version', e.playbook_version, 'arm', e.arm, 'action_type', t.action_type,
           'outcome', t.outcome, 'churned', e.churned)
  FROM exposures e LEFT JOIN treatments t ON t.action_id = e.action_id
  WHERE e.customer_id = $1
  UNION ALL
  SELECT a.at, 'task', lpad(a.id::text, 20, '0'),
         jsonb_build_object('task_id', a.task_id, 'from_state', a.from_state,
           'to_state', a.to_state, 'actor', a.actor, 'assignee', a.assignee, 'note', a.note)
  FROM task_audit a JOIN tasks k ON k.task_id = a.task_id WHERE k.customer_id = $1
) x
WHERE $2::timestamptz IS NULL
   OR (x.at, x.kind COLLATE "C", x.key COLLATE "C") < ($2, $3 COLLATE "C", $4 COLLATE "C")
ORDER BY x.at DESC, x.kind COLLATE "C" DESC, x.key COLLATE "C" DESC
LIMIT $5
"""


async def timeline(
    engine: AsyncEngine, customer_id: str, *, after: tuple[datetime, str, str] | None,
    limit: int,
) -> tuple[list[TimelineEntry], bool]:  # fmt: skip
    """Up to ``limit`` entries, newest first, strictly after the cursor ``after``."""
    at, kind, key = after if after is not None else (None, None, None)
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await pg.fetch(_TIMELINE, customer_id, at, kind, key, limit + 1)
    out = []
    for r in rows[:limit]:
        detail = r["detail"]
        if isinstance(detail, str | bytes):
            detail = orjson.loads(detail)
        out.append(TimelineEntry(r["at"], r["kind"], r["key"], dict(detail)))
    return out, len(rows) > limit
