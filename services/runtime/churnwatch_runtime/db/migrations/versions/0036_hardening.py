"""KPI speed: a per-day change stamp of ``kpi_daily`` (the API caches the days it did not
move), and room for HOT updates in the tables the scoring hook upserts every batch.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04

``kpi_day_stamp`` holds, per event day and cw.events partition, the id of the last transaction
that added to that day's ``kpi_daily`` rows (the scoring hook writes it in the same statement as
the rows). ``GET /v1/kpis`` reads the stamps of its window (a few hundred rows) and re-reads
only the days whose stamp moved since it cached them: a day is not "closed" by time alone —
late events and conversions (a second purchase adds to the first purchase's day, up to 90 days
back) still change old days, and the stamp says exactly when. Partition in the key: two
scoring workers never wait on each other's stamp rows. Backfilled from ``kpi_daily`` (safe on
a populated database: one index-only pass, ~700,000 rows at 1M customers in well under a
minute).

``kpi_daily``, ``kpi_totals`` and ``kpi_customer_state`` are upserted by every scoring batch on
their non-indexed column (value, state): free space on the page lets PostgreSQL update in place
(HOT, no new index entry); ``fillfactor`` applies to pages written from now on (nothing is
rewritten). docs/kpis-as-built.md.
"""

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


STORAGE = {
    "kpi_daily": "fillfactor = 70",
    "kpi_totals": "fillfactor = 50, autovacuum_vacuum_scale_factor = 0, "
    "autovacuum_vacuum_threshold = 5000",  # a few thousand rows, all updated every batch
    "kpi_customer_state": "fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02",
}


def upgrade() -> None:
    for table, params in STORAGE.items():
        op.execute(f"ALTER TABLE {table} SET ({params})")
    op.create_table(
        "kpi_day_stamp",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),  # xid of the last writer
        sa.PrimaryKeyConstraint("day", "partition", name="pk_kpi_day_stamp"),
    )
    # updated by every scoring batch, never on an indexed column: room for HOT updates
    op.execute("ALTER TABLE kpi_day_stamp SET (fillfactor = 50)")
    op.execute(
        "INSERT INTO kpi_day_stamp (day, partition, version)"
        " SELECT day, partition, pg_current_xact_id()::text::bigint FROM kpi_daily"
        " GROUP BY day, partition"
    )


def downgrade() -> None:
    op.drop_table("kpi_day_stamp")
    for table, params in STORAGE.items():
        names = ", ".join(p.split("=")[0].strip() for p in params.split(","))
        op.execute(f"ALTER TABLE {table} RESET ({names})")
