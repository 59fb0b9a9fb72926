"""The cut-points job: a new ``population_cuts`` version from ``latest_scores``.

Exact quantiles (``percentile_disc``, so every threshold is a value some customer has) of the
value basis over the customers with a latest score — one value per customer, whatever how often
each was scored — and of the R, F, M values of those with purchases. The result is a function of
``latest_scores`` only. The learner runs it once per event-time day of the global watermark
(`due`); ``python -m churnwatch_scoring.cuts`` runs it once (an operator, a test pinning a
version). docs/scoring.md, "Population".
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import datetime

import orjson

from churnwatch_runtime.db import Pg
from churnwatch_scoring.population import QUINTILES, rfm_json, tier_quantiles, tiers_json

log = logging.getLogger(__name__)

MIN_CUSTOMERS = 100  # fewer scored customers: no thresholds (everyone bronze), as before

_BASIS_COLUMN = {"retained": "value_if_retained", "clv": "clv"}


async def compute(pg: Pg, basis: str, *, min_customers: int = MIN_CUSTOMERS) -> tuple[
    int, dict[str, float] | None, dict[str, list[float]] | None
]:  # fmt: skip
    """(customers, tiers, rfm) from the stored latest scores; None parts below ``min_customers``."""
    column = _BASIS_COLUMN[basis]
    plat, gold, silver = tier_quantiles()
    row = await pg.fetchrow(
        f"SELECT count({column}), percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY {column})"
        f" FROM latest_scores WHERE {column} IS NOT NULL",
        [plat, gold, silver],
    )
    n = int(row[0])
    tiers = tiers_json(*row[1]) if n >= min_customers and row[1] is not None else None
    q = list(QUINTILES)
    rfm_row = await pg.fetchrow(
        "SELECT count(*),"
        " percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY rfm_recency_days),"
        " percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY rfm_frequency),"
        " percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY rfm_monetary)"
        " FROM latest_scores WHERE rfm_recency_days IS NOT NULL",
        q,
    )
    rfm = None
    if int(rfm_row[0]) >= min_customers:
        rfm = rfm_json(rfm_row[1], rfm_row[2], rfm_row[3])
    return n, tiers, rfm


async def publish(
    pg: Pg, basis: str, as_of: datetime | None, *, min_customers: int = MIN_CUSTOMERS
) -> int | None:
    """Insert a new version computed now; its number, or None if there is nothing to cut yet."""
    n, tiers, rfm = await compute(pg, basis, min_customers=min_customers)
    if tiers is None and rfm is None:
        return None
    version = await pg.fetchval(
        "INSERT INTO population_cuts (as_of, basis, customers, tiers, rfm)"
        " VALUES ($1, $2, $3, $4::jsonb, $5::jsonb) RETURNING version",
        as_of, basis, n,
        None if tiers is None else orjson.dumps(tiers).decode(),
        None if rfm is None else orjson.dumps(rfm).decode(),
    )  # fmt: skip
    log.info("population cuts published", extra={"version": version, "customers": n})
    return int(version)


def due(last_as_of: datetime | None, watermark: datetime | None) -> bool:
    """A new version is due when the watermark entered a UTC day after the last version's.

    >>> from datetime import UTC
    >>> d = datetime(2026, 3, 1, 23, tzinfo=UTC)
    >>> due(None, d), due(d, d.replace(minute=59)), due(d, datetime(2026, 3, 2, tzinfo=UTC))
    (True, False, True)
    >>> due(None, None)
    False
    """
    if watermark is None:
        return False
    return last_as_of is None or watermark.date() > last_as_of.date()


async def last_as_of(pg: Pg) -> datetime | None:
    """The ``as_of`` of the newest version (None: none yet)."""
    value: datetime | None = await pg.fetchval(
        "SELECT as_of FROM population_cuts ORDER BY version DESC LIMIT 1"
    )
    return value


async def _main(argv: list[str] | None = None) -> None:
    from churnwatch_runtime.db import asyncpg_dsn
    from churnwatch_scoring.settings import ScoringSettings

    parser = argparse.ArgumentParser(description="publish a population_cuts version now")
    parser.add_argument("--min-customers", type=int, default=MIN_CUSTOMERS)
    args = parser.parse_args(argv)
    settings = ScoringSettings()
    import asyncpg

    pg = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        wm = await pg.fetchval("SELECT min(watermark) FROM partition_watermarks")
        version = await publish(pg, settings.value_basis, wm, min_customers=args.min_customers)
        print(f"population_cuts version {version}")  # noqa: T201 (the command's answer)
    finally:
        await pg.close()


if __name__ == "__main__":
    asyncio.run(_main())
