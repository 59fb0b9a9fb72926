"""Alembic environment: online migrations over a sync psycopg connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

url = context.config.get_main_option("sqlalchemy.url")
assert url is not None
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        # Serialise concurrent upgrades (several services start at once in the demo).
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7240001)")
        context.run_migrations()
engine.dispose()
