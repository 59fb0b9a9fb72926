"""Incremental aggregates the API reads: daily KPIs and per-source data quality.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04
"""

import sqlalchemy as sa
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
    _kpi_tables()  # H11-kpi (below)
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
    _drop_kpi_tables()  # H11-kpi (below)


# -- H11-kpi: KPI and data-quality aggregates (docs/kpis-as-built.md) -------------------------


def _kpi_tables() -> None:
    """Daily deltas keyed by event day and cut, running totals, the per-customer state the deltas
    are taken against, and data-quality counts. ``partition`` (the cw.events partition) keeps
    two scoring workers off each other's rows; ``shard`` does the same for ingest requests."""
    op.create_table(
        "kpi_daily",
        sa.Column("cut", sa.Text, nullable=False),  # all | tier | segment | source
        sa.Column("day", sa.Date, nullable=False),  # event time (UTC day)
        sa.Column("cut_value", sa.Text, nullable=False),
        sa.Column("metric", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint(
            "cut", "day", "cut_value", "metric", "partition", name="pk_kpi_daily"
        ),
    )
    op.create_table(
        "kpi_totals",
        sa.Column("cut", sa.Text, nullable=False),
        sa.Column("cut_value", sa.Text, nullable=False),
        sa.Column("metric", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("cut", "cut_value", "metric", "partition", name="pk_kpi_totals"),
    )
    op.create_table(
        "kpi_customer_state",
        sa.Column("customer_id", sa.Text, primary_key=True),
        sa.Column("state", sa.Text, nullable=False),  # churnwatch.kpis.CustomerState, packed
    )
    op.create_table(
        "quality_daily",
        sa.Column("day", sa.Date, nullable=False),  # day received (UTC wall clock)
        sa.Column("source", sa.Text, nullable=False),  # the event's source field
        sa.Column("outcome", sa.Text, nullable=False),  # accepted|duplicate|rejected|dlq|late
        sa.Column("reason", sa.Text, nullable=False),  # error code, or ''
        sa.Column("path", sa.Text, nullable=False),  # http | raw | scoring
        sa.Column("shard", sa.SmallInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "source", "outcome", "reason", "path", "shard", name="pk_quality_daily"
        ),
    )
    # the task KPIs of a window read only these (index-only scans: 2-3x faster at 1M customers)
    op.execute(
        "CREATE INDEX ix_tasks_closed_at ON tasks (closed_at) INCLUDE (state, tier, playbook_id)"
    )
    op.execute(
        "CREATE INDEX ix_tasks_sla_due_at ON tasks (sla_due_at)"
        " INCLUDE (first_contact_at, tier, playbook_id)"
    )
    # the at-risk list filtered by tier, by value at risk: one range per (band, tier) pair
    # (churnwatch_api.store.at_risk.BY_BAND_AND_TIER); it serves band lookups too, so it
    # replaces the band index (same number of indexes for scoring to keep up to date)
    op.execute(
        "CREATE INDEX ix_latest_scores_band_tier_var"
        " ON latest_scores (band, tier, value_at_risk DESC, customer_id DESC)"
    )
    op.drop_index("ix_latest_scores_band", "latest_scores")


def _drop_kpi_tables() -> None:
    op.create_index("ix_latest_scores_band", "latest_scores", ["band"])
    op.drop_index("ix_latest_scores_band_tier_var", "latest_scores")
    op.drop_index("ix_tasks_sla_due_at", "tasks")
    op.drop_index("ix_tasks_closed_at", "tasks")
    for table in ("quality_daily", "kpi_customer_state", "kpi_totals", "kpi_daily"):
        op.drop_table(table)
