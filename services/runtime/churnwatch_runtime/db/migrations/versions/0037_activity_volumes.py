"""Activity volumes: how often each ``feature_use`` name was used, per event day.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-04

The scoring workers add each batch's uses per activity name in the batch's own transaction (a
replayed batch does not count twice); the learner sums the last 90 days to pick the activity
vocabulary the model reads (`churnwatch.model.VocabularyPolicy`, docs/model.md "Activity
vocabulary") and deletes older days.
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity_volumes",
        sa.Column("day", sa.Date, primary_key=True),  # the events' UTC day (event time)
        sa.Column("name", sa.Text, primary_key=True),  # attributes.feature, as sent
        sa.Column("uses", sa.BigInteger, nullable=False),  # sum of attributes.count
    )


def downgrade() -> None:
    op.drop_table("activity_volumes")
