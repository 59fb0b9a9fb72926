"""Bounded storage: compact label snapshots, retention indexes, table storage settings.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04

Everything here is safe on a populated database: new nullable columns, a new table, partial
indexes on small row sets, and storage parameters (``fillfactor`` applies to pages written from
now on; autovacuum settings take effect at the next autovacuum check). No table is rewritten and
no row is touched: old snapshots keep their JSONB ``features`` and age out through the learner
and the retention job (docs/scaling.md).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

# (table, storage parameters): update-heavy tables get an autovacuum that reacts to a small share
# of dead rows (the default 20 % is millions of dead rows at 1M customers); those whose updates
# can be HOT (no indexed column changes: customer_profiles' state, the watermarks) also get room
# on their page for the new version. latest_scores and silence_due are not HOT-able (every score
# moves the indexed value_at_risk, every due time the indexed due_at), so free space there would
# only be waste. The outbox is a queue (insert, then delete once relayed), vacuumed after a
# fixed number of dead rows whatever its (tiny) live size.
STORAGE: dict[str, dict[str, str]] = {
    "latest_scores": {
        "autovacuum_vacuum_scale_factor": "0.02",
        "autovacuum_analyze_scale_factor": "0.05",
        "autovacuum_vacuum_cost_delay": "1",
    },
    "silence_due": {
        "autovacuum_vacuum_scale_factor": "0.02",
        "autovacuum_vacuum_cost_delay": "1",
    },
    "customer_profiles": {
        "fillfactor": "80",
        "autovacuum_vacuum_scale_factor": "0.02",
        "autovacuum_vacuum_cost_delay": "1",
    },
    "outbox": {
        "autovacuum_vacuum_scale_factor": "0",
        "autovacuum_vacuum_threshold": "5000",
        "autovacuum_vacuum_insert_scale_factor": "0",
        "autovacuum_vacuum_insert_threshold": "20000",
        "autovacuum_vacuum_cost_delay": "0",
    },
    "label_snapshots": {
        "fillfactor": "90",
        "autovacuum_vacuum_scale_factor": "0.05",
    },
    "partition_watermarks": {"fillfactor": "50"},
}

# (name, table, column, partial-index predicate or None, access method). BRIN on the append-only
# history tables: a few pages whatever the table size, since time follows insertion order there.
INDEXES: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("ix_label_snapshots_resolved", "label_snapshots", "resolved_at", "resolved_at IS NOT NULL",
     "btree"),
    ("ix_exposures_resolved", "exposures", "resolved_at", "resolved_at IS NOT NULL", "btree"),
    ("ix_webhook_deliveries_done", "webhook_deliveries", "created_at", "status <> 'pending'",
     "btree"),
    ("ix_score_history_time_brin", "score_history", "event_time", None, "brin"),
    ("ix_task_audit_at_brin", "task_audit", "at", None, "brin"),
)  # fmt: skip


def upgrade() -> None:
    # Label snapshots: float32 vector + feature-set id instead of a JSONB object per row, and the
    # last activity as a column (the learner's retail return evidence read it out of the JSON).
    op.create_table(
        "label_feature_sets",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("names", ARRAY(sa.Text), nullable=False),
    )
    op.add_column("label_snapshots", sa.Column("feature_set", sa.BigInteger))
    op.add_column("label_snapshots", sa.Column("vector", sa.LargeBinary))
    op.add_column("label_snapshots", sa.Column("last_activity_at", TS))
    op.alter_column("label_snapshots", "features", nullable=True)
    # Partial indexes the retention job reads by time, built without blocking writes (a
    # populated label_snapshots is the largest table of a deployment before this revision).
    with op.get_context().autocommit_block():
        for name, table, column, where, method in INDEXES:
            op.create_index(
                name,
                table,
                [column],
                postgresql_where=None if where is None else sa.text(where),
                postgresql_using=method,
                postgresql_concurrently=True,
                if_not_exists=True,
            )
    for table, params in STORAGE.items():
        settings = ", ".join(f"{k} = {v}" for k, v in params.items())
        op.execute(f"ALTER TABLE {table} SET ({settings})")


def downgrade() -> None:
    for table, params in STORAGE.items():
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(params)})")
    for name, table, *_ in INDEXES:
        op.drop_index(name, table)
    op.execute("DELETE FROM label_snapshots WHERE features IS NULL")
    op.alter_column("label_snapshots", "features", nullable=False)
    for column in ("last_activity_at", "vector", "feature_set"):
        op.drop_column("label_snapshots", column)
    op.drop_table("label_feature_sets")
