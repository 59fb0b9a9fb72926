"""Alerts: playbooks, save-team tasks and their audit, exposures, suppressions, contacts, webhooks.

Revision ID: 0020
Revises: 0010
Create Date: 2026-11-22

Written by the alerts service (docs/alerts.md). Every row an action produces is keyed by the
deterministic action id, so a re-processed score or a restart inserts nothing twice
(``ON CONFLICT DO NOTHING``). The ``treatments`` table (0010) gets a row per treated action.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0020"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
OPEN_STATES = "state IN ('open', 'assigned', 'in_progress')"


def upgrade() -> None:
    op.create_table(
        "playbooks",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("yaml", sa.Text, nullable=False),  # one playbook, as parse_playbooks reads it
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("loaded_at", TS, nullable=False),
    )
    # The alerts service's memory of each customer: the last score's band (the playbooks'
    # previous_band) and which score that was (a re-published score is skipped).
    op.create_table(
        "alert_customers",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("band", sa.Text, nullable=False),
        sa.Column("event_time", TS, nullable=False),
        sa.Column("score_id", sa.Text, nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.Text, primary_key=True),  # = the action id
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("playbook_id", sa.Text, nullable=False),
        sa.Column("playbook_version", sa.Integer, nullable=False),
        sa.Column("action_type", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("priority", sa.Float, nullable=False),
        sa.Column("value_at_risk", sa.Float, nullable=False),
        sa.Column("churn_probability", sa.Float, nullable=False),
        sa.Column("tier", sa.Text, nullable=False),
        sa.Column("reasons", JSONB, nullable=False),
        sa.Column("talking_points", JSONB, nullable=False),
        sa.Column("team", sa.Text, nullable=False),
        sa.Column("assignee", sa.Text),
        sa.Column("sla_due_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("first_contact_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("outcome", sa.Text),
        sa.Column("recover_band", sa.Text, nullable=False),  # auto-close: below this band …
        sa.Column("below_since", TS),  # … since then (event time)
    )
    # At most one open task per customer and playbook, enforced by the database too.
    op.create_index(
        "ux_tasks_open",
        "tasks",
        ["customer_id", "playbook_id"],
        unique=True,
        postgresql_where=sa.text(OPEN_STATES),
    )
    op.create_index(
        "ix_tasks_queue",
        "tasks",
        ["team", sa.text("priority DESC")],
        postgresql_where=sa.text(OPEN_STATES),
    )
    op.create_table(
        "task_audit",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.Text, nullable=False),
        sa.Column("from_state", sa.Text),  # null: created
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("assignee", sa.Text),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_task_audit_task", "task_audit", ["task_id", "id"])
    op.create_table(
        "suppressions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.Text, nullable=False),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("playbook_id", sa.Text, nullable=False),
        sa.Column("playbook_version", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.UniqueConstraint("action_id", "reason", name="ux_suppressions_action_reason"),
    )
    op.create_index("ix_suppressions_customer", "suppressions", ["customer_id", "at"])
    # The experiment log: one row per exposed (treated or control) customer and episode.
    op.create_table(
        "exposures",
        sa.Column("action_id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("playbook_id", sa.Text, nullable=False),
        sa.Column("playbook_version", sa.Integer, nullable=False),
        sa.Column("arm", sa.Text, nullable=False),  # 'treated' | 'control'
        sa.Column("trigger_key", sa.Text, nullable=False),
        sa.Column("exposed_at", TS, nullable=False),
        sa.Column("segment", sa.Text, nullable=False),  # the tier at exposure
        sa.Column("churn_probability", sa.Float, nullable=False),
        sa.Column("clv", sa.Float, nullable=False),
        sa.Column("value_at_risk", sa.Float, nullable=False),
        sa.Column("churned", sa.Boolean),  # resolved over the horizon (later)
    )
    op.create_index("ix_exposures_playbook", "exposures", ["playbook_id", "exposed_at"])
    op.create_index("ix_exposures_customer", "exposures", ["customer_id", "exposed_at"])
    # The guardrails' index: contacts per customer (control exposures count, see docs).
    op.create_table(
        "contact_log",
        sa.Column("action_id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("playbook_id", sa.Text, nullable=False),
        sa.Column("arm", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_contact_log_customer", "contact_log", ["customer_id", "at"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.Text, nullable=False),
        sa.Column(
            "endpoint_id",
            sa.Text,
            sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("body", sa.LargeBinary, nullable=False),  # the action JSON, as signed
        sa.Column("status", sa.Text, nullable=False),  # 'pending' | 'delivered' | 'dead'
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
        sa.UniqueConstraint("action_id", "endpoint_id", name="ux_webhook_deliveries_action"),
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    for table in (
        "webhook_deliveries",
        "webhook_endpoints",
        "contact_log",
        "exposures",
        "suppressions",
        "task_audit",
        "tasks",
        "alert_customers",
        "playbooks",
    ):
        op.drop_table(table)
