"""Foundation: ingest idempotency keys and worker offsets.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Idempotency keys of events ingest has published, kept for a configurable window.
    op.create_table(
        "ingest_event_ids",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ingest_event_ids_received_at", "ingest_event_ids", ["received_at"])
    # Offsets a worker consumed, committed in the same transaction as its state changes.
    op.create_table(
        "consumer_offsets",
        sa.Column("group_id", sa.Text, primary_key=True),
        sa.Column("topic", sa.Text, primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consumer_offsets")
    op.drop_index("ix_ingest_event_ids_received_at", "ingest_event_ids")
    op.drop_table("ingest_event_ids")
