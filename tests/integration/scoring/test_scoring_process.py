"""The process test: SIGKILL ``python -m churnwatch_scoring`` mid-stream, restart, and compare
with a clean run of the same events (separate topic, group and customer ids, same database)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.profile import CustomerProfile
from churnwatch_runtime.infra._proc import free_port
from churnwatch_runtime.worker import MSG_ID_HEADER
from tests.integration.scoring.support import (
    EventFactory,
    by_customer,
    consumed,
    produce_events,
    rows,
)
from tests.integration.scoring.test_scoring_worker import same_events
from tests.integration.worker.support import header, read_topic, wait_until
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CUSTOMERS = 300
DAYS = 20


def history(f: EventFactory, prefix: str) -> list[dict[str, Any]]:
    events = []
    for day in range(DAYS):
        for c in range(CUSTOMERS):
            who = f"{prefix}:{c}"
            events.append(f.session(who, day + c / CUSTOMERS))
            if (c + day) % 4 == 0:
                events.append(f.purchase(who, day + 0.5 + c / CUSTOMERS / 2))
            if c % 17 == 0 and day % 6 == 0:
                events.append(f.complaint(who, day + 0.7, f"CMP-{day}"))
    return events


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "churnwatch_scoring"], cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip


def environment(bootstrap: str, url: str, events: str, scores: str, group: str) -> dict[str, str]:
    return {
        "CW_KAFKA_BOOTSTRAP": bootstrap, "DATABASE_URL": url, "CW_TOPIC_EVENTS": events,
        "CW_TOPIC_SCORES": scores, "CW_SCORING_GROUP_ID": group,
        "CW_SCORING_PORT": str(free_port()), "CW_SCORING_MAX_RECORDS": "300",
        "CW_SCORING_SILENCE": "false", "CW_LOG_LEVEL": "WARNING",
    }  # fmt: skip


async def run_service(
    db: AsyncEngine, env: dict[str, str], total: int, log: Path, *, kill_at: int | None
) -> int | None:
    at_kill = None
    group = env["CW_SCORING_GROUP_ID"]
    if kill_at is not None:
        first = spawn(env, log)
        try:
            await wait_until(lambda: _reached(db, group, kill_at), timeout=120, every=0.02)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        at_kill = await consumed(db, group)
    proc = spawn(env, log)
    try:
        await wait_until(lambda: _done(db, group, total), timeout=180, every=0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert proc.returncode == 0, log.read_text()[-3000:]
    return at_kill


async def _reached(db: AsyncEngine, group: str, n: int) -> bool:
    return await consumed(db, group) >= n


async def _done(db: AsyncEngine, group: str, total: int) -> bool:
    left = await rows(db, "SELECT count(*) AS n FROM outbox")
    return await consumed(db, group) >= total and left[0]["n"] == 0


async def test_sigkill_mid_stream_then_restart_matches_a_clean_run(
    db: AsyncEngine,
    fresh_database: str,
    kafka: Broker,
    topic_factory: Callable[..., Awaitable[str]],
    tmp_path: Path,
) -> None:
    base = history(EventFactory(unique("e")), "c")  # same event ids in both runs
    results = []
    for run, kill_at in (("clean", None), ("killed", 2500)):
        # one partition: the clock is per partition, and the runs' customer ids hash differently
        events_topic = await topic_factory("sc.proc", partitions=1)
        scores_topic = await topic_factory("sc.proc.scores")
        events = [{**e, "customer_id": e["customer_id"].replace("c:", f"{run}:", 1)} for e in base]
        total = await produce_events(kafka.bootstrap, events_topic, events)
        env = environment(kafka.bootstrap, fresh_database, events_topic, scores_topic, unique("g"))
        at_kill = await run_service(db, env, total, tmp_path / f"{run}.log", kill_at=kill_at)
        if kill_at is not None:
            assert at_kill is not None
            assert 0 < at_kill < total, f"the kill must land mid-stream, committed {at_kill}"
        like = {"p": f"{run}:%"}
        latest = by_customer(
            await rows(db, "SELECT * FROM latest_scores WHERE customer_id LIKE :p", **like)
        )
        profiles = by_customer(
            await rows(db, "SELECT * FROM customer_profiles WHERE customer_id LIKE :p", **like)
        )
        n_scores = (
            await rows(
                db, "SELECT count(*) AS n FROM latest_scores WHERE customer_id LIKE :p", **like
            )
        )[0]["n"]
        records = await read_topic(kafka.bootstrap, scores_topic, at_least=n_scores, timeout=120)
        results.append((latest, profiles, records))
        await asyncio.sleep(0)

    (clean_latest, clean_profiles, _), (killed_latest, killed_profiles, records) = results
    assert len(clean_latest) == len(killed_latest) == CUSTOMERS
    # customer ids differ between the runs, hence their partitions (a hash of the key)
    skip = {"customer_id", "partition", "tier", "rfm_segment", "lifecycle_stage", "updated_at"}
    for c in range(CUSTOMERS):
        a, b = clean_latest[f"clean:{c}"], killed_latest[f"killed:{c}"]
        # floats to 1e-9: the batched CLV (numpy) may differ in the last digit with the
        # customer's position in the batch, which depends on where batches were cut
        assert {k: _approx(v) for k, v in a.items() if k not in skip} == {
            k: v for k, v in b.items() if k not in skip
        }
        pa, pb = clean_profiles[f"clean:{c}"], killed_profiles[f"killed:{c}"]
        assert pa["retail_stats"] == pb["retail_stats"]
        assert same_events(
            CustomerProfile.from_bytes(pa["state"]), CustomerProfile.from_bytes(pb["state"])
        )

    values: dict[str, set[bytes]] = defaultdict(set)
    last: dict[str, dict[str, Any]] = {}
    for r in records:
        values[header(r, MSG_ID_HEADER)].add(r.value)
        doc = orjson.loads(r.value)
        if doc["event_time"] >= last.get(doc["customer_id"], {}).get("event_time", ""):
            last[doc["customer_id"]] = doc
    assert all(len(v) == 1 for v in values.values())  # a re-published id carries the same score
    for customer, doc in last.items():  # the newest message per customer is the latest score
        assert doc["churn_probability"] == pytest.approx(
            killed_latest[customer]["churn_probability"]
        )
        assert doc["cause_event_id"] == killed_latest[customer]["cause_event_id"]
    print(f"messages: {len(records)}, distinct ids: {len(values)}")


def _approx(value: Any) -> Any:
    return pytest.approx(value, rel=1e-9, abs=1e-12) if isinstance(value, float) else value
