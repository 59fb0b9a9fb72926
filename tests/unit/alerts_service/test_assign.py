"""Task assignment inside `plan_batch`: round robin, by tier, capacity, release, determinism."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from churnwatch.alerts import Agent, Playbook, parse_playbooks
from churnwatch.messages import decode_score
from churnwatch.profile import CustomerProfile
from churnwatch_alerts import (
    AlertsSettings,
    CustomerState,
    Plan,
    PlanConfig,
    Roster,
    ScoreIn,
    assign_policy,
    plan_batch,
    task_teams,
)
from tests.unit.alerts.support import score

T = datetime(2026, 3, 10, tzinfo=UTC)
YAML = """
playbooks:
  - id: call_rr
    version: 1
    name: Round robin
    trigger: {type: band_entered, bands: [high, critical]}
    condition: {field: business_model, op: eq, value: retail}
    action: {type: save_call, team: save-team}
    holdout: 0
  - id: call_tier
    version: 1
    name: By tier
    trigger: {type: band_entered, bands: [high, critical]}
    condition: {field: business_model, op: eq, value: subscription}
    action: {type: save_call, team: save-team, params: {assign: by_tier}}
    holdout: 0
"""
PLAYBOOKS: dict[str, Playbook] = {pb.id: pb for pb in parse_playbooks(YAML)}
CFG = PlanConfig(actions_topic="actions")


def consenting() -> CustomerProfile:
    return CustomerProfile(consent_phone=1, consent_phone_at=1)


def scores(*specs: tuple[str, str, str]) -> list[ScoreIn]:
    """``(customer, tier, business model)`` entering the high band one hour apart."""
    out = []
    for i, (customer, tier, model) in enumerate(specs):
        at = T + timedelta(hours=i)
        doc = score(customer_id=customer, event_time=at.isoformat(), tier=tier,
                    business_model=model, cause_event_id=f"{customer}-e{i}")  # fmt: skip
        out.append(ScoreIn(f"score:{customer}:{i}", decode_score(doc)))
    return out


def states(batch: Sequence[ScoreIn]) -> dict[str, CustomerState]:
    return {s.customer_id: CustomerState(profile=consenting()) for s in batch}


def team(**capacity: int) -> list[Agent]:
    """save-team: ann (senior), bob, cy; ``capacity`` overrides max_open (default 20)."""
    return [Agent(a, "save-team", senior=a == "ann", capacity=capacity.get(a, 20))
            for a in ("ann", "bob", "cy")]  # fmt: skip


def assignees(plan: Plan) -> list[Any]:
    return [t.assignee for t in plan.tasks]


def test_round_robin_goes_round_the_team_by_agent_id_and_skips_an_agent_at_max_open():
    batch = scores(*[(f"R-{i}", "bronze", "retail") for i in range(6)])
    roster = Roster.of(team(bob=1), cursors={"save-team": None})
    plan = plan_batch(batch, states(batch), PLAYBOOKS, CFG, roster)
    assert assignees(plan) == ["ann", "bob", "cy", "ann", "cy", "ann"]
    assert [t.state for t in plan.tasks] == ["assigned"] * 6
    assert roster.cursors == {"save-team": "ann"}
    assert roster.moved == {"save-team"}
    assert roster.load == {"ann": 3, "bob": 1, "cy": 2}
    assert plan.assigned == {"save-team": 6}


def test_every_assignment_has_its_audit_row_after_the_creation_one():
    batch = scores(("R-1", "bronze", "retail"))
    plan = plan_batch(batch, states(batch), PLAYBOOKS, CFG, Roster.of(team()))
    task_id = plan.tasks[0].task_id
    assert plan.audits == [
        (task_id, None, "open", "alerts", None, T),
        (task_id, "open", "assigned", "alerts", "ann", T),
    ]


def test_by_tier_gives_platinum_and_gold_to_the_senior_and_falls_back_when_they_are_full():
    tiers = ("platinum", "bronze", "gold", "platinum")
    batch = scores(*[(f"S-{i}", tier, "subscription") for i, tier in enumerate(tiers)])
    roster = Roster.of(team(ann=2))
    plan = plan_batch(batch, states(batch), PLAYBOOKS, CFG, roster)
    # bronze → the least-loaded standard agent; the senior full at S-4 → any agent with room
    assert assignees(plan) == ["ann", "bob", "ann", "cy"]
    assert roster.moved == set()  # by tier leaves the round-robin cursor alone


def test_without_an_agent_with_room_the_task_stays_open():
    batch = scores(("R-1", "bronze", "retail"), ("R-2", "bronze", "retail"))
    roster = Roster.of([Agent("ann", "save-team", capacity=1)])
    plan = plan_batch(batch, states(batch), PLAYBOOKS, CFG, roster)
    assert [(t.state, t.assignee) for t in plan.tasks] == [("assigned", "ann"), ("open", None)]
    assert plan.unassigned == {"save-team": 1}
    other = Roster.of([Agent("zed", "other-team")])
    batch = scores(("R-3", "gold", "retail"))
    plan = plan_batch(batch, states(batch), PLAYBOOKS, CFG, other)
    assert [(t.state, t.assignee) for t in plan.tasks] == [("open", None)]
    assert len(plan.audits) == 1  # created only


def test_no_roster_or_policy_none_leaves_tasks_open_as_before():
    batch = scores(("R-1", "bronze", "retail"))
    assert [t.state for t in plan_batch(batch, states(batch), PLAYBOOKS, CFG).tasks] == ["open"]
    off = PlanConfig(actions_topic="actions", assign="none")
    plan = plan_batch(batch, states(batch), PLAYBOOKS, off, Roster.of(team()))
    assert [t.assignee for t in plan.tasks] == [None]


def test_an_auto_closed_task_gives_its_agent_room_again():
    first = scores(("R-1", "bronze", "retail"))
    roster = Roster.of([Agent("ann", "save-team", capacity=1)])
    st = states(first) | {"R-2": CustomerState(profile=consenting())}
    plan = plan_batch(first, st, PLAYBOOKS, CFG, roster)
    assert assignees(plan) == ["ann"]
    assert st["R-1"].open_tasks["call_rr"].assignee == "ann"
    later = [
        *scores(*[("R-1", "bronze", "retail")] * 2)[1:],  # R-1 churns an hour later
        *scores(*[("R-2", "bronze", "retail")] * 3)[2:],  # R-2 enters high after that
    ]
    churned = later[0].message.model_copy(update={"lifecycle_stage": "churned"})
    later[0] = replace(later[0], message=churned)
    plan = plan_batch(later, st, PLAYBOOKS, CFG, roster)
    assert plan.closed == {"churned": 1}
    assert assignees(plan) == ["ann"]
    assert roster.load["ann"] == 1


def test_the_assignments_do_not_depend_on_how_the_stream_is_cut_into_batches():
    specs = [(f"C-{i}", ("platinum", "bronze", "gold")[i % 3], ("retail", "subscription")[i % 2])
             for i in range(40)]  # fmt: skip
    batch = scores(*specs)

    def run(size: int) -> list[Any]:
        st, roster = states(batch), Roster.of(team(ann=5, bob=9))
        out: list[Any] = []
        for i in range(0, len(batch), size):
            # a new batch starts from what the last one committed: loads and cursors as stored
            roster = Roster.of(team(ann=5, bob=9), roster.load, roster.cursors)
            out += assignees(plan_batch(batch[i : i + size], st, PLAYBOOKS, CFG, roster))
        return out

    whole = run(len(batch))
    assert whole.count(None) > 0  # some left open
    assert set(whole) == {"ann", "bob", "cy", None}
    assert run(1) == whole
    assert run(7) == whole


def test_policy_comes_from_the_playbook_params_else_the_setting():
    assert assign_policy(PLAYBOOKS["call_tier"], "round_robin") == "by_tier"
    assert assign_policy(PLAYBOOKS["call_rr"], "none") == "none"
    [odd] = parse_playbooks(YAML.replace("assign: by_tier", "assign: bogus"))[1:]
    assert assign_policy(odd, "round_robin") == "round_robin"
    assert task_teams(PLAYBOOKS.values()) == ["save-team"]


def test_the_setting_reaches_the_plan_config(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CW_ALERTS_ASSIGN_POLICY", "by_tier")
    assert AlertsSettings().alerts_config().plan.assign == "by_tier"
    monkeypatch.setenv("CW_ALERTS_ASSIGN_POLICY", "random")
    with pytest.raises(ValidationError):
        AlertsSettings()
