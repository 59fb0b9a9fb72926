"""The learner on the real database: labels, treatment, checkpoints, switch, lock, restart, CLV.

Each test gets a fresh migrated database (checkpoints and records are global tables); rows are
seeded with SQL as the scoring worker would write them, with profiles built by
`churnwatch.profile.apply` on hand-made events.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.events import EXAMPLES, EventType, parse_event
from churnwatch.model import (
    LabelResolver,
    ModelState,
    ServingModel,
    SnapshotOutcome,
    TreatmentPolicy,
)
from churnwatch.profile import CustomerProfile, apply, features
from churnwatch.value import RetailStats, fit_bgnbd, fit_gamma_gamma, observe, update
from churnwatch_scoring.learner import Learner, LearnerSettings, NotLeader, snapshot_of

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
GROUP = "cw-scoring-test"
ROOT = Path(__file__).resolve().parents[3]


def settings(db: AsyncEngine, **overrides: Any) -> LearnerSettings:
    values: dict[str, Any] = {
        "database_url": db.url.render_as_string(hide_password=False),
        "group_id": GROUP,
        "checkpoint_every_s": 0.0,
        "batch_size": 1000,
        "cold_start_min_labels": 40,
        "cold_start_min_per_class": 10,
        "cold_start_paired": False,  # the wiring of records, not the paired test (unit tests)
        "poll_s": 0.05,
        "standby_poll_s": 0.05,
        "log_json": False,
        **overrides,
    }
    return LearnerSettings(**values)


# -- seeding, as the worker writes rows ----------------------------------------------------


def event(customer: str, kind: EventType, at: datetime, n: int, **attributes: Any) -> Any:
    raw = dict(EXAMPLES[kind])
    raw.update(
        event_id=f"{customer}-{kind.value}-{n}",
        customer_id=customer,
        occurred_at=at.isoformat().replace("+00:00", "Z"),
        attributes={**raw["attributes"], **attributes},
    )
    return parse_event(raw, now=at + DAY)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def subscriber_events(customer: str, *, cancel_at: datetime | None, sessions: int) -> list[Any]:
    out = [
        event(customer, EventType.SUBSCRIPTION_STARTED, T0 - 40 * DAY, 0, trial=False),
        *(event(customer, EventType.SESSION, T0 - k * DAY, k) for k in range(1, sessions + 1)),
    ]
    if cancel_at is not None:
        effective = iso(cancel_at + 10 * DAY)
        out.append(
            event(customer, EventType.SUBSCRIPTION_CANCELLED, cancel_at, 99, effective_at=effective)
        )
    return out


async def seed_customer(
    db: AsyncEngine,
    customer: str,
    events: list[Any],
    *,
    kind: str,
    snapshot_at: datetime = T0,
    retail_stats: RetailStats | None = None,
) -> datetime:
    """Store the customer's profile (all events) and a snapshot at ``snapshot_at`` (the events
    before it); returns the snapshot's ``label_due_at``."""
    before, now = CustomerProfile(), CustomerProfile()
    for e in sorted(events, key=lambda e: e.occurred_at):
        apply(now, e)
        if e.occurred_at <= snapshot_at:
            apply(before, e)
    x = features(before, snapshot_at)
    due = settings_resolver().due_at(snapshot_of(customer, snapshot_at, kind, x), SnapshotOutcome())
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customer_profiles (customer_id, partition, state, retail_stats, "
                "updated_at) VALUES (:c, 0, :s, :r, now())"
            ),
            {
                "c": customer,
                "s": now.to_bytes(),
                "r": None if retail_stats is None else pickle.dumps(retail_stats),
            },
        )
        await conn.execute(
            text(
                "INSERT INTO label_snapshots (customer_id, day, partition, taken_at, features, "
                "business_model, label_due_at) VALUES (:c, :d, 0, :t, CAST(:f AS jsonb), :k, :due)"
            ),
            {
                "c": customer,
                "d": snapshot_at.date(),
                "t": snapshot_at,
                "f": orjson.dumps(x).decode(),
                "k": kind,
                "due": due,
            },
        )
    return due


def settings_resolver() -> LabelResolver:
    return LearnerSettings(log_json=False).resolver()


async def set_watermark(db: AsyncEngine, at: datetime, partitions: int = 2, lag: int = 0) -> None:
    """Partition 0 at ``at``; the others ``lag`` days ahead (the global one is the minimum)."""
    async with db.begin() as conn:
        for p in range(partitions):
            await conn.execute(
                text(
                    "INSERT INTO partition_watermarks (group_id, topic, partition, watermark) "
                    "VALUES (:g, 'cw.events', :p, :w) ON CONFLICT (group_id, topic, partition) "
                    "DO UPDATE SET watermark = EXCLUDED.watermark"
                ),
                {"g": GROUP, "p": p, "w": at + (p > 0) * lag * DAY},
            )


async def labels(db: AsyncEngine) -> dict[str, tuple[int | None, bool | None]]:
    async with db.connect() as conn:
        rows = await conn.execute(text("SELECT customer_id, label, treated FROM label_snapshots"))
        return {r[0]: (r[1], r[2]) for r in rows}


async def scalar(db: AsyncEngine, sql: str) -> Any:
    async with db.connect() as conn:
        return await conn.scalar(text(sql))


async def started(db: AsyncEngine, **overrides: Any) -> Learner:
    learner = Learner(db, settings(db, **overrides))
    assert await learner.try_acquire()
    return learner


async def seed_population(db: AsyncEngine, n: int, prefix: str = "S") -> int:
    """``n`` subscribers, every third cancels and ends within the horizon (fewer sessions);
    returns n."""
    for k in range(n):
        churn = k % 3 == 0
        cancel = T0 + (3 + k % 17) * DAY if churn else None  # effective 10 days later: <= T0 + 29
        sessions = 1 + (k % 4) if churn else 4 + (k % 6)
        customer = f"{prefix}-{k:03d}"
        events = subscriber_events(customer, cancel_at=cancel, sessions=sessions)
        await seed_customer(db, customer, events, kind="subscription")
    return n


# -- labels -----------------------------------------------------------------------------


async def test_labels_wait_for_the_watermark_then_follow_the_outcome(db: AsyncEngine) -> None:
    await seed_customer(
        db,
        "cancelled",
        subscriber_events("cancelled", cancel_at=T0 + 9 * DAY, sessions=2),
        kind="subscription",
    )
    await seed_customer(
        db, "active", subscriber_events("active", cancel_at=None, sessions=5), kind="subscription"
    )
    lapsing = [event("lapsed", EventType.SESSION, T0 - 70 * DAY, 1)]
    lapse_due = await seed_customer(db, "lapsed", lapsing, kind="retail")
    # both outcomes are learned at t + horizon (docs/model.md "Label timing"): the lapse at
    # T0 + 20 days is decided then, but learning it earlier than the stayed labels would tie
    # the training stream to time
    assert lapse_due == T0 + 30 * DAY
    learner = await started(db)

    await set_watermark(db, T0 + 19 * DAY, lag=30)  # the slowest partition decides
    assert (await learner.cycle()).learned == 0
    assert await labels(db) == {k: (None, None) for k in ("cancelled", "active", "lapsed")}

    await set_watermark(db, T0 + 20 * DAY)  # the lapse happened, its label is not due yet
    assert (await learner.cycle()).learned == 0
    assert await labels(db) == {k: (None, None) for k in ("cancelled", "active", "lapsed")}

    await set_watermark(db, T0 + 30 * DAY - timedelta(seconds=1))
    assert (await learner.cycle()).learned == 0
    await set_watermark(db, T0 + 30 * DAY)
    assert (await learner.cycle()).learned == 3
    assert await labels(db) == {
        "cancelled": (1, False),
        "active": (0, False),
        "lapsed": (1, False),
    }
    assert await scalar(db, "SELECT count(*) FROM label_snapshots WHERE resolved_at IS NULL") == 0
    await learner.close()


async def test_subscription_labels_follow_the_end_not_the_message(db: AsyncEngine) -> None:
    """Labels at the effective time (issue 13): an expiry within the horizon is a churn, a
    cancellation that takes effect after it is not, an end effective before the snapshot (but
    reported after it) leaves the snapshot unlabelled."""

    def ending(customer: str, kind: EventType, sent: datetime, effective: datetime) -> list[Any]:
        first = event(customer, EventType.SUBSCRIPTION_STARTED, T0 - 40 * DAY, 0, trial=False)
        return [first, event(customer, kind, sent, 1, effective_at=iso(effective))]

    expired = ending("expired", EventType.SUBSCRIPTION_EXPIRED, T0 + 21 * DAY, T0 + 20 * DAY)
    late_end = ending("late_end", EventType.SUBSCRIPTION_CANCELLED, T0 + 25 * DAY, T0 + 35 * DAY)
    gone = ending("gone", EventType.SUBSCRIPTION_EXPIRED, T0 + DAY, T0 - DAY)
    for customer, events in (("expired", expired), ("late_end", late_end), ("gone", gone)):
        await seed_customer(db, customer, events, kind="subscription")
    learner = await started(db)
    await set_watermark(db, T0 + 30 * DAY)
    report = await learner.cycle()
    assert (report.learned, report.skipped) == (2, 1)
    assert await labels(db) == {
        "expired": (1, False),
        "late_end": (0, False),
        "gone": (None, None),
    }
    assert await scalar(db, "SELECT count(*) FROM label_snapshots WHERE resolved_at IS NULL") == 0
    await learner.close()


@pytest.mark.parametrize("policy", [TreatmentPolicy.EXCLUDE, TreatmentPolicy.INDICATOR])
async def test_treated_customers_are_marked_and_handled_per_policy(
    db: AsyncEngine, policy: TreatmentPolicy
) -> None:
    for customer in ("treated", "untreated"):
        events = subscriber_events(customer, cancel_at=None, sessions=3)
        await seed_customer(db, customer, events, kind="subscription")
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO treatments (action_id, customer_id, action_type, issued_at) "
                "VALUES ('A-1', 'treated', 'save_call', :at)"
            ),
            {"at": T0 + 2 * DAY},
        )
    learner = await started(db, treatment=policy)
    await set_watermark(db, T0 + 30 * DAY)
    assert (await learner.cycle()).learned == 2
    assert await labels(db) == {"treated": (0, True), "untreated": (0, False)}
    quality = await scalar(db, "SELECT quality FROM model_checkpoints")
    if policy is TreatmentPolicy.EXCLUDE:
        assert (quality["labels"], quality["skipped_treated"]) == (1, 1)
    else:
        assert (quality["labels"], quality["skipped_treated"]) == (2, 0)
    await learner.close()


async def test_checkpoint_and_switch_to_the_learned_model(db: AsyncEngine) -> None:
    n = await seed_population(db, 60)
    learner = await started(db)
    await set_watermark(db, T0 + 30 * DAY)
    report = await learner.cycle()
    assert report.learned == n
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT model_version, serving, labels_seen, quality FROM model_checkpoints")
            )
        ).one()
        records = (await conn.execute(text("SELECT kind, detail FROM model_records"))).all()
    assert row.labels_seen == n
    assert row.quality["labels"] == n
    assert row.quality["positives"] == 20
    assert row.quality["champion"]["auc"] is not None
    serving = ServingModel.from_bytes(row.serving)
    assert serving.version == row.model_version != "prior-v1"
    assert [r.kind for r in records].count("switched_to_learned") == 1
    switched = next(r.detail for r in records if r.kind == "switched_to_learned")
    assert switched["labels"] >= 40
    assert switched["version"].startswith("sgd.g1.")
    await learner.close()


# -- one learner at a time ----------------------------------------------------------------


async def test_two_learners_only_one_learns_the_other_takes_over(db: AsyncEngine) -> None:
    n = await seed_population(db, 30)
    a, b = Learner(db, settings(db)), Learner(db, settings(db))
    stop = asyncio.Event()
    task_a = asyncio.create_task(a.run(stop))
    while not a.leader:
        await asyncio.sleep(0.01)
    task_b = asyncio.create_task(b.run(stop))
    await set_watermark(db, T0 + 30 * DAY)
    for _ in range(200):
        if await scalar(db, "SELECT count(*) FROM label_snapshots WHERE label IS NULL") == 0:
            break
        await asyncio.sleep(0.05)
    with pytest.raises(NotLeader):
        await b.cycle()
    assert not b.leader
    stop.set()
    await asyncio.gather(task_a, task_b)
    assert (a.labels_learned, b.labels_learned) == (n, 0)

    c = await started(db)  # the lock was released: a standby takes over from the checkpoint
    assert c.state is not None
    assert c.state.labels == n
    assert (await c.cycle()).learned == 0
    await c.close()


async def test_a_crash_before_commit_learns_nothing_twice(db: AsyncEngine) -> None:
    await seed_population(db, 24, prefix="A")
    learner = await started(db)
    await set_watermark(db, T0 + 30 * DAY)
    assert (await learner.cycle()).learned == 24
    await seed_population(db, 30, prefix="B")  # snapshots one day later: due a day later
    async with db.begin() as conn:
        await conn.execute(
            text(
                "UPDATE label_snapshots SET label_due_at = label_due_at + '1 day'"
                " WHERE customer_id LIKE 'B-%'"
            )
        )

    async def crash() -> None:
        raise RuntimeError("killed between learning and commit")

    learner.before_commit = crash
    await set_watermark(db, T0 + 31 * DAY)
    with pytest.raises(RuntimeError, match="killed"):
        await learner.cycle()
    assert await scalar(db, "SELECT count(*) FROM label_snapshots WHERE label IS NULL") == 30
    await learner.close()

    restarted = await started(db)
    assert restarted.state is not None
    assert restarted.state.labels == 24  # the last checkpoint, not the crashed cycle's state
    assert (await restarted.cycle()).learned == 30
    labelled = await scalar(db, "SELECT count(*) FROM label_snapshots WHERE label IS NOT NULL")
    seen = await scalar(db, "SELECT labels_seen FROM model_checkpoints ORDER BY version DESC")
    state = ModelState.from_bytes(
        await scalar(db, "SELECT state FROM model_checkpoints ORDER BY version DESC LIMIT 1")
    )
    assert labelled == seen == state.labels + state.skipped_treated == 54
    await restarted.close()


# -- CLV ----------------------------------------------------------------------------------


async def seed_retail_stats(db: AsyncEngine, n: int, seed: int = 11) -> list[RetailStats]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        first = date(2024, 1, 1) + timedelta(days=int(rng.integers(0, 300)))
        stats = None
        day = first
        while day <= date(2025, 3, 1):
            stats = update(stats, day, Decimal(str(round(float(rng.gamma(6, 5)), 2))))
            day += timedelta(days=int(rng.geometric(1 / 40)))
            if rng.random() < 0.05:
                break
        assert stats is not None
        out.append(stats)
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customer_profiles (customer_id, partition, state, retail_stats, "
                "updated_at) VALUES (:c, 0, :s, :r, now())"
            ),
            [
                {"c": f"R-{k:04d}", "s": CustomerProfile().to_bytes(), "r": pickle.dumps(s)}
                for k, s in enumerate(out)
            ],
        )
    return out


async def test_clv_refit_writes_params_of_a_direct_fit(db: AsyncEngine) -> None:
    stats = await seed_retail_stats(db, 400)
    await set_watermark(db, T0)
    learner = await started(db, clv_min_customers=500, clv_chunk=64)
    assert await learner.refit_clv(force=True) is None  # too few customers: no row
    assert await scalar(db, "SELECT count(*) FROM clv_params") == 0
    learner.settings = settings(db, clv_min_customers=200, clv_chunk=64)
    assert await learner.refit_clv(force=True) is not None
    async with db.connect() as conn:
        row = (
            await conn.execute(text("SELECT customers, bgnbd, gamma_gamma FROM clv_params"))
        ).one()
    x, recency, age, m = np.array([observe(s, T0) for s in stats], dtype=float).T
    direct_bg, direct_gg = fit_bgnbd(x, recency, age), fit_gamma_gamma(x, m)
    assert row.customers == 400
    stored_bg = [row.bgnbd[k] for k in ("r", "alpha", "a", "b")]
    stored_gg = [row.gamma_gamma[k] for k in ("p", "q", "v")]
    np.testing.assert_allclose(stored_bg, direct_bg.params.as_array(), rtol=1e-9)
    np.testing.assert_allclose(
        stored_gg, [direct_gg.params.p, direct_gg.params.q, direct_gg.params.v], rtol=1e-9
    )
    assert np.array(row.bgnbd["log_cov"]).shape == (4, 4)
    assert await learner.refit_clv() is None  # not due again right away
    await learner.close()


# -- the process ----------------------------------------------------------------------------


async def test_the_module_runs_learns_and_stops_on_sigterm(db: AsyncEngine) -> None:
    n = await seed_population(db, 12)
    await set_watermark(db, T0 + 30 * DAY)
    env = {
        **os.environ,
        "DATABASE_URL": db.url.render_as_string(hide_password=False),
        "CW_LEARNER_GROUP_ID": GROUP,
        "CW_LEARNER_CHECKPOINT_EVERY_S": "0",
        "CW_LEARNER_POLL_S": "0.1",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "churnwatch_scoring.learner",
        cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(300):
            if await scalar(db, "SELECT max(labels_seen) FROM model_checkpoints") == n:
                break
            await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()[-2000:]
    logs = [orjson.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert "learner active" in [entry["msg"] for entry in logs]
    assert await scalar(db, "SELECT count(*) FROM label_snapshots WHERE label IS NULL") == 0
