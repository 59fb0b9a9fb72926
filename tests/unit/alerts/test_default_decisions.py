"""What the six default playbooks decide on hand-built facts, with hand-written expected actions.

Every expectation below is read off docs/playbooks.md ("The six defaults", "Triggers",
"Guardrails and reason codes") and shared/churnwatch/alerts/defaults/playbooks.yaml by a person,
not computed by the code under test: a playbook routed to the wrong tier, a wrong offer code, an
SLA taken from the wrong table or a guardrail checked in the wrong order fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from churnwatch.alerts import (
    ContactHistory,
    Facts,
    Match,
    decide,
    default_playbooks,
    due_at,
    evaluate,
)

NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)
PLAYBOOKS = {pb.id: pb for pb in default_playbooks()}
BOTH = {"phone": True, "email": True}


def hours_ago(h: float) -> datetime:
    return NOW - timedelta(hours=h)


def fact(customer: str = "C-1", **given: Any) -> Facts:
    """A score's facts as a person would write them (profile facts None unless given)."""
    base: dict[str, Any] = {
        "customer_id": customer,
        "event_time": NOW,
        "churn_probability": 0.6,
        "band": "low",
        "tier": "silver",
        "clv": 1000.0,
        "value_at_risk": 600.0,
    }
    return Facts(**{**base, **given})


def complaint(age_h: float) -> dict[str, Any]:
    return {
        "unresolved_complaints": 1,
        "unresolved_complaint_age_hours": age_h,
        "oldest_open_complaint_at": hours_ago(age_h),
    }


FAILED_PAYMENT = {"consecutive_failed_payments": 1, "first_failed_payment_at": hours_ago(3)}


def first_purchase(days: float) -> dict[str, Any]:
    return {
        "purchase_count": 1,
        "days_since_first_purchase": days,
        "first_purchase_at": NOW - timedelta(days=days),
    }


LAPSED = {"lifecycle_stage": "lapsed", "last_activity_at": NOW - timedelta(days=120)}

# (what the person built, the playbooks that must match — in queue order)
SCENARIOS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("platinum enters high", {"tier": "platinum", "band": "high", "previous_band": "medium"},
     ["save_call_vip"]),
    ("gold enters critical from low", {"tier": "gold", "band": "critical", "previous_band": "low"},
     ["save_call_vip"]),
    ("gold's first score is high", {"tier": "gold", "band": "high"}, ["save_call_vip"]),
    ("silver enters high", {"tier": "silver", "band": "high", "previous_band": "medium"},
     ["offer_at_risk"]),
    ("bronze enters critical", {"tier": "bronze", "band": "critical", "previous_band": "low"},
     ["offer_at_risk"]),
    ("platinum stays high", {"tier": "platinum", "band": "critical", "previous_band": "high"}, []),
    ("platinum enters medium", {"tier": "platinum", "band": "medium", "previous_band": "low"}, []),
    ("complaint open 48 h", {"tier": "bronze", **complaint(48)}, ["service_recovery"]),
    ("complaint open 47 h", {"tier": "bronze", **complaint(47)}, []),
    ("a failed payment", {"tier": "silver", **FAILED_PAYMENT}, ["billing_outreach"]),
    ("retail, one purchase 30 days ago", {**first_purchase(30)}, ["repeat_nudge"]),
    ("retail, one purchase 29 days ago", {**first_purchase(29)}, []),
    ("subscriber, one purchase 40 days ago",
     {"business_model": "subscription", **first_purchase(40)}, []),
    ("gold lapsed", {"tier": "gold", **LAPSED}, ["win_back_high_value"]),
    ("platinum churned",
     {"tier": "platinum", "lifecycle_stage": "churned", "last_activity_at": hours_ago(2000)},
     ["win_back_high_value"]),
    ("silver lapsed", {"tier": "silver", **LAPSED}, []),
    ("nothing happening", {"tier": "platinum"}, []),
    # four at once: win-back ranks by CLV (1000) above the three ranked by value at risk (600),
    # which tie on value, tier and probability and so go by playbook id
    ("gold: critical, lapsed, complaint 50 h, payment failed",
     {"tier": "gold", "band": "critical", "previous_band": "medium", **LAPSED, **complaint(50),
      **FAILED_PAYMENT},
     ["win_back_high_value", "billing_outreach", "save_call_vip", "service_recovery"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("given", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
def test_the_defaults_match_what_the_docs_say(given: dict[str, Any], expected: list[str]) -> None:
    assert [m.playbook_id for m in evaluate(PLAYBOOKS.values(), fact(**given))] == expected


# The action each default takes, as the YAML and the docs' table state it.
EXPECTED_ACTION: dict[str, dict[str, Any]] = {
    "save_call_vip": {"action_type": "save_call", "mode": "task", "channel": "phone",
                      "team": "save-team"},
    "offer_at_risk": {"action_type": "offer", "mode": "automated", "channel": "email",
                      "offer_code": "STAY20", "discount_pct": 20},
    "service_recovery": {"action_type": "service_recovery", "mode": "task", "channel": "phone",
                         "team": "service-recovery"},
    "billing_outreach": {"action_type": "billing_outreach", "mode": "automated",
                         "channel": "email"},
    "repeat_nudge": {"action_type": "repeat_nudge", "mode": "automated", "channel": "email"},
    "win_back_high_value": {"action_type": "win_back", "mode": "automated", "channel": "email",
                            "offer_code": "COMEBACK25", "discount_pct": 25},
}  # fmt: skip
ONE_EACH = {
    "save_call_vip": {"tier": "platinum", "band": "high"},
    "offer_at_risk": {"tier": "bronze", "band": "high"},
    "service_recovery": {"tier": "gold", **complaint(60)},
    "billing_outreach": {**FAILED_PAYMENT},
    "repeat_nudge": {**first_purchase(31)},
    "win_back_high_value": {"tier": "platinum", **LAPSED},
}


@pytest.mark.parametrize("playbook", sorted(EXPECTED_ACTION))
def test_each_default_sends_the_documented_action(playbook: str) -> None:
    [match] = evaluate(PLAYBOOKS.values(), fact(customer="C-42", **ONE_EACH[playbook]))
    message = match.to_action(NOW)
    want = EXPECTED_ACTION[playbook]
    assert message["action_type"] == want["action_type"]
    assert message["customer_id"] == "C-42"
    params = message["params"]
    assert (params["playbook_id"], params["playbook_version"]) == (playbook, 1)
    for key in ("mode", "channel", "team", "offer_code", "discount_pct"):
        assert params.get(key) == want.get(key), key


def test_the_save_call_carries_the_talking_points_then_the_reasons() -> None:
    f = fact(tier="gold", band="critical", reasons=("3 failed payments", "NPS 2 (detractor)"))
    [match] = evaluate(PLAYBOOKS.values(), f)
    assert match.to_action(NOW)["params"]["talking_points"] == [
        "Thank them for their loyalty and ask how things are going.",
        "Walk through the reasons behind the score and what we can fix.",
        "3 failed payments",
        "NPS 2 (detractor)",
    ]


@pytest.mark.parametrize(
    ("playbook", "tier", "hours"),
    [
        ("save_call_vip", "platinum", 4),
        ("save_call_vip", "gold", 8),
        ("service_recovery", "platinum", 4),
        ("service_recovery", "silver", 24),
        ("service_recovery", "bronze", 48),  # the playbook's own table: 48 h, not the default 72
    ],
)
def test_task_sla_is_the_playbooks_own(playbook: str, tier: str, hours: int) -> None:
    sla = PLAYBOOKS[playbook].action.sla_hours
    assert sla is not None
    assert due_at(NOW, tier, {str(k): v for k, v in sla.items()}) == NOW + timedelta(hours=hours)


# Guardrails on the four-at-once customer, with hand-written outcomes per playbook
# (order of checks: erased, consent, open task, playbook cooldown, customer cooldown, cap).
HISTORIES: list[tuple[str, ContactHistory, dict[str, str]]] = [
    ("clean, both channels", ContactHistory(consent=BOTH),
     {"win_back_high_value": "act", "billing_outreach": "act", "save_call_vip": "act",
      "service_recovery": "act"}),
    ("erased", ContactHistory(erased=True, consent=BOTH),
     {"win_back_high_value": "erased", "billing_outreach": "erased", "save_call_vip": "erased",
      "service_recovery": "erased"}),
    ("no phone", ContactHistory(consent={"phone": False, "email": True}),
     {"win_back_high_value": "act", "billing_outreach": "act", "save_call_vip": "no_consent",
      "service_recovery": "no_consent"}),
    ("email never stated", ContactHistory(consent={"phone": True}),
     {"win_back_high_value": "no_consent", "billing_outreach": "no_consent",
      "save_call_vip": "act", "service_recovery": "act"}),
    ("a save call still open",
     ContactHistory(consent=BOTH, open_tasks=frozenset({"save_call_vip"})),
     {"win_back_high_value": "act", "billing_outreach": "act", "save_call_vip": "open_task",
      "service_recovery": "act"}),
    ("billing 5 days ago (cooldown 7 d), win-back 100 days ago (90 d)",
     ContactHistory(consent=BOTH,
                    last_exposure={"billing_outreach": NOW - timedelta(days=5),
                                   "win_back_high_value": NOW - timedelta(days=100)},
                    exposures=(NOW - timedelta(days=5),)),
     {"win_back_high_value": "act", "billing_outreach": "playbook_cooldown",
      "save_call_vip": "act", "service_recovery": "act"}),
    ("another playbook a day ago",
     ContactHistory(consent=BOTH, exposures=(NOW - timedelta(days=1),)),
     {"win_back_high_value": "customer_cooldown", "billing_outreach": "customer_cooldown",
      "save_call_vip": "customer_cooldown", "service_recovery": "customer_cooldown"}),
    ("three contacts in 30 days",
     ContactHistory(consent=BOTH, exposures=tuple(NOW - timedelta(days=d) for d in (3, 10, 29))),
     {"win_back_high_value": "contact_cap", "billing_outreach": "contact_cap",
      "save_call_vip": "contact_cap", "service_recovery": "contact_cap"}),
    ("three contacts, the oldest 31 days ago",
     ContactHistory(consent=BOTH, exposures=tuple(NOW - timedelta(days=d) for d in (3, 10, 31))),
     {"win_back_high_value": "act", "billing_outreach": "act", "save_call_vip": "act",
      "service_recovery": "act"}),
]  # fmt: skip


def _treated_customer() -> str:
    """A customer outside the 10% holdout of all four playbooks (a precondition, checked)."""
    for i in range(200):
        matches = evaluate(PLAYBOOKS.values(), _four_at_once(f"C-{i}"))
        if len(matches) == 4 and not any(m.control for m in matches):
            return f"C-{i}"
    raise AssertionError("no customer outside every holdout among 200")


def _four_at_once(customer: str) -> Facts:
    given = SCENARIOS[-1][1]
    return fact(customer=customer, **given)


@pytest.mark.parametrize(
    ("history", "expected"), [h[1:] for h in HISTORIES], ids=[h[0] for h in HISTORIES]
)
def test_guardrails_decide_each_default_as_documented(
    history: ContactHistory, expected: dict[str, str]
) -> None:
    matches: list[Match] = evaluate(PLAYBOOKS.values(), _four_at_once(_treated_customer()))
    got = {}
    for m in matches:
        decision = decide(m, PLAYBOOKS[m.playbook_id], history, NOW)
        got[m.playbook_id] = decision.reason or decision.outcome
    assert got == expected


def test_a_held_out_customer_passes_the_guardrails_and_is_a_control() -> None:
    for i in range(200):
        [m] = evaluate(PLAYBOOKS.values(), fact(customer=f"H-{i}", tier="gold", band="high"))
        if m.control:
            break
    else:
        raise AssertionError("no control among 200 customers of a 10% holdout")
    decision = decide(m, PLAYBOOKS["save_call_vip"], ContactHistory(consent=BOTH), NOW)
    assert (decision.outcome, decision.exposed) == ("control", True)
    refused = decide(m, PLAYBOOKS["save_call_vip"], ContactHistory(consent={"phone": False}), NOW)
    assert (refused.outcome, refused.reason) == ("suppress", "no_consent")
