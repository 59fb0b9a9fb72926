"""The save team's queue order as indexes: priority, then SLA due, then creation, then id.

Revision ID: 0039
Revises: 0037
Create Date: 2026-12-04

The queue (``churnwatch_alerts.store.queue.QUEUE_ORDER``) is ordered by ``priority DESC,
sla_due_at, created_at, task_id`` over the unfinished tasks, for all teams (a manager, the
default of ``churnwatch tasks``), one team (the dashboard of an agent, ``--team``) or one agent
(``My tasks``, ``--mine``). These three partial indexes hold exactly that order, so a page — the
first or one deep behind a keyset cursor — is an index range scan that stops after ``limit + 1``
rows instead of sorting every unfinished task. The team one replaces ``ix_tasks_queue``
(``team, priority DESC``), its prefix. ``ix_tasks_assignee_open`` stays: its predicate (assigned
or in progress) is what the agents' load count asks, but an unfinished-state queue query cannot
use it. Only unfinished tasks are indexed: closed ones, the bulk of the table over time, add
nothing to them. EXPLAIN figures at 1,000,000 customers: docs/api.md "Queue order".
"""

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0037"
branch_labels = None
depends_on = None

UNFINISHED = "state IN ('open', 'assigned', 'in_progress')"
ORDER = ["priority DESC", "sla_due_at", "created_at", "task_id"]


def upgrade() -> None:
    op.create_index(
        "ix_tasks_queue_order",
        "tasks",
        [sa.text(c) for c in ORDER],
        postgresql_where=sa.text(UNFINISHED),
    )
    for column in ("team", "assignee"):
        op.create_index(
            f"ix_tasks_queue_{column}",
            "tasks",
            [sa.text(c) for c in [column, *ORDER]],
            postgresql_where=sa.text(UNFINISHED),
        )
    op.drop_index("ix_tasks_queue", table_name="tasks")


def downgrade() -> None:
    op.create_index(
        "ix_tasks_queue",
        "tasks",
        ["team", sa.text("priority DESC")],
        postgresql_where=sa.text(UNFINISHED),
    )
    for name in ("ix_tasks_queue_assignee", "ix_tasks_queue_team", "ix_tasks_queue_order"):
        op.drop_index(name, table_name="tasks")
