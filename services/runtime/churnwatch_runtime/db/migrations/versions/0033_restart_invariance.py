"""Restart-invariant scoring: versioned population cut points, versions recorded on every score.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04

Tier thresholds and RFM quintile cuts used to live in each worker's memory (a sketch of what it
had scored), so a restart changed them. They are now rows of ``population_cuts`` that a job
computes from ``latest_scores`` and the workers hot-load like ``clv_params`` (docs/scoring.md
"Population"). Every latest score records the CLV parameters and the cut points it used (the
model version it already had), and the raw R, F, M values the next cut points are computed from.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "population_cuts",
        sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("as_of", TS),  # the event-time watermark of the scores it was computed from
        sa.Column("basis", sa.Text, nullable=False),  # the value basis the tiers rank
        sa.Column("customers", sa.Integer, nullable=False),
        sa.Column("tiers", JSONB),  # {"silver", "gold", "platinum"} or null (too few values)
        sa.Column("rfm", JSONB),  # {"recency": [4], "frequency": [4], "monetary": [4]} or null
    )
    for name, kind in (
        ("clv_params_id", sa.BigInteger),
        ("cuts_version", sa.BigInteger),
        ("rfm_recency_days", sa.Float),
        ("rfm_frequency", sa.Float),
        ("rfm_monetary", sa.Float),
    ):
        op.add_column("latest_scores", sa.Column(name, kind))


def downgrade() -> None:
    for name in (
        "rfm_monetary",
        "rfm_frequency",
        "rfm_recency_days",
        "cuts_version",
        "clv_params_id",
    ):
        op.drop_column("latest_scores", name)
    op.drop_table("population_cuts")
