"""Customer directory (personal data in one place), per-customer data keys, erasure log.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04

``customer_directory`` is the only table holding contact details in clear (written by the scoring
worker from ``customer_profile`` events, read by the API with ``pii:read``). ``customer_keys``
holds each customer's data key: personal attributes on ``cw.events`` are sealed under it, and
deleting the row on erasure makes every copy on the topic unreadable. ``erasures`` is the erasure
log: the SHA-256 of the customer id, when, by whom, what was removed (counts) — no personal data.
Search by name or e-mail is a case-insensitive substring match over trigram indexes (pg_trgm, a
trusted extension since PostgreSQL 13, shipped with the official images and the embedded wheel).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "customer_directory",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("updated_at", TS, nullable=False),  # event time of the newest profile applied
        sa.Column("written_at", TS, nullable=False, server_default=sa.func.now()),
    )
    for column in ("name", "email"):
        op.create_index(
            f"ix_customer_directory_{column}_trgm",
            "customer_directory",
            [sa.text(f"lower({column}) gin_trgm_ops")],
            postgresql_using="gin",
        )
    op.create_table(
        "customer_keys",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("dek", sa.LargeBinary, nullable=False),  # AES-256 data key
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("length(dek) = 32", name="ck_customer_keys_aes256"),
    )
    op.create_table(
        "erasures",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("customer_hash", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("actor", sa.Text, nullable=False),  # a key's actor, or the event's source
        sa.Column("via", sa.Text, nullable=False),  # 'api' | 'event'
        sa.Column("removed", JSONB, nullable=False),  # {"directory": 1, "keys": 1, ...}
        sa.CheckConstraint("via IN ('api', 'event')", name="ck_erasures_via"),
    )
    op.create_index("ix_erasures_customer_hash", "erasures", ["customer_hash", "at"])
    # erasure finds a customer's tasks (their audit notes) without scanning every task
    op.create_index("ix_tasks_customer", "tasks", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_customer", table_name="tasks")
    op.drop_table("erasures")
    op.drop_table("customer_keys")
    op.drop_table("customer_directory")
