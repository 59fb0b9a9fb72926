"""Async engine factory (asyncpg), the raw connection under it, and URL conversions: the
async URL, the sync URL Alembic uses (psycopg), and the DSN a plain asyncpg pool takes."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from churnwatch_runtime.db.pg import Pg


def async_url(url: str) -> str:
    """Any PostgreSQL URL, with the asyncpg driver.

    >>> async_url("postgresql://u@h:5432/db")
    'postgresql+asyncpg://u@h:5432/db'
    """
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """Any PostgreSQL URL, with the psycopg (v3) driver for Alembic and scripts.

    >>> sync_url("postgresql+asyncpg://u@h:5432/db")
    'postgresql+psycopg://u@h:5432/db'
    """
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """A libpq-style DSN for ``asyncpg.connect``/``create_pool`` from any SQLAlchemy
    PostgreSQL URL (``+asyncpg``/``+psycopg`` drivers dropped).

    >>> asyncpg_dsn("postgresql+asyncpg://u:p@h:5432/db")
    'postgresql://u:p@h:5432/db'
    """
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """One engine per process, created in the service's lifespan, disposed on shutdown."""
    return create_async_engine(async_url(url), pool_size=pool_size, pool_pre_ping=True)


async def raw_connection(conn: AsyncConnection) -> Pg:
    """The asyncpg connection under ``conn``, inside ``conn``'s transaction.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its own first statement: anything sent
    on the raw connection before that runs in autocommit, so it would neither roll back with the
    transaction nor hold its ``FOR UPDATE`` locks. One ``SELECT 1`` through SQLAlchemy starts it.
    """
    pg: Pg = (await conn.get_raw_connection()).driver_connection
    assert pg is not None
    if conn.in_transaction() and not pg.is_in_transaction():
        await conn.exec_driver_sql("SELECT 1")
    return pg
