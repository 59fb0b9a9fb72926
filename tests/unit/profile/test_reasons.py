"""Reason phrases tied to the profile, and the choice of the top reasons."""

from __future__ import annotations

import pytest

from churnwatch.events import EventType as E
from churnwatch.profile import (
    FEATURE_NAMES,
    CustomerProfile,
    Reason,
    describe,
    features,
    top_reasons,
)

from .support import at, build, event, realistic_history


@pytest.mark.parametrize("name", FEATURE_NAMES)
def test_every_feature_has_words_for_a_rich_and_an_empty_profile(name):
    for profile in (build(realistic_history(3)), CustomerProfile()):
        text = describe(name, profile, at(366))
        assert text
        assert text == text.strip()
        assert "nan" not in text


def test_unknown_features_are_refused():
    with pytest.raises(ValueError, match="unknown feature"):
        describe("shoe_size", CustomerProfile(), at(0))


def test_unresolved_complaints_are_counted_over_the_age_of_the_oldest():
    ages = [14, 6, 2]
    history = [event(E.COMPLAINT, 30 - a, complaint_id=f"K-{a}") for a in ages]
    text = describe("complaints_unresolved", build(history), at(30))
    assert text == f"{len(ages)} unresolved complaints in the last {max(ages)} days"


def test_a_single_complaint_today_reads_in_the_singular():
    profile = build([event(E.COMPLAINT, 1)])
    assert describe("complaints_unresolved", profile, at(1.5)) == (
        "1 unresolved complaint in the last day"
    )


def test_sessions_down_against_their_90_day_rate():
    history = [event(E.SESSION, d + 0.5) for d in range(150)]
    history += [event(E.SESSION, d + 0.5) for d in range(150, 180, 6)]
    profile = build(history)
    drop = round((1 - features(profile, at(180))["sessions_trend"]) * 100)
    assert drop > 50
    assert describe("sessions_trend", profile, at(180)) == (
        f"sessions down {drop}% vs their 90-day rate"
    )


def test_failed_payments_in_a_row():
    profile = build([event(E.PAYMENT_FAILED, d) for d in (1, 2)])
    assert describe("failed_payments_consecutive", profile, at(3)) == "2 failed payments in a row"


def test_no_purchase_for_days_with_the_usual_interval():
    days = [0, 12, 24, 36]
    profile = build([event(E.PURCHASE, d) for d in days])
    silence = 64
    assert describe("recency_days", profile, at(days[-1] + silence)) == (
        f"no purchase for {silence} days (usually every 12)"
    )


def test_price_increase_with_its_size_and_date():
    change = event(E.SUBSCRIPTION_CHANGED, 55, old_price="10.00", new_price="12.00")
    profile = build([event(E.SUBSCRIPTION_STARTED, 0), change])
    day = change.occurred_at.date().isoformat()
    for name in ("price_increase_pct", "days_since_price_increase", "has_price_increase"):
        assert describe(name, profile, at(60)) == f"price up 20% on {day}"


def test_nps_cancellation_and_overdue_renewal():
    nps = event(E.NPS, 3, score=3)
    cancel = event(E.SUBSCRIPTION_CANCELLED, 20, exit_reason="price", effective_at=at(40))
    profile = build([event(E.SUBSCRIPTION_STARTED, 0), nps, cancel])
    assert describe("nps_score", profile, at(21)) == (
        f"NPS 3 (detractor) on {nps.occurred_at.date().isoformat()}"
    )
    assert describe("cancellation_pending", profile, at(21)) == (
        f"cancelled on {cancel.occurred_at.date().isoformat()} (reason: price), "
        f"ends {at(40).date().isoformat()}"
    )
    overdue = build([event(E.SUBSCRIPTION_STARTED, 0)])
    assert describe("days_to_renewal", overdue, at(40)).startswith("renewal overdue by 9 days")


def test_an_expiry_reads_as_not_renewed():
    expiry = event(E.SUBSCRIPTION_EXPIRED, 29, effective_at=at(31))
    pending = build([event(E.SUBSCRIPTION_STARTED, 0), expiry])
    assert describe("cancellation_pending", pending, at(30)) == (
        f"not renewed: ends {at(31).date().isoformat()}"
    )
    assert describe("subscription_active", pending, at(32)) == (
        f"not renewed, ended on {at(31).date().isoformat()}"
    )


def test_top_reasons_picks_the_largest_positive_contributions():
    profile = build([event(E.PAYMENT_FAILED, d) for d in (1, 2)] + [event(E.NPS, 1, score=2)])
    contributions = {
        "failed_payments_consecutive": 0.9,
        "nps_score": 0.4,
        "nps_detractor": 0.3,  # reads like nps_score: one reason
        "tenure_days": 0.2,
        "sessions_trend": -1.5,
        "intercept": 5.0,
    }
    reasons = top_reasons(contributions, profile, at(3))
    assert [r.feature for r in reasons] == [
        "failed_payments_consecutive",
        "nps_score",
        "tenure_days",
    ]
    assert reasons[0] == Reason(
        "failed_payments_consecutive", 0.9, describe("failed_payments_consecutive", profile, at(3))
    )
    assert [r.feature for r in top_reasons(contributions, profile, at(3), k=1)] == [
        "failed_payments_consecutive"
    ]


def test_top_reasons_breaks_ties_by_feature_order_and_can_be_empty():
    profile = build([event(E.PURCHASE, 1)])
    tied = {"tenure_days": 0.5, "recency_days": 0.5}
    assert [r.feature for r in top_reasons(tied, profile, at(9))] == ["recency_days", "tenure_days"]
    assert top_reasons({"recency_days": -0.1, "tenure_days": 0.0}, profile, at(9)) == []
