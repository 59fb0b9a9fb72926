"""A crafted score stream on the real broker and database produces exactly the expected tasks,
actions, exposures and suppressions — and repeating scores adds nothing."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import default_playbooks, in_holdout
from churnwatch.profile import CustomerProfile
from churnwatch_runtime.worker import MSG_ID_HEADER
from tests.integration.alerts.support import (
    T0,
    add_endpoint,
    consenting,
    prepare,
    produce_scores,
    rows,
    run_alerts,
    score,
)
from tests.integration.worker.support import header, read_topic
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration
HOLDOUT = {pb.id: pb.holdout for pb in default_playbooks()}


def pick(prefix: str, playbook: str, *, control: bool) -> str:
    """A customer id on the wanted side of ``playbook``'s holdout (found, not assumed)."""
    ids = (f"{prefix}-{i}" for i in itertools.count())
    return next(c for c in ids if in_holdout(c, playbook, HOLDOUT[playbook]) == control)


async def test_a_score_stream_makes_exactly_the_expected_tasks_and_actions(
    db: AsyncEngine, kafka: Broker, topic_factory: Callable[..., Awaitable[str]]
) -> None:
    run = unique("w")
    vip = pick(f"{run}-vip", "save_call_vip", control=False)
    gold = pick(f"{run}-gold", "save_call_vip", control=False)
    bronze = pick(f"{run}-bronze", "offer_at_risk", control=False)
    erased = pick(f"{run}-erased", "save_call_vip", control=False)
    held = pick(f"{run}-held", "save_call_vip", control=True)
    profiles: dict[str, CustomerProfile] = {c: consenting() for c in (vip, gold, bronze, held)}
    profiles[erased] = consenting(erased=True)
    await prepare(db, profiles)
    await add_endpoint(db, "crm", "http://127.0.0.1:9/never", "s")  # deliveries only, no loop
    first = [
        score(vip, 0, 1, value_at_risk=800.0),
        score(gold, 0, 1, tier="gold", value_at_risk=300.0, band="critical"),
        score(bronze, 0, 1, tier="bronze", value_at_risk=40.0),
        score(erased, 0, 1),
        score(held, 0, 1),
    ]
    repeats = [*first, *(score(c, 1, 2) for c in (vip, bronze, held))]  # same, then same band
    scores, actions = await topic_factory("al.scores"), await topic_factory("al.actions")
    total = await produce_scores(kafka.bootstrap, scores, [*first, *repeats])
    group = unique("g")
    processor = await run_alerts(db, bootstrap=kafka.bootstrap, topic=scores, actions=actions,
                                 group=group, total=total)  # fmt: skip

    tasks = {r["customer_id"]: r for r in await rows(db, "SELECT * FROM tasks")}
    assert set(tasks) == {vip, gold}
    assert tasks[vip]["priority"] == 800.0
    assert tasks[gold]["priority"] == 300.0
    assert tasks[vip]["sla_due_at"] == T0 + timedelta(hours=4)  # platinum first
    assert tasks[gold]["sla_due_at"] == T0 + timedelta(hours=8)
    assert tasks[vip]["state"] == "open"
    assert tasks[vip]["team"] == "save-team"
    assert tasks[vip]["reasons"] == ["NPS 3"]
    assert len(tasks[vip]["talking_points"]) == 3
    audit = await rows(db, "SELECT task_id, from_state, to_state FROM task_audit")
    assert sorted(a["task_id"] for a in audit) == sorted(t["task_id"] for t in tasks.values())

    records = await read_topic(kafka.bootstrap, actions, at_least=3)
    sent = {header(r, MSG_ID_HEADER): orjson.loads(r.value) for r in records}
    by_customer = {d["customer_id"]: d for d in sent.values()}
    assert set(by_customer) == {vip, gold, bronze}
    assert by_customer[bronze]["action_type"] == "offer"
    assert by_customer[vip]["action_type"] == "save_call"
    assert by_customer[vip]["action_id"] == tasks[vip]["task_id"]
    assert all(d["action_id"] == mid for mid, d in sent.items())

    treatments = await rows(db, "SELECT action_id FROM treatments")
    assert {t["action_id"] for t in treatments} == set(sent)
    deliveries = await rows(db, "SELECT action_id, status, body FROM webhook_deliveries")
    assert sorted(d["action_id"] for d in deliveries) == sorted(sent)
    assert all(orjson.loads(d["body"]) == sent[d["action_id"]] for d in deliveries)

    exposures = await rows(db, "SELECT customer_id, arm, playbook_id FROM exposures")
    assert sorted((e["customer_id"], e["arm"]) for e in exposures) == sorted(
        [(vip, "treated"), (gold, "treated"), (bronze, "treated"), (held, "control")]
    )
    suppressions = await rows(db, "SELECT customer_id, reason FROM suppressions")
    assert [(s["customer_id"], s["reason"]) for s in suppressions] == [(erased, "erased")]
    assert processor.metrics.skipped._value.get() == len(first)  # the re-published scores
    assert len(processor.metrics.render()) > 0


async def _insert_then_fail(db: AsyncEngine) -> None:
    from churnwatch_runtime.db import raw_connection as raw

    async with db.begin() as conn:
        pg = await raw(conn)
        await pg.execute("INSERT INTO webhook_endpoints (id, url, secret) VALUES ('x', 'u', 's')")
        raise RuntimeError("roll back")


async def test_raw_statements_run_inside_the_batch_transaction(db: AsyncEngine) -> None:
    with pytest.raises(RuntimeError, match="roll back"):
        await _insert_then_fail(db)
    assert await rows(db, "SELECT id FROM webhook_endpoints WHERE id = 'x'") == []
