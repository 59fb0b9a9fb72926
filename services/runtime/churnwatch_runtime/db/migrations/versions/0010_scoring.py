"""Scoring: profiles, latest scores, history, silence index, label snapshots, model checkpoints.

Revision ID: 0010
Revises: 0002
Create Date: 2026-11-22

The shared contract between the scoring workers (write profiles, scores, snapshots, due times)
and the learner (resolves snapshots into labels, writes checkpoints and CLV parameters that the
workers hot-load). See docs/scoring.md.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),  # CustomerProfile.to_bytes()
        sa.Column("retail_stats", sa.LargeBinary),  # churnwatch.value.RetailStats, pickled
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_customer_profiles_partition", "customer_profiles", ["partition"])
    op.create_table(
        "latest_scores",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("churn_probability", sa.Float, nullable=False),
        sa.Column("band", sa.Text, nullable=False),
        sa.Column("reasons", JSONB, nullable=False),
        sa.Column("clv", sa.Float, nullable=False),
        sa.Column("clv_low", sa.Float),
        sa.Column("clv_high", sa.Float),
        sa.Column("tier", sa.Text, nullable=False),
        sa.Column("lifecycle_stage", sa.Text, nullable=False),
        sa.Column("rfm_segment", sa.Text),
        sa.Column("value_at_risk", sa.Float, nullable=False),
        sa.Column("business_model", sa.Text, nullable=False),
        sa.Column("model_version", sa.Text, nullable=False),
        sa.Column("event_time", TS, nullable=False),
        sa.Column("cause", sa.Text, nullable=False),  # 'event' | 'silence'
        sa.Column("cause_event_id", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_latest_scores_band", "latest_scores", ["band"])
    op.create_index("ix_latest_scores_var", "latest_scores", [sa.text("value_at_risk DESC")])
    op.create_table(
        "score_history",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("event_time", TS, nullable=False),
        sa.Column("churn_probability", sa.Float, nullable=False),
        sa.Column("band", sa.Text, nullable=False),
        sa.Column("previous_band", sa.Text),
        sa.Column("clv", sa.Float, nullable=False),
        sa.Column("value_at_risk", sa.Float, nullable=False),
        sa.Column("model_version", sa.Text, nullable=False),
        sa.Column("cause_event_id", sa.Text),
        sa.Column("why", sa.Text, nullable=False),  # 'first' | 'band_change' | 'large_move'
    )
    op.create_index("ix_score_history_customer", "score_history", ["customer_id", "event_time"])
    op.create_table(
        "lifecycle_transitions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("previous", sa.Text),
        sa.Column("event_time", TS, nullable=False),
    )
    op.create_index(
        "ix_lifecycle_transitions_customer", "lifecycle_transitions", ["customer_id", "event_time"]
    )
    op.create_index("ix_lifecycle_transitions_time", "lifecycle_transitions", ["event_time"])
    # Due-time index for the silence sweep: one row per customer, the next event time at which
    # their recency-based features change (churnwatch.profile.next_due).
    op.create_table(
        "silence_due",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("due_at", TS, nullable=False),
    )
    op.create_index("ix_silence_due_partition_due", "silence_due", ["partition", "due_at"])
    # Event-time watermark per consumed partition (max event time less the allowed lateness).
    op.create_table(
        "partition_watermarks",
        sa.Column("group_id", sa.Text, primary_key=True),
        sa.Column("topic", sa.Text, primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("watermark", TS, nullable=False),
    )
    # Feature snapshots awaiting their delayed label (at most one per customer per day).
    op.create_table(
        "label_snapshots",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("features", JSONB, nullable=False),  # {feature name: value}
        sa.Column("business_model", sa.Text, nullable=False),
        sa.Column("label_due_at", TS, nullable=False),
        sa.Column("label", sa.SmallInteger),  # null until resolved; 1 churned, 0 stayed
        sa.Column("treated", sa.Boolean),
        sa.Column("resolved_at", TS),
    )
    op.create_index(
        "ix_label_snapshots_open",
        "label_snapshots",
        ["label_due_at"],
        postgresql_where=sa.text("label IS NULL"),
    )
    # Retention actions a customer received (written by alerts), so labels can be marked treated.
    op.create_table(
        "treatments",
        sa.Column("action_id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("action_type", sa.Text, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
    )
    op.create_index("ix_treatments_customer", "treatments", ["customer_id", "issued_at"])
    op.create_table(
        "model_checkpoints",
        sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("model_version", sa.Text, nullable=False),  # ModelState's own version label
        sa.Column("created_at", TS, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),  # ModelState.to_bytes()
        sa.Column("serving", sa.LargeBinary, nullable=False),  # ServingModel.to_bytes()
        sa.Column("labels_seen", sa.BigInteger, nullable=False),
        sa.Column("quality", JSONB, nullable=False),  # QualityReport as JSON
    )
    op.create_table(
        "model_records",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.Text, nullable=False),  # switched_to_learned | promoted | drift
        sa.Column("at", TS, nullable=False),
        sa.Column("detail", JSONB, nullable=False),
    )
    op.create_table(
        "clv_params",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("fitted_at", TS, nullable=False),
        sa.Column("customers", sa.Integer, nullable=False),
        sa.Column("bgnbd", JSONB, nullable=False),  # params + log covariance
        sa.Column("gamma_gamma", JSONB, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "clv_params",
        "model_records",
        "model_checkpoints",
        "treatments",
        "label_snapshots",
        "partition_watermarks",
        "silence_due",
        "lifecycle_transitions",
        "score_history",
        "latest_scores",
        "customer_profiles",
    ):
        op.drop_table(table)
