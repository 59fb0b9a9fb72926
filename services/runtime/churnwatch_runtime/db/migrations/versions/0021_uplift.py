"""Uplift: when each exposure was resolved, and the stored per-playbook uplift reports.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-22

Written by the alerts service's uplift job (``churnwatch_alerts.uplift``, docs/alerts.md
"Uplift"). ``exposures.churned`` (0020) is set once the horizon has passed in event time;
``resolved_at`` is the scoring watermark that allowed it. Every job run inserts one
``uplift_reports`` row per playbook and segment (the tier at exposure, and ``all``) under one
``computed_at``; the API reads the newest run.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("exposures", sa.Column("resolved_at", TS))
    op.create_index(
        "ix_exposures_unresolved",
        "exposures",
        ["exposed_at", "action_id"],
        postgresql_where=sa.text("churned IS NULL"),
    )
    op.create_table(
        "uplift_reports",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("computed_at", TS, nullable=False),
        sa.Column("watermark", TS, nullable=False),  # event time the exposures were judged at
        sa.Column("horizon_days", sa.Float, nullable=False),
        sa.Column("playbook_id", sa.Text, nullable=False),
        sa.Column("segment", sa.Text, nullable=False),  # tier at exposure, or 'all'
        sa.Column("treated", sa.Integer, nullable=False),
        sa.Column("control", sa.Integer, nullable=False),
        sa.Column("churned_treated", sa.Integer, nullable=False),
        sa.Column("churned_control", sa.Integer, nullable=False),
        sa.Column("churn_treated", sa.Float),  # null: arm empty
        sa.Column("churn_control", sa.Float),
        # honest save rate = retention treated - retention control, 95% Newcombe interval
        sa.Column("uplift", sa.Float),
        sa.Column("uplift_low", sa.Float),
        sa.Column("uplift_high", sa.Float),
        sa.Column("customers_saved", sa.Float),
        sa.Column("customers_saved_low", sa.Float),
        sa.Column("customers_saved_high", sa.Float),
        sa.Column("value_saved", sa.Float),
        sa.Column("value_saved_low", sa.Float),
        sa.Column("value_saved_high", sa.Float),
        sa.Column("raw_save_rate", sa.Float),  # tasks won / tasks closed (not an effect)
        sa.Column("tasks_won", sa.Integer, nullable=False),
        sa.Column("tasks_closed", sa.Integer, nullable=False),
        sa.Column("sla_attainment", sa.Float),  # first contact by the due time / tasks due
        sa.Column("tasks_in_sla", sa.Integer, nullable=False),
        sa.Column("tasks_due", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_uplift_reports_latest",
        "uplift_reports",
        ["playbook_id", "segment", sa.text("computed_at DESC")],
    )
    op.create_index("ix_uplift_reports_run", "uplift_reports", ["computed_at"])


def downgrade() -> None:
    op.drop_table("uplift_reports")
    op.drop_index("ix_exposures_unresolved", table_name="exposures")
    op.drop_column("exposures", "resolved_at")
