"""API keys (hashed, scoped, revocable), dashboard sessions and the API audit log.

Revision ID: 0030
Revises: 0024
Create Date: 2026-12-04

A key is stored as the SHA-256 digest of the whole key (``churnwatch.auth.keys``); its public id
finds the row. A session is stored as the digest of its cookie. The audit log names actors (key
names or agent ids), actions and targets (customer or task ids) — never personal data or keys.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0030"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("digest", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("scopes", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("agent_id", sa.Text, sa.ForeignKey("agents.agent_id", ondelete="SET NULL")),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("cardinality(scopes) > 0", name="api_keys_some_scope"),
    )
    op.create_table(
        "api_sessions",
        sa.Column("id", sa.Text, primary_key=True),  # SHA-256 of the cookie value
        sa.Column(
            "key_id", sa.Text, sa.ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("api_sessions_expires", "api_sessions", ["expires_at"])
    op.create_table(
        "api_audit",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("key_id", sa.Text),  # null: the command line (churnwatch keys …)
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text),
    )
    op.create_index("api_audit_at", "api_audit", ["at"])
    op.create_index("api_audit_target", "api_audit", ["target", "at"])


def downgrade() -> None:
    op.drop_table("api_audit")
    op.drop_table("api_sessions")
    op.drop_table("api_keys")
