"""The real alerts processor as two workers of one group through a rebalance, on the real broker
and database: B joins mid-stream and later leaves, and the tasks, exposures, suppressions and the
actions on the actions topic are those of one worker's clean run of the same scores, each action
id once.

The clean run has a database of its own: holdouts hash the customer id, so both runs use the same
ids, and a run must not see the other's tasks (cool-downs, open tasks).

Planted bug this test was seen to catch: a worker that treats a partition newly assigned to it
after it has processed batches as a new one and starts at its end (as ``reset="latest"`` would),
instead of at the offset stored in PostgreSQL: the scores pending on the moved partitions are
skipped, their tasks and actions are missing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from churnwatch_alerts import AlertsConfig, AlertsProcessor, PlanConfig
from churnwatch_runtime.db import make_engine, sync_url, upgrade
from churnwatch_runtime.worker import MSG_ID_HEADER, Batch, OutboxRelay
from tests.integration.alerts.support import (
    consenting,
    prepare,
    produce_scores,
    rows,
    run_alerts,
    score,
)
from tests.integration.worker.rebalance import run_with_a_rebalance
from tests.integration.worker.support import header, read_topic, wait_until
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]
CUSTOMERS = 40
TIERS = ("platinum", "gold", "silver", "bronze")
BANDS = ("high", "critical", "medium", "high", "low", "critical")


@pytest.fixture
async def clean_db(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """A second brand-new migrated database, for the single worker's reference run."""
    url = make_url(postgres_url)
    name = unique("cw_test")
    admin = create_engine(
        sync_url(url.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    full = url.set(database=name).render_as_string(hide_password=False)
    upgrade(full)
    engine = make_engine(full)
    yield engine
    await engine.dispose()


def chunk(run: str, k: int) -> list[dict[str, Any]]:
    """Two scores per customer in chunk ``k``, twelve hours apart, in event-time order; tiers,
    bands and values vary so that several playbooks match, repeat, cool down or hold out."""
    docs = []
    for step in range(2):
        n = 2 * k + step
        for i in range(CUSTOMERS):
            band = BANDS[(i + n) % len(BANDS)]
            docs.append(
                score(
                    f"{run}-c{i}", 12.0 * n + i / 100, n, band=band, tier=TIERS[i % 4],
                    churn_probability=0.2 + 0.1 * BANDS.index(band),
                    value_at_risk=50.0 + 25 * i, clv=200.0 + 50 * i,
                )
            )  # fmt: skip
    return docs


class SlowAlerts(AlertsProcessor):
    """The real processor, a little slower per batch so that the joins land mid-stream."""

    async def process(self, conn: AsyncConnection, batch: Batch) -> None:
        await super().process(conn, batch)
        await asyncio.sleep(0.02)


async def outcome(db: AsyncEngine) -> dict[str, Any]:
    tasks = await rows(
        db,
        "SELECT task_id, customer_id, playbook_id, priority, state, sla_due_at, team FROM tasks",
    )
    exposures = await rows(db, "SELECT customer_id, playbook_id, arm FROM exposures")
    suppressions = await rows(db, "SELECT customer_id, reason FROM suppressions")
    return {
        "tasks": sorted(tuple(map(str, t.values())) for t in tasks),
        "exposures": sorted(tuple(e.values()) for e in exposures),
        "suppressions": sorted(tuple(s.values()) for s in suppressions),
    }


async def test_two_alerts_workers_through_a_rebalance_end_as_one_clean_worker(
    db: AsyncEngine, clean_db: AsyncEngine, kafka: Broker, topic_factory: Topic
) -> None:
    run = unique("r")
    customers = [f"{run}-c{i}" for i in range(CUSTOMERS)]
    profiles = {c: consenting() for c in customers}
    chunks = [chunk(run, k) for k in range(3)]
    for engine in (db, clean_db):
        await prepare(engine, profiles)

    clean_scores, clean_actions = await topic_factory("al.rb.s"), await topic_factory("al.rb.a")
    total = await produce_scores(kafka.bootstrap, clean_scores, [d for c in chunks for d in c])
    await run_alerts(
        clean_db, bootstrap=kafka.bootstrap, topic=clean_scores, actions=clean_actions,
        group=unique("g"), total=total, timeout=120,
    )  # fmt: skip

    scores, actions = await topic_factory("al.rb.s"), await topic_factory("al.rb.a")
    group = unique("g")
    config = AlertsConfig(group_id=group, plan=PlanConfig(actions_topic=actions))

    async def produce_chunk(k: int) -> int:
        return await produce_scores(kafka.bootstrap, scores, chunks[k])

    relay = OutboxRelay(db, kafka.bootstrap)
    stop_relay = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop_relay))
    try:
        done = await run_with_a_rebalance(
            db, bootstrap=kafka.bootstrap, topic=scores, group=group,
            make_processor=lambda: SlowAlerts(config), produce_chunk=produce_chunk,
        )  # fmt: skip
        await wait_until(lambda: _outbox_empty(db), timeout=60)
    finally:
        stop_relay.set()
        await relaying

    assert done.a_partitions_with_b > 0
    assert done.b_partitions > 0
    assert done.a_partitions_at_end == 6
    assert done.a_records > 0
    assert done.b_records > 0
    assert done.a_records + done.b_records == total

    clean, rebalanced = await outcome(clean_db), await outcome(db)
    assert len(clean["tasks"]) >= 5
    assert clean["exposures"]
    assert rebalanced == clean

    expected = await read_topic(kafka.bootstrap, clean_actions, at_least=1)
    sent = await read_topic(kafka.bootstrap, actions, at_least=len(expected))
    ids = Counter(header(r, MSG_ID_HEADER) for r in sent)
    assert [i for i, n in ids.items() if n > 1] == []  # no action twice
    assert set(ids) == {header(r, MSG_ID_HEADER) for r in expected}
    assert len(ids) >= len(clean["tasks"])  # every task is also an action
    assert sorted(r.value for r in sent) == sorted(r.value for r in expected)


async def _outbox_empty(db: AsyncEngine) -> bool:
    return bool((await rows(db, "SELECT count(*) AS n FROM outbox"))[0]["n"] == 0)
