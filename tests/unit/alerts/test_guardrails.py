"""Guardrails: every suppression has its reason; the holdout split comes after them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from churnwatch.alerts import (
    REASONS,
    ContactHistory,
    ContactPolicy,
    Match,
    Playbook,
    decide,
    default_playbooks,
    evaluate,
)
from churnwatch.events import EventType

from .support import facts, profile

PLAYBOOKS = {pb.id: pb for pb in default_playbooks()}
VIP = PLAYBOOKS["save_call_vip"]
NOW = facts().event_time
PHONE = {"phone": True, "email": True}


def vip_match(customer_id: str = "C-1") -> Match:
    [m] = evaluate([VIP], facts(customer_id=customer_id))
    return m


def treated_match() -> Match:
    """A match in the treated arm (the holdout draw of this customer is above 0.1)."""
    for i in range(100):
        m = vip_match(f"C-{i}")
        if not m.control:
            return m
    raise AssertionError("no treated customer among 100")


def test_a_clean_history_acts():
    decision = decide(treated_match(), VIP, ContactHistory(consent=PHONE), NOW)
    assert decision.outcome == "act"
    assert decision.reason is None
    assert decision.exposed


@pytest.mark.parametrize(
    ("history", "policy", "reason"),
    [
        (ContactHistory(erased=True, consent=PHONE), None, "erased"),
        (ContactHistory(consent={"phone": False}), None, "no_consent"),
        (ContactHistory(consent={"email": True}), None, "no_consent"),  # phone never stated
        (ContactHistory(consent=PHONE, open_tasks=frozenset({"save_call_vip"})), None, "open_task"),
        (
            ContactHistory(
                consent=PHONE, last_exposure={"save_call_vip": NOW - timedelta(days=29)}
            ),
            None,
            "playbook_cooldown",
        ),
        (
            ContactHistory(consent=PHONE, exposures=(NOW - timedelta(hours=30),)),
            None,
            "customer_cooldown",
        ),
        (
            ContactHistory(
                consent=PHONE, exposures=tuple(NOW - timedelta(days=d) for d in (3, 9, 20))
            ),
            None,
            "contact_cap",
        ),
        (
            ContactHistory(consent=PHONE, exposures=(NOW - timedelta(days=3),)),
            ContactPolicy(max_contacts=1),
            "contact_cap",
        ),
    ],
)
def test_each_guardrail_suppresses_with_its_reason(history, policy, reason):
    decision = decide(treated_match(), VIP, history, NOW, policy)
    assert decision.outcome == "suppress"
    assert decision.reason == reason
    assert decision.message.startswith(REASONS[reason])
    assert not decision.exposed


def test_limits_that_have_passed_no_longer_suppress():
    history = ContactHistory(
        consent=PHONE,
        last_exposure={"save_call_vip": NOW - timedelta(days=31)},
        exposures=tuple(NOW - timedelta(days=d) for d in (3, 40, 50, 60)),  # one in the period
        open_tasks=frozenset({"service_recovery"}),  # another playbook's task
    )
    assert decide(treated_match(), VIP, history, NOW).outcome == "act"


def test_unstated_consent_is_a_setting():
    history = ContactHistory(consent={"phone": None})
    assert decide(treated_match(), VIP, history, NOW).reason == "no_consent"
    allow = ContactPolicy(allow_unstated_consent=True)
    assert decide(treated_match(), VIP, history, NOW, allow).outcome == "act"


def test_erasure_wins_over_everything_and_comes_from_the_profile():
    erased = profile(
        (EventType.CUSTOMER_PROFILE, 0, {"consent": {"phone": True}}),
        (EventType.CUSTOMER_ERASED, 1, {}),
    )
    history = ContactHistory.from_profile(erased, open_tasks=frozenset({"save_call_vip"}))
    assert decide(treated_match(), VIP, history, NOW).reason == "erased"


def test_consent_comes_from_profile_events():
    consented = profile(
        (EventType.CUSTOMER_PROFILE, 0, {"consent": {"phone": True, "email": False}})
    )
    history = ContactHistory.from_profile(consented)
    assert decide(treated_match(), VIP, history, NOW).outcome == "act"
    offer = PLAYBOOKS["offer_at_risk"]
    [m] = evaluate([offer], facts(tier="bronze"))
    assert decide(m, offer, history, NOW).reason == "no_consent"  # offers go by e-mail


def test_automated_actions_are_not_limited_by_open_tasks():
    offer: Playbook = PLAYBOOKS["offer_at_risk"]
    [m] = evaluate([offer], facts(tier="bronze", customer_id="C-3"))
    history = ContactHistory(consent=PHONE, open_tasks=frozenset({"offer_at_risk"}))
    assert decide(m, offer, history, NOW).reason is None


def test_control_customers_pass_the_same_guardrails_then_are_held_out():
    matches = [vip_match(f"C-{i}") for i in range(400)]
    controls = [m for m in matches if m.control]
    assert 0 < len(controls) < len(matches)
    for m in controls:
        assert decide(m, VIP, ContactHistory(consent=PHONE), NOW).outcome == "control"
        assert decide(m, VIP, ContactHistory(consent={"phone": False}), NOW).reason == "no_consent"
