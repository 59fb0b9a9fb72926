"""Facts, triggers, conditions and evaluation of the default playbooks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from churnwatch.alerts import (
    Condition,
    Match,
    default_playbooks,
    evaluate,
    holds,
    parse_playbooks,
    queue_key,
)
from churnwatch.events import EventType
from churnwatch_sim.actions import parse_action

from .support import at, facts, profile

PLAYBOOKS = {pb.id: pb for pb in default_playbooks()}


def matched(f, *, salt: str = "") -> list[str]:
    return [m.playbook_id for m in evaluate(PLAYBOOKS.values(), f, salt=salt)]


def test_facts_from_a_profile_that_lived_through_real_events():
    p = profile(
        (EventType.PURCHASE, 0, {}),
        (EventType.COMPLAINT, 24, {}),
        (EventType.PAYMENT_FAILED, 48, {}),
        (EventType.PAYMENT_FAILED, 60, {"payment_id": "P-2"}),
    )
    f = facts(p, event_time=at(24 + 72).isoformat())
    assert f.purchase_count == 1
    assert f.days_since_first_purchase == pytest.approx(96 / 24)
    assert f.unresolved_complaints == 1
    assert f.unresolved_complaint_age_hours == pytest.approx(72)
    assert f.consecutive_failed_payments == 2
    assert f.first_failed_payment_at == at(48)
    assert f.reasons == ("NPS 3 (detractor)",)


def test_without_a_profile_profile_facts_are_null_and_never_match():
    f = facts()
    assert f.purchase_count is None
    assert f.unresolved_complaint_age_hours is None
    assert not holds(Condition(field="purchase_count", op="ge", value=0), f)
    assert holds(Condition(field="purchase_count", op="exists", value=False), f)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"tier": "platinum", "band": "high"}, ["save_call_vip"]),
        ({"tier": "gold", "band": "critical"}, ["save_call_vip"]),
        ({"tier": "silver", "band": "high"}, ["offer_at_risk"]),
        ({"tier": "bronze", "band": "critical"}, ["offer_at_risk"]),
        ({"tier": "platinum", "band": "medium"}, []),
    ],
)
def test_band_entry_routes_by_tier(overrides, expected):
    assert matched(facts(previous_band="medium", **overrides)) == expected


def test_staying_in_the_high_bands_is_not_an_entry():
    assert matched(facts(previous_band="high", band="critical")) == []
    assert matched(facts(previous_band=None, band="high")) == ["save_call_vip"]


def test_complaint_unresolved_48_hours_triggers_service_recovery():
    p = profile((EventType.COMPLAINT, 0, {}))
    young = facts(p, band="low", event_time=at(47).isoformat())
    old = facts(p, band="low", event_time=at(48).isoformat())
    assert matched(young) == []
    assert matched(old) == ["service_recovery"]
    resolved = profile(
        (EventType.COMPLAINT, 0, {}), (EventType.COMPLAINT, 10, {"status": "resolved"})
    )
    assert matched(facts(resolved, band="low", event_time=at(100).isoformat())) == []


def test_failed_payment_triggers_billing_outreach_once_per_run_of_failures():
    one = profile((EventType.PAYMENT_FAILED, 0, {}))
    two = profile(
        (EventType.PAYMENT_FAILED, 0, {}), (EventType.PAYMENT_FAILED, 5, {"payment_id": "P-2"})
    )
    [first] = evaluate(PLAYBOOKS.values(), facts(one, band="low", event_time=at(1).isoformat()))
    [again] = evaluate(PLAYBOOKS.values(), facts(two, band="low", event_time=at(6).isoformat()))
    assert first.playbook_id == again.playbook_id == "billing_outreach"
    assert first.action_id == again.action_id  # same episode: same action, never a second
    paid = profile((EventType.PAYMENT_FAILED, 0, {}), (EventType.PURCHASE, 2, {}))
    assert "billing_outreach" not in matched(facts(paid, band="low", event_time=at(3).isoformat()))


def test_first_purchase_without_a_second_within_30_days_triggers_the_nudge():
    one = profile((EventType.PURCHASE, 0, {}))
    assert matched(facts(one, band="low", event_time=at(29 * 24).isoformat())) == []
    assert matched(facts(one, band="low", event_time=at(30 * 24).isoformat())) == ["repeat_nudge"]
    two = profile((EventType.PURCHASE, 0, {}), (EventType.PURCHASE, 24, {"order_id": "O-2"}))
    assert matched(facts(two, band="low", event_time=at(40 * 24).isoformat())) == []
    sub = facts(one, band="low", business_model="subscription", event_time=at(40 * 24).isoformat())
    assert matched(sub) == []


@pytest.mark.parametrize(("stage", "tier", "fires"), [
    ("lapsed", "gold", True), ("churned", "platinum", True), ("lapsed", "silver", False),
    ("active", "platinum", False),
])  # fmt: skip
def test_lapsed_valuable_customers_get_a_win_back(stage, tier, fires):
    assert (
        "win_back_high_value" in matched(facts(band="low", lifecycle_stage=stage, tier=tier))
    ) is fires


def test_a_disabled_playbook_never_matches():
    text = """
playbooks:
  - {id: every, version: 1, name: every score, enabled: false,
     trigger: {type: score_changed}, action: {type: offer}}
"""
    assert evaluate(parse_playbooks(text), facts()) == []
    assert len(evaluate(parse_playbooks(text.replace("false", "true")), facts())) == 1


def test_the_action_id_is_stable_and_names_the_episode():
    a = evaluate(PLAYBOOKS.values(), facts(previous_band="low"))
    b = evaluate(PLAYBOOKS.values(), facts(previous_band="low"))
    later = evaluate(
        PLAYBOOKS.values(), facts(previous_band="low", event_time="2026-04-01T00:00:00Z")
    )
    assert [m.action_id for m in a] == [m.action_id for m in b]
    assert a[0].action_id != later[0].action_id


RICH = {"field": "clv", "op": "gt", "value": 5000}
PLATINUM = {"field": "tier", "op": "eq", "value": "platinum"}


def _cond(raw) -> Condition:
    return Condition.model_validate(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ({"field": "band", "op": "ge", "value": "high"}, True),
    ({"field": "band", "op": "gt", "value": "high"}, False),
    ({"field": "tier", "op": "lt", "value": "platinum"}, False),
    ({"field": "churn_probability", "op": "lt", "value": 0.6}, True),
    ({"field": "rfm_segment", "op": "not_in", "value": ["lost", "champions"]}, True),
    ({"field": "cause", "op": "ne", "value": "event"}, False),
    ({"any": [RICH, PLATINUM]}, True),
    ({"all": [RICH, PLATINUM]}, False),
    ({"not": {"field": "clv", "op": "gt", "value": 5000}}, True),
    ({"not": {"field": "days_since_last_activity", "op": "gt", "value": 1}}, True),
])  # fmt: skip
def test_condition_semantics(raw, expected):
    f = facts()  # platinum, high, p = 0.5, clv 1000, rfm at_risk, caused by an event
    assert holds(_cond(raw), f) is expected


def test_the_queue_puts_value_at_risk_first_then_tier_then_probability():
    pb = PLAYBOOKS["save_call_vip"]
    rows = [
        facts(customer_id="A", tier="gold", churn_probability=0.5, clv=1000.0),
        facts(customer_id="B", tier="platinum", churn_probability=0.9, clv=1000.0),
        facts(
            customer_id="C", tier="platinum", churn_probability=0.5, clv=1000.0, value_at_risk=500.0
        ),
        facts(customer_id="D", tier="gold", churn_probability=0.6, clv=1000.0, value_at_risk=500.0),
    ]
    matches: list[Match] = [m for f in rows for m in evaluate([pb], f)]
    order = [m.customer_id for m in sorted(matches, key=queue_key)]
    assert order == ["B", "C", "D", "A"]


def test_the_action_record_is_what_the_simulator_reads():
    [m] = evaluate(PLAYBOOKS.values(), facts(tier="silver", previous_band="low"))
    issued = datetime(2026, 3, 10, 1, tzinfo=UTC)
    action = parse_action(m.to_action(issued))
    assert (action.action_id, action.action_type, action.issued_at) == (
        m.action_id,
        "offer",
        issued,
    )
    assert action.params["discount_pct"] == 20
    assert action.params["playbook_id"] == "offer_at_risk"
    [call] = evaluate(PLAYBOOKS.values(), facts(previous_band="low"))
    params = call.to_action(issued, sla_due_at="2026-03-10T05:00:00Z")["params"]
    assert params["team"] == "save-team"
    assert params["sla_due_at"].startswith("2026")
    assert "NPS 3 (detractor)" in params["talking_points"]
