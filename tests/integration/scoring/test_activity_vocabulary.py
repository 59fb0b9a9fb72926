"""The activity vocabulary picked from the business's own volumes (issue 13), on the real broker
and database: the worker counts ``feature_use`` names into ``activity_volumes``, the learner picks
the top names and publishes them with the model (a checkpoint and a ``vocabulary_changed``
record), the worker hot-loads them and builds per-activity features of exactly those names; the
model version names the vocabulary.

Planted bug this test was seen to catch: the worker keeping its start-up vocabulary (features
built from its settings, not from the hot-loaded model).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.events import EventType
from churnwatch.model import VocabularyChanged, vocabulary_version
from churnwatch.profile import ActivityVocabulary
from churnwatch_runtime.worker import Worker, WorkerConfig
from churnwatch_scoring import ScoringConfig, ScoringProcessor
from churnwatch_scoring.hotload import ModelSource
from tests.integration.scoring.support import EventFactory, consumed, produce_events, rows
from tests.integration.scoring.test_learner import seed_population, set_watermark, started
from tests.integration.worker.support import wait_until
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]


def uses(f: EventFactory, customer: str) -> list[dict[str, Any]]:
    """Days 0-3 after 2026-01-05 09:00: 'like' 5 a day, 'post' 2 on day 1, 'unfriend' once on
    day 2 (EventFactory's T0)."""
    out = [f.make(customer, EventType.FEATURE_USE, d, feature="like", count=5) for d in range(4)]
    out.append(f.make(customer, EventType.FEATURE_USE, 1.0, feature="post", count=2))
    out.append(f.make(customer, EventType.FEATURE_USE, 2.0, feature="unfriend", count=1))
    return out


async def feature_names(db: AsyncEngine, customer: str) -> set[str]:
    found = await rows(
        db,
        "SELECT f.names FROM label_snapshots s JOIN label_feature_sets f ON f.id = s.feature_set"
        " WHERE s.customer_id = :c",
        c=customer,
    )
    assert found, f"no snapshot of {customer}"
    return {name for r in found for name in r["names"]}


async def test_the_learner_picks_the_names_the_worker_counted_and_the_worker_uses_them(
    db: AsyncEngine, kafka: Broker, topic_factory: Topic
) -> None:
    topic = await topic_factory("sc.vocab", partitions=1)
    group = unique("g")
    proc = ScoringProcessor(ScoringConfig(group_id=group, silence=False), ModelSource(poll_s=0.0))
    worker = Worker(
        db, proc, bootstrap=kafka.bootstrap, topics=[topic], group_id=group,
        config=WorkerConfig(max_wait_ms=50),
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    f = EventFactory(unique("e"))
    sent = 0

    async def send(events: list[dict[str, Any]]) -> None:
        nonlocal sent
        sent += await produce_events(kafka.bootstrap, topic, events)

        async def done() -> bool:
            if task.done():
                task.result()
            return await consumed(db, group) >= sent

        await wait_until(done, timeout=60)

    try:
        await send(uses(f, "C-before"))
        volumes = await rows(db, "SELECT day, name, uses FROM activity_volumes ORDER BY day, name")
        day = [date(2026, 1, 5 + k) for k in range(4)]
        assert [(r["day"], r["name"], r["uses"]) for r in volumes] == [
            (day[0], "like", 5),
            (day[1], "like", 5),
            (day[1], "post", 2),
            (day[2], "like", 5),
            (day[2], "unfriend", 1),
            (day[3], "like", 5),
        ]
        before = await feature_names(db, "C-before")
        assert "activity_like_short" not in before  # no name picked yet: buckets only
        assert "activity_other0_short" in before

        await seed_population(db, 60)  # labels, so the learned model (not the prior) serves
        learner = await started(db, activities_min_uses=0.0, activities_every_s=0.0)
        try:
            await set_watermark(db, datetime(2026, 1, 10, tzinfo=UTC))
            report = await learner.cycle()
        finally:
            await learner.close()
        picked = ActivityVocabulary(("like", "post", "unfriend"))  # by volume: 20, 2, 1
        [record] = [r for r in report.records if isinstance(r, VocabularyChanged)]
        assert record.added == picked.names
        [checkpoint] = await rows(db, "SELECT model_version FROM model_checkpoints")
        assert checkpoint["model_version"].endswith("." + vocabulary_version(picked))
        kinds = await rows(db, "SELECT kind FROM model_records WHERE kind = 'vocabulary_changed'")
        assert len(kinds) == 1

        await send(uses(f, "C-after"))
        after = await feature_names(db, "C-after")
        for name in ("like", "post", "unfriend"):
            assert f"activity_{name}_short" in after
        [score] = await rows(
            db, "SELECT model_version FROM latest_scores WHERE customer_id = 'C-after'"
        )
        assert score["model_version"] == checkpoint["model_version"]
        # the second customer's uses were counted too: 'like' 10 a day now
        like = await rows(db, "SELECT sum(uses) AS n FROM activity_volumes WHERE name = 'like'")
        assert like[0]["n"] == 40
        assert worker.status().failures == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_pinned_names_win_and_old_days_are_dropped(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO activity_volumes (day, name, uses) VALUES"
                " ('2025-10-01', 'export', 900), ('2026-01-08', 'search', 700)"
            )
        )
    learner = await started(db, activities="share, export", activities_every_s=0.0)
    try:
        await set_watermark(db, datetime(2026, 1, 10, tzinfo=UTC))
        report = await learner.cycle()
        assert learner.state is not None
        assert learner.state.activities.names == ("share", "export")
        assert report.checkpoint is not None  # a new vocabulary is published without labels
    finally:
        await learner.close()
    left = await rows(db, "SELECT day, name FROM activity_volumes")
    assert [(r["day"], r["name"]) for r in left] == [(date(2026, 1, 8), "search")]
