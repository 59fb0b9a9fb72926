"""PostgreSQL access shared by the services: engine factory, raw asyncpg connection, URL
conversions, jsonb codec, bulk insert, and Alembic migrations (the data-access toolkit)."""

from churnwatch_runtime.db.engine import (
    async_url,
    asyncpg_dsn,
    make_engine,
    raw_connection,
    sync_url,
)
from churnwatch_runtime.db.migrate import upgrade
from churnwatch_runtime.db.pg import (
    BulkInsert,
    Pg,
    dataclass_columns,
    json_dumps,
    json_list,
    json_object,
    transpose,
)

__all__ = [
    "BulkInsert",
    "Pg",
    "async_url",
    "asyncpg_dsn",
    "dataclass_columns",
    "json_dumps",
    "json_list",
    "json_object",
    "make_engine",
    "raw_connection",
    "sync_url",
    "transpose",
    "upgrade",
]
