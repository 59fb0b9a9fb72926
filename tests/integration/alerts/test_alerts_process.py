"""SIGKILL ``python -m churnwatch_alerts`` mid-stream and restart it: the tasks, actions,
exposures, suppressions and webhook deliveries are exactly what one pass of the pure planner
over the whole stream gives — nothing twice, nothing missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import default_playbooks
from churnwatch.messages import decode_score
from churnwatch_alerts import CustomerState, PlanConfig, ScoreIn, plan_batch
from churnwatch_runtime.infra._proc import free_port
from churnwatch_runtime.worker import MSG_ID_HEADER
from tests.integration.alerts.support import (
    Receiver,
    add_endpoint,
    consenting,
    msg_id,
    prepare,
    produce_scores,
    rows,
    score,
    serve,
)
from tests.integration.scoring.support import consumed
from tests.integration.worker.support import header, read_topic, wait_until
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
CUSTOMERS = 500
TIERS = ("platinum", "gold", "silver", "bronze")
BANDS = ("high", "low", "critical", "medium", "high")


def stream(prefix: str) -> list[dict[str, Any]]:
    """Band entries, exits and re-entries 20 days apart (some inside cooldowns, some after),
    the last one churned for every fifth customer (auto-close)."""
    docs = []
    for k, band in enumerate(BANDS):
        for c in range(CUSTOMERS):
            extra = {"lifecycle_stage": "churned"} if k == len(BANDS) - 1 and c % 5 == 0 else {}
            docs.append(score(f"{prefix}-{c}", k * 24 * 20 + c / 100, k, band=band,
                              tier=TIERS[c % 4], value_at_risk=10.0 + c, **extra))  # fmt: skip
    return docs


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "churnwatch_alerts"], cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip


async def test_sigkill_mid_stream_then_restart_duplicates_nothing(
    db: AsyncEngine, fresh_database: str, kafka: Broker,
    topic_factory: Callable[..., Awaitable[str]], tmp_path: Path,
) -> None:  # fmt: skip
    prefix = unique("k")
    docs = stream(prefix)
    profiles = {f"{prefix}-{c}": consenting() for c in range(CUSTOMERS)}
    await prepare(db, profiles)
    scores, actions = await topic_factory("al.p.scores"), await topic_factory("al.p.actions")
    total = await produce_scores(kafka.bootstrap, scores, docs)
    group = unique("g")
    env = {
        "CW_KAFKA_BOOTSTRAP": kafka.bootstrap, "DATABASE_URL": fresh_database,
        "CW_TOPIC_SCORES": scores, "CW_TOPIC_ACTIONS": actions, "CW_ALERTS_GROUP_ID": group,
        "CW_ALERTS_PORT": str(free_port()), "CW_ALERTS_MAX_RECORDS": "150",
        "CW_ALERTS_WEBHOOK_BACKOFF_BASE_S": "0.05", "CW_ALERTS_WEBHOOK_BACKOFF_CAP_S": "0.5",
        "CW_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    receiver = Receiver(secret="hook-secret", fail_first=1)
    log = tmp_path / "alerts.log"
    with serve(receiver) as url:
        await add_endpoint(db, "crm", url, receiver.secret)
        first = spawn(env, log)
        try:
            await wait_until(lambda: _reached(db, group, total // 3), timeout=120, every=0.02)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        at_kill = await consumed(db, group)
        assert 0 < at_kill < total, f"the kill must land mid-stream, committed {at_kill}"
        second = spawn(env, log)
        try:
            await wait_until(lambda: _settled(db, group, total), timeout=180, every=0.2)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(60)
        assert second.returncode == 0, log.read_text()[-3000:]

    # the oracle: one pass of the pure planner over the whole stream
    states = {c: CustomerState(profile=p) for c, p in profiles.items()}
    parsed = [ScoreIn(msg_id(d), decode_score(d)) for d in docs]
    plan = plan_batch(parsed, states, {pb.id: pb for pb in default_playbooks()},
                      PlanConfig(actions_topic=actions))  # fmt: skip
    expected_actions = {m.msg_id or "" for m in plan.actions}
    assert len(plan.tasks) > 50
    assert len(expected_actions) > 500
    assert plan.closed

    tasks = {r["task_id"]: r["state"] for r in await rows(db, "SELECT task_id, state FROM tasks")}
    expected_tasks = {t.task_id: "open" for t in plan.tasks}
    expected_tasks.update({k: v[0] for k, v in plan.task_updates.items()})
    assert tasks == expected_tasks
    treatments = await rows(db, "SELECT action_id FROM treatments")
    assert sorted(t["action_id"] for t in treatments) == sorted(expected_actions)
    exposures = await rows(db, "SELECT action_id, arm FROM exposures")
    assert sorted((e["action_id"], e["arm"]) for e in exposures) == sorted(
        (e.action_id, e.arm) for e in plan.exposures
    )
    suppressions = await rows(db, "SELECT action_id, reason FROM suppressions")
    assert sorted((s["action_id"], s["reason"]) for s in suppressions) == sorted(
        {(s[0], s[4]) for s in plan.suppressions}
    )
    audit = await rows(db, "SELECT count(*) AS n FROM task_audit")
    assert audit[0]["n"] == len(plan.audits)

    deliveries = await rows(db, "SELECT action_id, status FROM webhook_deliveries")
    assert sorted(d["action_id"] for d in deliveries) == sorted(expected_actions)
    dead = await rows(db, "SELECT action_id, last_error FROM webhook_deliveries"
                          " WHERE status = 'dead' LIMIT 3")  # fmt: skip
    assert {d["status"] for d in deliveries} == {"delivered"}, dead
    delivered = receiver.delivered()
    assert set(delivered) == expected_actions
    assert all(ok for _, _, ok, _ in receiver.requests)

    records = await read_topic(kafka.bootstrap, actions, at_least=len(expected_actions))
    values: dict[str, set[bytes]] = defaultdict(set)
    for r in records:
        values[header(r, MSG_ID_HEADER)].add(r.value)
    assert set(values) == expected_actions
    assert all(len(v) == 1 for v in values.values())  # a re-sent id carries the same action
    assert {m.msg_id: m.value for m in plan.actions} == {k: v.pop() for k, v in values.items()}
    print(
        f"killed at {at_kill}/{total}; actions {len(expected_actions)}, messages {len(records)},"
        f" webhook successes {sum(delivered.values())}, tasks {len(tasks)}"
    )


async def _reached(db: AsyncEngine, group: str, n: int) -> bool:
    return await consumed(db, group) >= n


async def _settled(db: AsyncEngine, group: str, total: int) -> bool:
    left = await rows(db, "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM"
                          " webhook_deliveries WHERE status = 'pending') AS n")  # fmt: skip
    return await consumed(db, group) >= total and left[0]["n"] == 0
