"""Rows as the services write them, for the endpoint tests: scores, history, tasks, exposures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.profile import CustomerProfile

T0 = datetime(2026, 3, 10, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)

_SCORE = (
    "INSERT INTO latest_scores (customer_id, partition, churn_probability, band, reasons, clv,"
    " clv_low, clv_high, tier, lifecycle_stage, rfm_segment, value_at_risk, business_model,"
    " model_version, event_time, cause, updated_at, value_if_retained)"
    " VALUES (:c, 0, :p, :band, CAST(:reasons AS jsonb), :clv, :clv_low, :clv_high, :tier,"
    " :stage, :segment, :var, 'retail', 'prior-v1', :at, 'event', now(), :kept)"
)
_TASK = (
    "INSERT INTO tasks (task_id, customer_id, playbook_id, playbook_version, action_type, state,"
    " priority, value_at_risk, churn_probability, tier, reasons, talking_points, team, assignee,"
    " sla_due_at, created_at, first_contact_at, recover_band)"
    " VALUES (:id, :customer, :playbook, 1, 'save_call', :state, :priority, 100, 0.6, :tier,"
    ' \'[{"text": "NPS 3"}]\', \'["ask about the outage"]\', :team, :assignee,'
    " :due, :created, :contact, 'high')"
)


def score_row(customer: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "c": customer, "p": 0.6, "band": "high", "clv": 1000.0, "clv_low": 800.0,
        "clv_high": 1300.0, "tier": "gold", "stage": "at_risk", "segment": "at_risk",
        "var": 600.0, "at": T0, "kept": 1500.0,
        "reasons": orjson.dumps([{"feature": "days_since_last_activity",
                                  "text": "no activity for 38 days", "weight": 0.4}]).decode(),
    }  # fmt: skip
    row.update(kw)
    return row


async def add_scores(engine: AsyncEngine, *rows: dict[str, Any]) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(_SCORE), list(rows))


def task_row(task_id: str, customer: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": task_id, "customer": customer, "playbook": "save_call_vip", "state": "open",
        "priority": 1.0, "tier": "gold", "team": "save", "assignee": None, "created": T0,
        "due": T0 + 8 * HOUR, "contact": None,
    }  # fmt: skip
    row.update(kw)
    return row


async def add_tasks(engine: AsyncEngine, *rows: dict[str, Any]) -> None:
    """Tasks with their creation audit row and treatment (as the alerts batch writes them)."""
    async with engine.begin() as conn:
        await conn.execute(text(_TASK), list(rows))
        await conn.execute(
            text("INSERT INTO task_audit (task_id, from_state, to_state, actor, assignee, at)"
                 " VALUES (:id, NULL, 'open', 'alerts', NULL, :created)"),
            list(rows),
        )  # fmt: skip
        await conn.execute(
            text("INSERT INTO treatments (action_id, customer_id, action_type, issued_at)"
                 " VALUES (:id, :customer, 'save_call', :created)"),
            list(rows),
        )  # fmt: skip


async def add_exposure(
    engine: AsyncEngine, action_id: str, customer: str, *, arm: str = "treated",
    playbook: str = "save_call_vip", at: datetime = T0, churned: bool | None = None,
    tier: str = "gold",
) -> None:  # fmt: skip
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO exposures (action_id, customer_id, playbook_id, playbook_version,"
                " arm, trigger_key, exposed_at, segment, churn_probability, clv, value_at_risk,"
                " churned) VALUES (:a, :c, :pb, 1, :arm, 'k', :at, :tier, 0.6, 1000, 600, :ch)"
            ),
            {"a": action_id, "c": customer, "pb": playbook, "arm": arm, "at": at,
             "tier": tier, "ch": churned},
        )  # fmt: skip


async def add_history(engine: AsyncEngine, customer: str) -> None:
    """A first score, a band change and a lifecycle move, as scoring records them."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO score_history (customer_id, event_time, churn_probability, band,"
                " previous_band, clv, value_at_risk, model_version, cause_event_id, why)"
                " VALUES (:c, :t1, 0.2, 'low', NULL, 1000, 200, 'prior-v1', 'e1', 'first'),"
                " (:c, :t2, 0.6, 'high', 'low', 1000, 600, 'prior-v1', 'e2', 'band_change')"
            ),
            {"c": customer, "t1": T0 - 48 * HOUR, "t2": T0 - HOUR},
        )
        await conn.execute(
            text(
                "INSERT INTO lifecycle_transitions (customer_id, stage, previous, event_time)"
                " VALUES (:c, 'at_risk', 'active', :t)"
            ),
            {"c": customer, "t": T0 - HOUR},
        )


async def add_profile(engine: AsyncEngine, customer: str, profile: CustomerProfile) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customer_profiles (customer_id, partition, state, updated_at)"
                " VALUES (:c, 0, :s, now())"
            ),
            {"c": customer, "s": profile.to_bytes()},
        )


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql), params)
