"""Tier and RFM cut points are versioned rows (``population_cuts``), computed from
``latest_scores`` by `churnwatch_scoring.cuts` and hot-loaded by the workers; a worker's own
history never enters them (issue 16: a restart re-seeded a sketch and moved ~850 tiers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.profile import RfmValues
from churnwatch_scoring import cuts, store
from churnwatch_scoring.hotload import ModelSource
from churnwatch_scoring.population import Population
from churnwatch_scoring.records import ScoreRecord

pytestmark = pytest.mark.integration
AT = datetime(2026, 3, 1, tzinfo=UTC)


def stored(i: int) -> ScoreRecord:
    """Customer ``i``: value if retained ``i``, CLV ``10 i``, R/F/M ``(1000 - i, i % 7, i)``."""
    return ScoreRecord(
        customer_id=f"C-{i}", partition=0, churn_probability=0.1, band="low", clv=10.0 * i,
        tier="bronze", lifecycle_stage="active", value_at_risk=0.1 * i, event_time=AT,
        cause_event_id=f"e-{i}", value_if_retained=float(i),
        rfm_recency_days=float(1000 - i), rfm_frequency=float(i % 7), rfm_monetary=float(i),
    )  # fmt: skip


async def fill(db: AsyncEngine, n: int) -> None:
    async with db.begin() as conn:
        await store.write_latest(await store.raw(conn), [stored(i) for i in range(1, n + 1)], AT)


@pytest.mark.parametrize("basis", ["retained", "clv"])
async def test_a_published_version_is_what_every_worker_loads(db: AsyncEngine, basis: str) -> None:
    await fill(db, 1_000)
    source = ModelSource(poll_s=0)
    async with db.begin() as conn:
        pg = await store.raw(conn)
        await source.refresh(pg)
        assert source.population.version is None  # no row: everyone bronze
        assert source.population.tier(1e9).value == "bronze"
        version = await cuts.publish(pg, basis, AT)
        await source.refresh(pg)
    scale = 1.0 if basis == "retained" else 10.0  # the column the basis names
    pop = source.population
    assert pop.version == version
    assert [pop.tier(v * scale).value for v in (990.0, 900.0, 600.0, 10.0)] == [
        "platinum", "gold", "silver", "bronze",
    ]  # fmt: skip
    # the SQL quantiles are the in-memory definition's (percentile_disc, one value per customer)
    expected = Population.from_values(
        0, [stored(i).value_if_retained or 0.0 for i in range(1, 1001)], []
    )
    if basis == "retained":
        assert pop.thresholds == expected.thresholds
    assert pop.segment(RfmValues(1.0, 6.0, 999.0)) == "champions"
    assert pop.segment(RfmValues(999.0, 0.0, 1.0)) == "lost"
    assert pop.cuts is not None
    assert pop.cuts.monetary == (200.0, 400.0, 600.0, 800.0)


async def test_the_same_table_gives_the_same_cut_points(db: AsyncEngine) -> None:
    await fill(db, 500)
    async with db.begin() as conn:
        pg = await store.raw(conn)
        first = await cuts.publish(pg, "retained", AT)
        second = await cuts.publish(pg, "retained", AT)
        rows = await pg.fetch("SELECT version, tiers, rfm FROM population_cuts ORDER BY version")
    assert [r[0] for r in rows] == [first, second]
    assert first != second
    assert rows[0][1] == rows[1][1]
    assert rows[0][2] == rows[1][2]


async def test_too_few_customers_publish_nothing(db: AsyncEngine) -> None:
    await fill(db, 50)
    async with db.begin() as conn:
        pg = await store.raw(conn)
        assert await cuts.publish(pg, "retained", AT) is None
        assert await pg.fetchval("SELECT count(*) FROM population_cuts") == 0


async def test_the_learner_publishes_once_per_event_time_day(db: AsyncEngine) -> None:
    from tests.integration.scoring.test_learner import DAY, set_watermark, started

    await fill(db, 300)
    learner = await started(db)
    try:
        assert await learner.refresh_cuts() is None  # no watermark yet: nothing to date it by
        await set_watermark(db, AT + DAY / 2)
        first = await learner.refresh_cuts()
        await set_watermark(db, AT + DAY * 0.9)  # the same UTC day: no new version
        same_day = await learner.refresh_cuts()
        await set_watermark(db, AT + DAY * 1.1)
        next_day = await learner.refresh_cuts()
    finally:
        await learner.close()
    assert first is not None
    assert same_day is None
    assert next_day is not None
    assert next_day > first
