"""PostgreSQL access shared by the services: engine factory and Alembic migrations."""

from churnwatch_runtime.db.engine import make_engine, raw_connection, sync_url
from churnwatch_runtime.db.migrate import upgrade

__all__ = ["make_engine", "raw_connection", "sync_url", "upgrade"]
