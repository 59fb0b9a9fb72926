"""Raw asyncpg statements inside a SQLAlchemy transaction roll back with it (not autocommit)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db import raw_connection
from tests.support.infra import unique

pytestmark = pytest.mark.integration


class Boom(Exception):
    pass


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


async def test_raw_statements_roll_back_with_the_transaction(engine: AsyncEngine) -> None:
    table = unique("rawtx")
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {table} (n int)"))

    async def insert_then_fail() -> None:
        async with engine.begin() as conn:
            pg = await raw_connection(conn)
            await pg.execute(f"INSERT INTO {table} VALUES (1)")
            raise Boom

    with pytest.raises(Boom):
        await insert_then_fail()
    assert await _count(engine, table) == 0


async def test_the_bare_driver_connection_would_autocommit(engine: AsyncEngine) -> None:
    """Why raw_connection exists: SQLAlchemy's asyncpg adapter sends BEGIN lazily."""
    table = unique("rawtx")
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {table} (n int)"))

    async def insert_then_fail() -> None:
        async with engine.begin() as conn:
            pg = (await conn.get_raw_connection()).driver_connection
            assert pg is not None
            await pg.execute(f"INSERT INTO {table} VALUES (1)")
            raise Boom

    with pytest.raises(Boom):
        await insert_then_fail()
    assert await _count(engine, table) == 1
