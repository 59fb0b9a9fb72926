"""Incremental aggregates the API reads: daily KPIs and per-source data quality.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# H11-endpoints: the at-risk list's sort columns and their (column, customer_id) indexes
_AT_RISK_SORTS = (
    ("ix_latest_scores_var_id", "value_at_risk"),
    ("ix_latest_scores_p_id", "churn_probability"),
    ("ix_latest_scores_clv_id", "clv"),
    ("ix_latest_scores_time_id", "event_time"),
)


def upgrade() -> None:
    # --- H11-endpoints: indexes of the API's lists (at-risk keyset pages, id search). One
    # (sort column, customer_id) index per at-risk sort, so a page is an index range scan at 1M
    # customers; the old single-column value-at-risk index is superseded by the composite one.
    # text_pattern_ops serves `customer_id LIKE 'C-10%'`.
    for name, column in _AT_RISK_SORTS:
        op.execute(f"CREATE INDEX {name} ON latest_scores ({column} DESC, customer_id DESC)")
    op.execute("DROP INDEX IF EXISTS ix_latest_scores_var")
    op.execute(
        "CREATE INDEX ix_latest_scores_id_prefix ON latest_scores (customer_id text_pattern_ops)"
    )
    # --- end H11-endpoints


def downgrade() -> None:
    # --- H11-endpoints: the API list indexes (see upgrade)
    op.execute("DROP INDEX IF EXISTS ix_latest_scores_id_prefix")
    op.execute("CREATE INDEX ix_latest_scores_var ON latest_scores (value_at_risk DESC)")
    for name, _ in _AT_RISK_SORTS:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    # --- end H11-endpoints
