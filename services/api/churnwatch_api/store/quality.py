"""Reads of ``quality_daily`` (migration 0032): per source, day, outcome and reason."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db import raw_connection

QualityRow = tuple[date, str, str, str, int]
"""(day, source, outcome, reason, count)"""


async def counts(engine: AsyncEngine, first: date, last: date) -> list[QualityRow]:
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await pg.fetch(
            "SELECT day, source, outcome, reason, sum(count) FROM quality_daily"
            " WHERE day BETWEEN $1 AND $2 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
            first, last,
        )  # fmt: skip
    return [(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]
