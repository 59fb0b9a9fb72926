"""The real scoring processor as two workers of one group through a rebalance, on the real broker
and database: B joins mid-stream and later leaves, and the profiles and latest scores are those
of one worker's clean run of the same events.

Planted bug this test was seen to catch: a processor whose per-partition caches survive a
rebalance (``on_revoked`` keeping the partition's profiles and ``on_assigned`` keeping an existing
cache): when B leaves, A scores B's partitions from the profiles it cached before B joined, the
events B applied meanwhile are missing from the final profiles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from churnwatch.profile import CustomerProfile
from churnwatch_runtime.worker import Batch
from churnwatch_scoring import ScoringConfig, ScoringProcessor
from tests.integration.scoring.support import (
    EventFactory,
    by_customer,
    produce_events,
    rows,
    run_until_consumed,
)
from tests.integration.scoring.test_scoring_worker import same_events
from tests.integration.worker.rebalance import run_with_a_rebalance
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]
CUSTOMERS = 30
DAYS_PER_CHUNK = 8


def chunk(f: EventFactory, k: int) -> list[dict[str, Any]]:
    """Every customer, every day of chunk ``k``, in event-time order (so per-partition clocks
    are the events' own times in any batching): sessions, purchases, complaints, a failed
    payment, varied per customer so that their scores differ."""
    events: list[dict[str, Any]] = []
    for d in range(DAYS_PER_CHUNK):
        day = k * DAYS_PER_CHUNK + d
        for i in range(CUSTOMERS):
            c, at = f"c{i}", day + i / (CUSTOMERS * 2)
            if i % 3 == 0 and day % 4 == 3:
                events.append(f.complaint(c, at, f"CMP-{i}-{day}"))
            elif i % 5 == 1 and day % 6 == 5:
                events.append(f.payment_failed(c, at))
            elif (i + day) % 4 == 0:
                events.append(f.purchase(c, at, amount=f"{10 + i}.00"))
            elif i % 7 != 2 or day < 4:  # some customers fall silent: their risk rises
                events.append(f.session(c, at))
    return events


class SlowScoring(ScoringProcessor):
    """The real processor, a little slower per batch so that the joins land mid-stream."""

    async def process(self, conn: AsyncConnection, batch: Batch) -> None:
        await super().process(conn, batch)
        await asyncio.sleep(0.02)


def config(group: str) -> ScoringConfig:
    # no silence sweep (its scoring points depend on the batching) and no tier seeding from the
    # stored population (both runs share one database): the compared state is event-derived
    return ScoringConfig(group_id=group, silence=False)


async def state(db: AsyncEngine, run: str) -> dict[str, Any]:
    like = {"p": f"{run}:%"}
    latest = await rows(db, "SELECT * FROM latest_scores WHERE customer_id LIKE :p", **like)
    profiles = await rows(
        db, "SELECT customer_id, state FROM customer_profiles WHERE customer_id LIKE :p", **like
    )
    return {
        "latest": {k.split(":", 1)[1]: v for k, v in by_customer(latest).items()},
        "profiles": {
            r["customer_id"].split(":", 1)[1]: CustomerProfile.from_bytes(r["state"])
            for r in profiles
        },
    }


async def test_two_scoring_workers_through_a_rebalance_end_as_one_clean_worker(
    db: AsyncEngine, kafka: Broker, topic_factory: Topic
) -> None:
    f = EventFactory(unique("e"))
    chunks = [chunk(f, k) for k in range(3)]

    def renamed(run: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**e, "customer_id": f"{run}:{e['customer_id']}"} for e in events]

    clean_topic = await topic_factory("sc.rb.clean")
    total = await produce_events(
        kafka.bootstrap, clean_topic, renamed("clean", [e for c in chunks for e in c])
    )
    await run_until_consumed(
        db, ScoringProcessor(config(unique("g"))), bootstrap=kafka.bootstrap,
        topic=clean_topic, total=total, max_records=20, timeout=120,
    )  # fmt: skip

    topic = await topic_factory("sc.rb")
    group = unique("g")

    async def produce_chunk(k: int) -> int:
        return await produce_events(kafka.bootstrap, topic, renamed("rb", chunks[k]))

    done = await run_with_a_rebalance(
        db, bootstrap=kafka.bootstrap, topic=topic, group=group,
        make_processor=lambda: SlowScoring(config(group)), produce_chunk=produce_chunk,
    )  # fmt: skip

    # the rebalances really happened, with both workers scoring
    assert done.a_partitions_with_b > 0
    assert done.b_partitions > 0
    assert done.a_partitions_at_end == 6
    assert done.b_records > 0
    assert done.a_records > 0
    assert done.a_records + done.b_records == total  # nothing processed twice (offsets)

    clean, rebalanced = await state(db, "clean"), await state(db, "rb")
    customers = {f"c{i}" for i in range(CUSTOMERS)}
    assert set(clean["profiles"]) == set(rebalanced["profiles"]) == customers
    for c in sorted(customers):
        assert same_events(rebalanced["profiles"][c], clean["profiles"][c])
        a, b = rebalanced["latest"][c], clean["latest"][c]
        for key in ("churn_probability", "band", "reasons", "cause_event_id"):
            assert a[key] == b[key], (c, key)
    # not a degenerate stream: the customers' risks differ
    assert len({round(v["churn_probability"], 6) for v in clean["latest"].values()}) > 3
