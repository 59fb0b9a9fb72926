"""Async engine factory (asyncpg) and the sync URL Alembic uses (psycopg)."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


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


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """One engine per process, created in the service's lifespan, disposed on shutdown."""
    return create_async_engine(async_url(url), pool_size=pool_size, pool_pre_ping=True)
