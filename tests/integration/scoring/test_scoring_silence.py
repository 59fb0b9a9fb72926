"""Silence sweeps and replay = live, on the real broker and database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.profile import CustomerProfile
from tests.integration.scoring.support import (
    T0,
    EventFactory,
    by_customer,
    processor,
    produce_events,
    rows,
    run_until_consumed,
)
from tests.integration.scoring.test_scoring_worker import same_events, two_customers
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]


async def test_silence_rescores_a_quiet_customer_when_others_advance_the_watermark(
    db: AsyncEngine, kafka: Broker, topic_factory: Topic
) -> None:
    topic = await topic_factory("sc.silence", partitions=1)
    f = EventFactory(unique("e"))
    group = unique("g")
    first = [f.session("quiet", d) for d in (0.0, 1.0, 2.0)]
    first += [f.session(f"busy{i}", 2.0) for i in range(3)]
    n1 = await produce_events(kafka.bootstrap, topic, first)
    await run_until_consumed(db, processor(group), bootstrap=kafka.bootstrap, topic=topic, total=n1)
    before = by_customer(await rows(db, "SELECT * FROM latest_scores"))["quiet"]
    assert before["cause"] == "event"

    later = [f.session(f"busy{i}", d) for d in range(3, 41) for i in range(3)]
    n2 = await produce_events(kafka.bootstrap, topic, later)
    await run_until_consumed(
        db, processor(group), bootstrap=kafka.bootstrap, topic=topic, total=n1 + n2
    )
    after = by_customer(await rows(db, "SELECT * FROM latest_scores"))["quiet"]
    assert after["cause"] == "silence"
    assert after["cause_event_id"] is None
    assert after["churn_probability"] > before["churn_probability"]
    assert after["event_time"] > T0 + timedelta(days=30)
    assert any("no activity" in r["text"] or "session" in r["text"] for r in after["reasons"])
    due = await rows(db, "SELECT due_at FROM silence_due WHERE customer_id = 'quiet'")
    assert due[0]["due_at"] > after["event_time"]  # moved on
    snaps = await rows(db, "SELECT taken_at FROM label_snapshots WHERE customer_id = 'quiet'")
    assert max(s["taken_at"] for s in snaps) == after["event_time"]  # sweeps take snapshots too

    async with db.connect() as conn:  # the sweep's query is an index range scan
        plan = "\n".join(
            r[0]
            for r in await conn.execute(
                text(
                    "EXPLAIN SELECT customer_id FROM silence_due WHERE partition = 0"
                    " AND due_at <= now() ORDER BY due_at LIMIT 100"
                )
            )
        )
    assert "ix_silence_due_partition_due" in plan, plan


async def test_replay_in_one_batch_equals_living_through_small_batches(
    db: AsyncEngine, kafka: Broker, topic_factory: Topic
) -> None:
    """Same events, one big batch vs batches of 3: same profiles and the same latest scores.

    The sweep is off here: silence rescores happen when a batch moves the watermark, so their
    times depend on batch boundaries by design (docs/scoring.md). Tier and RFM segment are
    relative to the population seen so far, and the lifecycle stage is set at scoring points;
    those are left out, everything else must be equal.
    """
    events = two_customers(EventFactory(unique("e")))
    results = []
    for run, size in (("big", 10_000), ("small", 3)):
        renamed = [{**e, "customer_id": f"{run}:{e['customer_id']}"} for e in events]
        topic = await topic_factory("sc.replay", partitions=1)
        total = await produce_events(kafka.bootstrap, topic, renamed)
        proc = processor(unique("g"), silence=False)
        await run_until_consumed(
            db, proc, bootstrap=kafka.bootstrap, topic=topic, total=total, max_records=size
        )
        latest = await rows(
            db, "SELECT * FROM latest_scores WHERE customer_id LIKE :p", p=f"{run}:%"
        )
        profiles = await rows(
            db, "SELECT customer_id, state, retail_stats FROM customer_profiles"
            " WHERE customer_id LIKE :p", p=f"{run}:%",
        )  # fmt: skip
        results.append((by_customer(latest), by_customer(profiles)))
    (big_scores, big_profiles), (small_scores, small_profiles) = results
    skip = {"customer_id", "tier", "rfm_segment", "lifecycle_stage", "updated_at"}
    for customer in ("engaged", "unhappy"):
        a, b = big_scores[f"big:{customer}"], small_scores[f"small:{customer}"]
        assert {k: v for k, v in a.items() if k not in skip} == {
            k: v for k, v in b.items() if k not in skip
        }, customer
        pa, pb = big_profiles[f"big:{customer}"], small_profiles[f"small:{customer}"]
        assert pa["retail_stats"] == pb["retail_stats"]
        assert same_events(
            CustomerProfile.from_bytes(pa["state"]), CustomerProfile.from_bytes(pb["state"])
        )
