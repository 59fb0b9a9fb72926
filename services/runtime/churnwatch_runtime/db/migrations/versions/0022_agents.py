"""Agents: who works the save-team tasks, and each team's round-robin cursor.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-22

Read by the alerts service when it assigns the tasks a batch creates (docs/alerts.md
"Assignment"). ``team_cursors.last_agent`` is the agent the team's round robin gave the last
task to; the service locks the team's row (``FOR UPDATE``) for the rest of the batch
transaction, so two alerts instances never interleave one team's round robin and each sees the
loads the other committed. An agent's load is counted from ``tasks`` (assigned or in progress),
hence the partial index on the assignee.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("agent_id", sa.Text, primary_key=True),
        sa.Column("team", sa.Text, nullable=False),
        sa.Column("seniority", sa.Text, nullable=False, server_default="standard"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("max_open", sa.Integer, nullable=False, server_default="20"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("seniority IN ('senior', 'standard')", name="ck_agents_seniority"),
        sa.CheckConstraint("max_open >= 0", name="ck_agents_max_open"),
    )
    op.create_index("ix_agents_team", "agents", ["team"], postgresql_where=sa.text("active"))
    op.create_table(
        "team_cursors",
        sa.Column("team", sa.Text, primary_key=True),
        sa.Column("last_agent", sa.Text),  # null: nobody assigned yet
    )
    op.create_index(
        "ix_tasks_assignee_open",
        "tasks",
        ["assignee"],
        postgresql_where=sa.text("state IN ('assigned', 'in_progress')"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_assignee_open", table_name="tasks")
    op.drop_table("team_cursors")
    op.drop_index("ix_agents_team", table_name="agents")
    op.drop_table("agents")
