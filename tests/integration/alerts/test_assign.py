"""Task assignment on the real broker and database: three agents in two teams (one senior),
two runs of the service over one score stream (the round-robin cursors and the loads carry
over through the database); the assignments equal one pass of the pure planner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import Agent
from churnwatch.messages import decode_score
from churnwatch_alerts import CustomerState, PlanConfig, Roster, ScoreIn, plan_batch
from churnwatch_alerts.playbooks import parse_playbooks_from_yaml
from tests.integration.alerts.support import (
    consenting,
    msg_id,
    prepare,
    produce_scores,
    rows,
    run_alerts,
    score,
)
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration


def playbook(pid: str, band: str, model: str | None, team: str, **params: str) -> str:
    doc: dict[str, Any] = {
        "id": pid, "version": 1, "name": pid, "holdout": 0,
        "trigger": {"type": "band_entered", "bands": [band]},
        "action": {"type": "save_call", "team": team, "params": params},
    }  # fmt: skip
    if model:
        doc["condition"] = {"field": "business_model", "op": "eq", "value": model}
    return yaml.safe_dump(doc)


PLAYBOOKS = [
    playbook("call_rr", "high", "retail", "save-team"),  # the default policy: round robin
    playbook("call_tier", "high", "subscription", "save-team", assign="by_tier"),
    playbook("care_call", "critical", None, "care"),
]
AGENTS = [  # (id, team, seniority, max_open)
    ("ann", "save-team", "senior", 10),
    ("bob", "save-team", "standard", 2),
    ("cy", "care", "standard", 1),
]


def stream(run: str) -> list[dict[str, Any]]:
    """One new task per score, an hour apart: (customer, tier, business model, band)."""
    specs = [
        ("R1", "bronze", "retail", "high"), ("R2", "bronze", "retail", "high"),
        ("S1", "platinum", "subscription", "high"), ("R3", "silver", "retail", "high"),
        ("K1", "gold", "retail", "critical"),
        ("R4", "bronze", "retail", "high"),  # ---- first run ends here
        ("R5", "bronze", "retail", "high"), ("R6", "bronze", "retail", "high"),
        ("S2", "platinum", "subscription", "high"), ("S3", "bronze", "subscription", "high"),
        ("K2", "bronze", "retail", "critical"),
    ]  # fmt: skip
    return [
        score(f"{run}-{c}", hours, 1, tier=tier, business_model=model, band=band)
        for hours, (c, tier, model, band) in enumerate(specs)
    ]


async def seed(db: AsyncEngine, customers: list[str]) -> None:
    await prepare(db, {c: consenting() for c in customers})
    async with db.begin() as conn:
        await conn.execute(text("UPDATE playbooks SET enabled = false"))
        await conn.execute(
            text("INSERT INTO playbooks (id, version, yaml, enabled, loaded_at)"
                 " VALUES (:id, 1, :y, true, now())"),
            [{"id": yaml.safe_load(y)["id"], "y": y} for y in PLAYBOOKS],
        )  # fmt: skip
        await conn.execute(
            text("INSERT INTO agents (agent_id, team, seniority, max_open)"
                 " VALUES (:a, :t, :s, :m)"),
            [{"a": a, "t": t, "s": s, "m": m} for a, t, s, m in AGENTS],
        )  # fmt: skip


async def test_tasks_are_assigned_round_robin_by_tier_and_within_capacity(
    db: AsyncEngine, kafka: Broker, topic_factory: Callable[..., Awaitable[str]]
) -> None:
    run = unique("as")
    docs = stream(run)
    await seed(db, [d["customer_id"] for d in docs])
    scores = await topic_factory("al.as.scores", partitions=1)  # one order for the round robin
    actions = await topic_factory("al.as.actions")
    group = unique("g")
    for part in (docs[:6], docs[6:]):  # two processes' worth: state carried by the database
        await produce_scores(kafka.bootstrap, scores, part)
        total = docs.index(part[-1]) + 1
        await run_alerts(db, bootstrap=kafka.bootstrap, topic=scores, actions=actions,
                         group=group, total=total)  # fmt: skip

    tasks = await rows(db, "SELECT task_id, customer_id, team, state, assignee FROM tasks"
                           " ORDER BY created_at")  # fmt: skip
    got = {t["customer_id"].removeprefix(f"{run}-"): t["assignee"] for t in tasks}
    # round robin by agent id (ann, bob, ann, …) skipping bob once he holds max_open = 2;
    # the senior takes platinum, and bronze too once the only standard agent is full;
    # care has one agent with room for one task: the second stays open
    assert got == {
        "R1": "ann", "R2": "bob", "S1": "ann", "R3": "ann", "K1": "cy", "R4": "bob",
        "R5": "ann", "R6": "ann", "S2": "ann", "S3": "ann", "K2": None,
    }  # fmt: skip
    assert {t["state"] for t in tasks if t["assignee"]} == {"assigned"}
    assert [t["state"] for t in tasks if not t["assignee"]] == ["open"]
    cursors = await rows(db, "SELECT team, last_agent FROM team_cursors ORDER BY team")
    assert [(c["team"], c["last_agent"]) for c in cursors] == [("care", "cy"), ("save-team", "ann")]

    audit = await rows(db, "SELECT task_id, from_state, to_state, actor, assignee FROM task_audit"
                           " WHERE to_state = 'assigned'")  # fmt: skip
    assigned = {t["task_id"]: t["assignee"] for t in tasks if t["assignee"]}
    assert {a["task_id"]: a["assignee"] for a in audit} == assigned
    assert len(audit) == len(assigned)
    assert {(a["from_state"], a["actor"]) for a in audit} == {("open", "alerts")}

    # the oracle: one pass of the pure planner from the seeded state gives the same agents
    roster = Roster.of(Agent(a, t, senior=s == "senior", capacity=m) for a, t, s, m in AGENTS)
    parsed = [ScoreIn(msg_id(d), decode_score(d)) for d in docs]
    plan = plan_batch(parsed, {d["customer_id"]: CustomerState(profile=consenting()) for d in docs},
                      {pb.id: pb for pb in parse_playbooks_from_yaml(PLAYBOOKS)},
                      PlanConfig(actions_topic=actions), roster)  # fmt: skip
    assert {t.task_id: t.assignee for t in plan.tasks} == {
        t["task_id"]: t["assignee"] for t in tasks
    }
