"""A starting scoring worker seeds its tier sketch from the stored population, so its first
scores are tiered like the rest instead of all bronze."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_scoring import store
from churnwatch_scoring.records import ScoreRecord
from churnwatch_scoring.scoring import ScoreOptions
from churnwatch_scoring.valuation import ValueSettings
from tests.integration.scoring.support import processor

pytestmark = pytest.mark.integration
AT = datetime(2026, 3, 1, tzinfo=UTC)


def stored(i: int) -> ScoreRecord:
    """Customer ``i`` with a value if retained of ``i`` and a CLV of ``10 i``."""
    return ScoreRecord(
        customer_id=f"C-{i}",
        partition=0,
        churn_probability=0.1,
        band="low",
        clv=10.0 * i,
        tier="bronze",
        lifecycle_stage="active",
        value_at_risk=0.1 * i,
        business_model="retail",
        model_version="prior-v1",
        event_time=AT,
        cause="event",
        cause_event_id=f"e-{i}",
        value_if_retained=float(i),
    )


async def fill(db: AsyncEngine, n: int) -> None:
    async with db.begin() as conn:
        await store.write_latest(await store.raw(conn), [stored(i) for i in range(1, n + 1)], AT)


@pytest.mark.parametrize("basis", ["retained", "clv"])
async def test_the_tier_sketch_starts_from_the_stored_values(db: AsyncEngine, basis: str) -> None:
    await fill(db, 1_000)
    opts = ScoreOptions(value=ValueSettings(basis=basis))  # type: ignore[arg-type]
    proc = processor("seed", options=opts, seed_population=600)
    assert proc.population.tier(990.0).value == "bronze"  # nothing seen yet
    async with db.begin() as conn:
        await proc.on_assigned(conn, [TopicPartition("cw.events", 0)])
    scale = 1.0 if basis == "retained" else 10.0  # the column the basis names was loaded
    assert proc.population.tier(990.0 * scale).value == "platinum"
    assert proc.population.tier(900.0 * scale).value == "gold"
    assert proc.population.tier(10.0 * scale).value == "bronze"
    async with db.begin() as conn:  # seeded once per process, not on every assignment
        await proc.on_assigned(conn, [TopicPartition("cw.events", 1)])
    assert proc.population.thresholds is not None


async def test_seeding_off_or_an_empty_table_leaves_everyone_bronze(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await processor("empty").on_assigned(conn, [TopicPartition("cw.events", 0)])
    await fill(db, 1_000)
    off = processor("off", seed_population=0)
    async with db.begin() as conn:
        await off.on_assigned(conn, [TopicPartition("cw.events", 0)])
    assert off.population.tier(990.0).value == "bronze"
