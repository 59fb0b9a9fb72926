"""The value if retained on every latest score (docs/scoring.md "Value basis").

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-23

Tiers and value at risk rank it by default; the CLV stays next to it. Nullable: rows written
before this revision have none until the customer is scored again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("latest_scores", sa.Column("value_if_retained", sa.Float))


def downgrade() -> None:
    op.drop_column("latest_scores", "value_if_retained")
