"""A running scoring worker hot-loads what the learner publishes (docs/scoring.md), on the real
broker and database: scores come from the cold-start prior until the real learner writes a
checkpoint, then from the learned model; new CLV parameters change the CLV; an unloadable
checkpoint or CLV row is logged and the last good one kept — the batch does not fail.

Each step scores a new customer with the same events at the same times (so the same profile
features): any change in the score is the model's or the parameters'.

Planted bugs this test was seen to catch: the worker never reloading a newer checkpoint; an
unloadable checkpoint falling back to the prior instead of the last good model; new CLV
parameters ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.worker import Worker, WorkerConfig
from churnwatch_scoring import ScoringConfig, ScoringProcessor
from churnwatch_scoring.hotload import ModelSource
from tests.integration.scoring.support import EventFactory, consumed, produce_events, rows
from tests.integration.scoring.test_learner import DAY, seed_population, set_watermark, started
from tests.integration.scoring.test_learner import T0 as LEARNER_T0
from tests.integration.worker.support import wait_until
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]
NEW_CLV = {
    "bgnbd": {"r": 0.9, "alpha": 20.0, "a": 0.2, "b": 4.0},
    "gamma_gamma": {"p": 6.0, "q": 3.7, "v": 60.0},
}


def story(f: EventFactory, customer: str) -> list[dict[str, Any]]:
    """The same history for every customer: a purchase, a few sessions, a complaint."""
    return [
        f.purchase(customer, 0.0, "80.00"),
        *(f.session(customer, day) for day in (1.0, 2.0, 4.0)),
        f.purchase(customer, 5.0, "35.00"),
        f.complaint(customer, 6.0, f"K-{customer}"),
    ]


async def insert(db: AsyncEngine, sql: str, **params: Any) -> None:
    async with db.begin() as conn:
        await conn.execute(text(sql), params)


async def test_the_worker_switches_to_the_learned_model_and_keeps_the_last_good_one(
    db: AsyncEngine, kafka: Broker, topic_factory: Topic
) -> None:
    topic = await topic_factory("sc.hot", partitions=1)
    group = unique("g")
    proc = ScoringProcessor(
        ScoringConfig(group_id=group, silence=False),
        models=ModelSource(poll_s=0.0),  # look for new rows at every batch
    )
    worker = Worker(
        db, proc, bootstrap=kafka.bootstrap, topics=[topic], group_id=group,
        config=WorkerConfig(max_wait_ms=50),
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    f = EventFactory(unique("e"))
    sent = 0

    async def score(customer: str) -> dict[str, Any]:
        nonlocal sent
        sent += await produce_events(kafka.bootstrap, topic, story(f, customer))

        async def done() -> bool:
            if task.done():
                task.result()
            return await consumed(db, group) >= sent

        await wait_until(done, timeout=60)
        [row] = await rows(db, "SELECT * FROM latest_scores WHERE customer_id = :c", c=customer)
        return row

    try:
        before = await score("before")
        assert before["model_version"] == "prior-v1"

        await seed_population(db, 60)  # the real learner learns 60 labels and checkpoints
        learner = await started(db)
        try:
            await set_watermark(db, LEARNER_T0 + 30 * DAY)  # every seeded label is due
            await learner.cycle()
        finally:
            await learner.close()
        [checkpoint] = await rows(db, "SELECT version, model_version FROM model_checkpoints")
        assert checkpoint["model_version"] != "prior-v1"

        after = await score("after")
        assert after["model_version"] == checkpoint["model_version"]
        assert after["churn_probability"] != before["churn_probability"]

        await insert(
            db,
            "INSERT INTO clv_params (fitted_at, customers, bgnbd, gamma_gamma) "
            "VALUES (now(), 500, CAST(:b AS jsonb), CAST(:g AS jsonb))",
            b=orjson.dumps(NEW_CLV["bgnbd"]).decode(),
            g=orjson.dumps(NEW_CLV["gamma_gamma"]).decode(),
        )
        refit = await score("refit")
        assert refit["model_version"] == checkpoint["model_version"]
        assert refit["churn_probability"] == after["churn_probability"]
        assert refit["clv"] != pytest.approx(after["clv"], rel=1e-6)

        # a checkpoint nobody can load and a CLV row missing its parameters: logged, skipped
        await insert(
            db,
            "INSERT INTO model_checkpoints (model_version, created_at, state, serving, "
            "labels_seen, quality) VALUES ('broken', now(), :s, :s, 1, '{}'::jsonb)",
            s=b"not a checkpoint",
        )
        await insert(
            db,
            "INSERT INTO clv_params (fitted_at, customers, bgnbd, gamma_gamma) "
            "VALUES (now(), 1, '{}'::jsonb, '{}'::jsonb)",
        )
        broken = await score("broken")
        assert broken["model_version"] == checkpoint["model_version"]  # the last good model
        assert broken["churn_probability"] == after["churn_probability"]
        assert broken["clv"] == pytest.approx(refit["clv"], rel=1e-9)  # the last good params
        assert worker.status().failures == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
