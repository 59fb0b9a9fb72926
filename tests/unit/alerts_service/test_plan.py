"""`plan_batch`: what a batch of scores writes, decided without Kafka or PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from churnwatch.alerts import default_playbooks, due_at, in_holdout
from churnwatch.messages import decode_score
from churnwatch.profile import CustomerProfile
from churnwatch_alerts import (
    CustomerState,
    OpenTask,
    PlanConfig,
    ScoreIn,
    is_stale,
    plan_batch,
    recover_band,
)
from tests.unit.alerts.support import score

PLAYBOOKS = {pb.id: pb for pb in default_playbooks()}
CFG = PlanConfig(actions_topic="actions")
T = datetime(2026, 3, 10, tzinfo=UTC)


def customers(treated: bool, playbook: str = "save_call_vip", n: int = 1) -> list[str]:
    """Customer ids on the given side of ``playbook``'s holdout (found, not assumed)."""
    share = PLAYBOOKS[playbook].holdout
    ids = (f"C-{i}" for i in itertools.count())
    return list(itertools.islice((c for c in ids if in_holdout(c, playbook, share) != treated), n))


def consenting() -> CustomerProfile:
    return CustomerProfile(consent_phone=1, consent_phone_at=1, consent_email=1,
                           consent_email_at=1)  # fmt: skip


def score_in(customer: str, hours: float = 0, **overrides: Any) -> ScoreIn:
    at = T + timedelta(hours=hours)
    doc = score(customer_id=customer, event_time=at.isoformat(), **overrides)
    return ScoreIn(f"score:{customer}:{doc.get('cause_event_id')}:{hours}", decode_score(doc))


def state(**kw: Any) -> CustomerState:
    return CustomerState(profile=kw.pop("profile", consenting()), **kw)


def test_a_platinum_customer_entering_high_risk_gets_a_save_team_task():
    [c] = customers(treated=True)
    plan = plan_batch([score_in(c, band="high", tier="platinum")], {c: state()}, PLAYBOOKS, CFG)
    [task] = plan.tasks
    action_id = task.task_id
    assert (task.customer_id, task.playbook_id) == (c, "save_call_vip")
    assert task.priority == pytest.approx(500.0)  # priority = value at risk
    assert task.sla_due_at == due_at(T, "platinum", {"platinum": 4})
    assert orjson.loads(task.reasons) == ["NPS 3 (detractor)"]
    [message] = plan.actions
    assert (message.topic, message.msg_id, message.key) == ("actions", action_id, c.encode())
    doc = orjson.loads(message.value or b"")
    assert doc["action_type"] == "save_call"
    assert doc["params"]["sla_due_at"].endswith("Z")
    assert plan.deliveries == [(action_id, message.value)]
    assert plan.treatments == [(action_id, c, "save_call", T)]
    assert [e.arm for e in plan.exposures] == ["treated"]
    assert plan.audits == [(action_id, None, "open", "alerts", None, T)]
    assert plan.acted == {("save_call_vip", "save_call"): 1}


def test_a_bronze_customer_at_high_risk_gets_an_offer_and_no_task():
    [c] = customers(treated=True, playbook="offer_at_risk")
    plan = plan_batch([score_in(c, tier="bronze")], {c: state()}, PLAYBOOKS, CFG)
    assert plan.tasks == []
    [message] = plan.actions
    doc = orjson.loads(message.value or b"")
    assert doc["action_type"] == "offer"
    assert doc["params"]["discount_pct"] == 20


def test_a_held_out_customer_is_exposed_as_control_and_gets_nothing():
    [c] = customers(treated=False)
    plan = plan_batch([score_in(c)], {c: state()}, PLAYBOOKS, CFG)
    assert (plan.tasks, plan.actions, plan.treatments, plan.deliveries) == ([], [], [], [])
    [exposure] = plan.exposures
    assert exposure.arm == "control"
    assert plan.controls == {"save_call_vip": 1}
    assert [row[3] for row in plan.contacts] == ["control"]  # counted by the guardrails


def test_an_erased_customer_is_suppressed_with_its_reason():
    [c] = customers(treated=True)
    erased = CustomerProfile(erased=True, consent_phone=1, consent_phone_at=1)
    plan = plan_batch([score_in(c)], {c: state(profile=erased)}, PLAYBOOKS, CFG)
    assert (plan.actions, plan.exposures) == ([], [])
    [row] = plan.suppressions
    assert row[4] == "erased"
    assert c in row[5]


def test_without_consent_or_profile_nothing_is_sent():
    a, b = customers(treated=True, n=2)
    refused = CustomerProfile(consent_phone=0, consent_phone_at=5)
    states = {a: state(profile=refused), b: CustomerState()}
    plan = plan_batch([score_in(a), score_in(b)], states, PLAYBOOKS, CFG)
    assert plan.actions == []
    assert sorted(r[4] for r in plan.suppressions) == ["no_consent", "no_consent"]


def test_a_repeated_score_and_the_next_one_in_the_same_band_do_nothing_more():
    [c] = customers(treated=True)
    first = score_in(c)
    states = {c: state()}
    plan = plan_batch([first, first, score_in(c, 1, cause_event_id="e-2")], states,
                      PLAYBOOKS, CFG)  # fmt: skip
    assert len(plan.actions) == 1
    assert plan.skipped == 1
    again = plan_batch([first], states, PLAYBOOKS, CFG)  # the next batch sees it again
    assert again.actions == []
    assert again.skipped == 1
    assert is_stale(states[c], score_in(c, -1))


def test_a_decided_episode_is_not_decided_again_after_the_state_is_reloaded():
    [c] = customers(treated=True)
    plan = plan_batch([score_in(c)], {c: state()}, PLAYBOOKS, CFG)
    action_id = plan.actions[0].msg_id or ""
    reloaded = state(contacts=[("save_call_vip", T, action_id)])  # band not yet stored
    again = plan_batch([score_in(c)], {c: reloaded}, PLAYBOOKS, CFG)
    assert (again.actions, again.suppressions, again.exposures) == ([], [], [])


def test_a_task_closes_as_recovered_after_the_band_stays_low_long_enough():
    [c] = customers(treated=True)
    task = OpenTask("T-1", "save_call_vip", "assigned", "high", None)
    states = {c: state(open_tasks={"save_call_vip": task}, band="high")}
    day = 24.0
    plan = plan_batch(
        [score_in(c, 1, band="medium", cause_event_id="a"),
         score_in(c, 1 + 3 * day, band="low", cause_event_id="b")],
        states, PLAYBOOKS, CFG,
    )  # fmt: skip
    assert plan.task_updates["T-1"] == ("assigned", None, None, T + timedelta(hours=1))
    assert plan.closed == {}
    later = plan_batch([score_in(c, 1 + 7 * day, band="low", cause_event_id="c")], states,
                       PLAYBOOKS, CFG)  # fmt: skip
    closed_at = T + timedelta(hours=1 + 7 * day)
    assert later.task_updates["T-1"] == ("recovered", closed_at, "recovered",
                                         T + timedelta(hours=1))  # fmt: skip
    assert later.audits == [("T-1", "assigned", "recovered", "alerts", None, closed_at)]
    assert states[c].open_tasks == {}


def test_a_return_to_high_risk_resets_the_recovery_clock():
    [c] = customers(treated=True)
    task = OpenTask("T-1", "save_call_vip", "open", "high", T - timedelta(days=3))
    states = {c: state(open_tasks={"save_call_vip": task}, band="medium")}
    plan = plan_batch([score_in(c, band="critical")], states, PLAYBOOKS, CFG)
    assert plan.task_updates["T-1"] == ("open", None, None, None)
    assert plan.tasks == []  # the open task suppresses a second one
    assert [r[4] for r in plan.suppressions] == ["open_task"]


def test_a_task_closes_as_churned_when_the_customer_churns():
    [c] = customers(treated=True)
    task = OpenTask("T-9", "save_call_vip", "in_progress", "high", None)
    states = {c: state(open_tasks={"save_call_vip": task}, band="high")}
    plan = plan_batch([score_in(c, lifecycle_stage="churned", tier="bronze")], states,
                      PLAYBOOKS, CFG)  # fmt: skip
    assert plan.task_updates["T-9"][0] == "churned"
    assert plan.closed == {"churned": 1}


def test_the_recover_band_is_the_lowest_triggering_band():
    assert recover_band(PLAYBOOKS["save_call_vip"], "medium") == "high"
    assert recover_band(PLAYBOOKS["service_recovery"], "medium") == "medium"


def test_guardrails_see_the_batchs_own_contacts():
    [c] = customers(treated=True, playbook="offer_at_risk")
    cfg = PlanConfig(recover_after=timedelta(days=1))
    states = {c: state()}
    plan = plan_batch(
        [score_in(c, tier="bronze", cause_event_id="a"),
         score_in(c, 2, tier="bronze", band="low", cause_event_id="b"),
         score_in(c, 3, tier="bronze", band="high", cause_event_id="c")],
        states, PLAYBOOKS, cfg,
    )  # fmt: skip
    assert len(plan.actions) == 1
    assert [r[4] for r in plan.suppressions] == ["playbook_cooldown"]


def test_an_episode_outlasting_the_guardrails_horizon_is_still_decided_once():
    """A failed payment left unfixed for months keeps its trigger key (the first failure);
    once the contact log has aged out of the guardrails' horizon, only the exposures tell the
    planner the episode was decided (the bug: a second cw.actions message for one action id)."""
    [c] = customers(treated=True, playbook="billing_outreach")
    failed_at = int((T - timedelta(days=200)).timestamp())
    profile = CustomerProfile(consent_email=1, consent_email_at=1, failures=[failed_at])
    first = plan_batch([score_in(c)], {c: state(profile=profile)}, PLAYBOOKS, CFG)
    [exposure] = [e for e in first.exposures if e.playbook_id == "billing_outreach"]
    later = score_in(c, hours=24 * 120)  # the contact is long outside every cooldown
    again = plan_batch([later], {c: state(profile=profile)}, PLAYBOOKS, CFG)
    assert [e.action_id for e in again.exposures if e.playbook_id == "billing_outreach"] == [
        exposure.action_id
    ]
    remembered = state(profile=profile, decided={exposure.action_id})
    once = plan_batch([later], {c: remembered}, PLAYBOOKS, CFG)
    assert [e for e in once.exposures if e.playbook_id == "billing_outreach"] == []
    assert [m for m in once.actions if m.msg_id == exposure.action_id] == []
