"""Task work: outcomes on the treatments, a note on audit rows, the expiry sweep's index.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-23

People work the save-team tasks (``churnwatch_alerts.worktasks``, docs/alerts.md "Working
tasks"): assign, start (first contact), close with an outcome; the alerts process expires tasks
nobody finished (``churnwatch_alerts.expiry``). ``tasks`` already has the columns the lifecycle
needs (0020: ``first_contact_at``, ``closed_at``, ``outcome``, ``sla_due_at``), so SLA
attainment is ``first_contact_at <= sla_due_at`` over the tasks due in a period.

The outcome of a human (or expired) task is copied onto its ``treatments`` row (same id as the
task: the action id), where the scoring learner finds treatment markers: ``outcome`` and
``outcome_at`` are new nullable columns, so the learner's reads are unchanged. ``task_audit.note``
keeps what the agent wrote when closing. The partial index serves the expiry sweep (unfinished
tasks by creation time).
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
FINAL = "('won', 'lost', 'no_contact', 'expired', 'recovered', 'churned')"


def upgrade() -> None:
    op.add_column("treatments", sa.Column("outcome", sa.Text))
    op.add_column("treatments", sa.Column("outcome_at", TS))
    op.create_check_constraint(
        "ck_treatments_outcome", "treatments", sa.text(f"outcome IS NULL OR outcome IN {FINAL}")
    )
    op.add_column("task_audit", sa.Column("note", sa.Text))
    op.create_index(
        "ix_tasks_unfinished_created",
        "tasks",
        ["created_at"],
        postgresql_where=sa.text("state IN ('open', 'assigned', 'in_progress')"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_unfinished_created", table_name="tasks")
    op.drop_column("task_audit", "note")
    op.drop_constraint("ck_treatments_outcome", "treatments", type_="check")
    op.drop_column("treatments", "outcome_at")
    op.drop_column("treatments", "outcome")
