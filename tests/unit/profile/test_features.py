"""Every feature on hand-built histories: expected values follow from the events and the
definitions in docs/profile.md."""

from __future__ import annotations

import math

import pytest

from churnwatch.events import EventType as E
from churnwatch.profile import FEATURE_NAMES, CustomerProfile, apply, features

from .support import at, build, event, features_at


def test_names_are_unique_and_every_value_is_a_finite_float():
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    values = features(CustomerProfile(), at(0))
    assert list(values) == list(FEATURE_NAMES)
    assert all(isinstance(v, float) and math.isfinite(v) for v in values.values())


def test_recency_frequency_interval_and_repeat():
    days = [0, 12, 24, 36]
    values = features_at([event(E.PURCHASE, d) for d in days], at(100))
    assert values["has_purchase"] == 1.0
    assert values["recency_days"] == pytest.approx(100 - days[-1])
    assert values["purchase_interval_days"] == pytest.approx((days[-1] - days[0]) / 3)
    assert values["purchase_overdue_ratio"] == pytest.approx((100 - 36) / 12)
    assert values["purchases_lifetime"] == len(days)
    assert values["spend_lifetime"] == pytest.approx(10.0 * len(days))
    assert values["is_repeat_customer"] == 1.0


def test_one_purchase_is_not_a_repeat_customer_and_has_no_interval():
    values = features_at([event(E.PURCHASE, 5)], at(9))
    assert (values["is_repeat_customer"], values["purchase_interval_days"]) == (0.0, 0.0)
    assert values["purchase_overdue_ratio"] == 0.0


def test_without_purchases_recency_is_the_tenure_and_the_indicator_is_zero():
    values = features_at([event(E.SESSION, 2)], at(30))
    assert values["has_purchase"] == 0.0
    assert values["recency_days"] == values["tenure_days"] == pytest.approx(28)


def test_windows_count_purchases_by_age():
    now, ages = 400, [5, 50, 200, 400]  # none within a week after a window's edge
    amounts = ["10.00", "20.00", "40.00", "80.00"]
    history = [event(E.PURCHASE, now - a, amount=m) for a, m in zip(ages, amounts, strict=True)]
    values = features_at(history, at(now))
    for window in (30, 90, 365):
        inside = [float(m) for a, m in zip(ages, amounts, strict=True) if a < window]
        assert values[f"purchases_{window}d"] == len(inside)
        assert values[f"spend_{window}d"] == pytest.approx(sum(inside))
    assert values["spend_lifetime"] == pytest.approx(sum(float(m) for m in amounts))


@pytest.mark.parametrize(("age", "counted"), [(29.9, True), (37.1, False)])
def test_a_purchase_leaves_the_30_day_window_within_a_week_of_its_edge(age, counted):
    values = features_at([event(E.PURCHASE, 0)], at(age))
    assert values["purchases_30d"] == (1.0 if counted else 0.0)


def test_steady_sessions_give_a_trend_of_one():
    history = [event(E.SESSION, d + 0.5) for d in range(200)]
    values = features_at(history, at(200))
    assert values["sessions_per_day_short"] == pytest.approx(1.0, rel=0.1)
    assert values["sessions_per_day_long"] == pytest.approx(1.0, rel=0.1)
    assert values["sessions_trend"] == pytest.approx(1.0, rel=0.1)
    assert values["has_sessions"] == 1.0


def test_a_new_customers_long_rate_is_not_biased_low():
    values = features_at([event(E.SESSION, d + 0.5) for d in range(10)], at(10))
    assert values["sessions_per_day_long"] == pytest.approx(1.0, rel=0.1)


def test_a_drop_in_sessions_shows_in_the_trend():
    history = [event(E.SESSION, d + 0.5) for d in range(120)]
    history += [event(E.SESSION, d + 0.5) for d in range(120, 150, 5)]  # one in five days
    values = features_at(history, at(150))
    assert values["sessions_trend"] < 0.4
    assert values["sessions_per_day_short"] < values["sessions_per_day_long"]


def test_feature_use_weighs_counts():
    history = [event(E.FEATURE_USE, d + 0.5, count=3) for d in range(200)]
    values = features_at(history, at(200))
    assert values["feature_use_per_day_long"] == pytest.approx(3.0, rel=0.1)
    assert values["feature_use_trend"] == pytest.approx(1.0, rel=0.1)


def test_email_counts_and_rates():
    history = [event(E.EMAIL_ENGAGEMENT, 10, action="delivered") for _ in range(10)]
    history += [event(E.EMAIL_ENGAGEMENT, 10, action="opened") for _ in range(3)]
    history += [event(E.EMAIL_ENGAGEMENT, 10, action="clicked")]
    values = features_at(history, at(10))
    assert values["email_delivered_30d"] == pytest.approx(10)
    assert values["email_opens_30d"] == pytest.approx(3)
    assert values["email_open_rate"] == pytest.approx(3 / 10)
    assert values["email_click_rate"] == pytest.approx(1 / 10)
    later = features_at(history, at(40))
    assert later["email_opens_30d"] == pytest.approx(3 * math.exp(-1))
    assert later["email_open_rate"] == pytest.approx(3 / 10)


def test_unsubscribe_holds_until_consent_is_given_again():
    unsubscribed = [event(E.EMAIL_ENGAGEMENT, 3, action="unsubscribed")]
    assert features_at(unsubscribed, at(4))["email_unsubscribed"] == 1.0
    regranted = [*unsubscribed, event(E.CUSTOMER_PROFILE, 5, consent={"email": True})]
    assert features_at(regranted, at(6))["email_unsubscribed"] == 0.0
    stale = [*unsubscribed, event(E.CUSTOMER_PROFILE, 2, consent={"email": True})]
    assert features_at(stale, at(6))["email_unsubscribed"] == 1.0


def test_a_bounce_holds_until_a_new_address_is_given():
    bounced = [event(E.EMAIL_ENGAGEMENT, 3, action="bounced")]
    assert features_at(bounced, at(4))["email_bounced"] == 1.0
    fixed = [*bounced, event(E.CUSTOMER_PROFILE, 5, email="new@example.com")]
    assert features_at(fixed, at(6))["email_bounced"] == 0.0


def test_complaints_unresolved_oldest_and_escalated():
    opened = {"K-1": 1, "K-2": 5, "K-3": 10}
    history = [event(E.COMPLAINT, d, complaint_id=k) for k, d in opened.items()]
    history += [
        event(E.COMPLAINT, 12, complaint_id="K-1", status="resolved"),
        event(E.COMPLAINT, 13, complaint_id="K-3", status="escalated"),
    ]
    values = features_at(history, at(20))
    assert values["complaints_unresolved"] == 2
    assert values["complaint_oldest_unresolved_days"] == pytest.approx(20 - opened["K-2"])
    assert values["complaint_escalated"] == 1.0
    assert values["complaints_90d"] == 3
    assert features_at(history, at(20 + 90))["complaints_90d"] == 0


def test_a_resolution_arriving_before_its_complaint_still_resolves_it():
    history = [
        event(E.COMPLAINT, 4, complaint_id="K-1", status="resolved"),
        event(E.COMPLAINT, 1, complaint_id="K-1"),
    ]
    assert features_at(history, at(5))["complaints_unresolved"] == 0


def test_tickets_open_reopened_and_recent():
    history = [
        event(E.SUPPORT_TICKET, 1, ticket_id="T-1"),
        event(E.SUPPORT_TICKET, 2, ticket_id="T-1", status="resolved"),
        event(E.SUPPORT_TICKET, 3, ticket_id="T-1", status="reopened"),
        event(E.SUPPORT_TICKET, 20, ticket_id="T-2"),
        event(E.SUPPORT_TICKET, 21, ticket_id="T-2", status="resolved"),
    ]
    values = features_at(history, at(40))
    assert values["tickets_open"] == 1
    assert values["tickets_30d"] == 1  # T-1 was opened 39 days ago


def test_nps_latest_answer_wins_even_when_it_arrives_first():
    history = [event(E.NPS, 10, score=3), event(E.NPS, 4, score=9)]
    values = features_at(history, at(15))
    assert (values["has_nps"], values["nps_score"], values["nps_detractor"]) == (1.0, 3.0, 1.0)
    assert values["nps_age_days"] == pytest.approx(5)
    missing = features_at([event(E.SESSION, 1)], at(2))
    assert (missing["has_nps"], missing["nps_score"], missing["nps_detractor"]) == (0, 0, 0)


def test_consecutive_failed_payments_reset_by_a_renewal_even_a_late_one():
    fails = [event(E.PAYMENT_FAILED, d) for d in (1, 2, 3)]
    assert features_at(fails, at(4))["failed_payments_consecutive"] == 3
    renewed = [*fails, event(E.SUBSCRIPTION_RENEWED, 2.5)]
    values = features_at(renewed, at(4))
    assert values["failed_payments_consecutive"] == 1  # only the failure after the renewal
    assert values["failed_payments_lifetime"] == 3


def test_tenure_starts_at_sign_up_when_earlier():
    history = [event(E.CUSTOMER_PROFILE, 10, signed_up_at=at(-50)), event(E.SESSION, 11)]
    assert features_at(history, at(20))["tenure_days"] == pytest.approx(70)


def test_subscription_trial_price_renewal_and_overdue():
    history = [
        event(E.SUBSCRIPTION_STARTED, 0, trial=True, price="120.00", billing_period="yearly")
    ]
    values = features_at(history, at(10))
    assert values["is_subscription"] == values["subscription_active"] == values["is_trial"] == 1.0
    assert values["price_monthly"] == pytest.approx(120 / 12)
    assert values["has_renewal_date"] == 1.0
    assert values["days_to_renewal"] == pytest.approx(365.25 - 10, abs=1e-4)
    overdue = features_at(history, at(400))
    assert overdue["days_to_renewal"] == pytest.approx(365.25 - 400, abs=1e-4)
    renewed = features_at([*history, event(E.SUBSCRIPTION_RENEWED, 365)], at(370))
    assert (renewed["is_trial"], renewed["renewals_lifetime"]) == (0.0, 1.0)


def test_cancellation_is_pending_until_effective_then_ends():
    history = [
        event(E.SUBSCRIPTION_STARTED, 0),
        event(E.SUBSCRIPTION_CANCELLED, 10, exit_reason="price", effective_at=at(30)),
    ]
    pending = features_at(history, at(20))
    assert (pending["cancellation_pending"], pending["subscription_active"]) == (1.0, 1.0)
    assert pending["has_renewal_date"] == 0.0
    ended = features_at(history, at(31))
    assert (ended["cancellation_pending"], ended["subscription_active"]) == (0.0, 0.0)
    back = features_at([*history, event(E.SUBSCRIPTION_STARTED, 40)], at(41))
    assert back["subscription_active"] == 1.0


def test_business_model_is_retail_unless_a_subscription_event_is_seen():
    assert features_at([event(E.PURCHASE, 1)], at(2))["is_subscription"] == 0.0
    failed = [event(E.PAYMENT_FAILED, 1, subscription_id="S-1")]
    assert features_at(failed, at(2))["is_subscription"] == 1.0


def test_price_increase_and_recent_downgrade():
    history = [
        event(E.SUBSCRIPTION_STARTED, 0),
        event(E.SUBSCRIPTION_CHANGED, 10, old_price="10.00", new_price="12.00"),
        event(E.SUBSCRIPTION_CHANGED, 20, change="downgrade", old_price="12.00", new_price="6.00"),
    ]
    values = features_at(history, at(30))
    assert values["has_price_increase"] == 1.0
    assert values["price_increase_pct"] == pytest.approx((12 / 10 - 1) * 100)
    assert values["days_since_price_increase"] == pytest.approx(20)
    assert values["recent_downgrade"] == 1.0
    assert values["price_monthly"] == pytest.approx(6.0)
    assert features_at(history, at(111))["recent_downgrade"] == 0.0


def test_refunds_and_their_share_of_spend():
    history = [event(E.PURCHASE, 1, amount="80.00"), event(E.REFUND, 2, amount="20.00")]
    values = features_at(history, at(3))
    assert values["refunds_lifetime"] == 1
    assert values["refund_share"] == pytest.approx(20 / 80)


@pytest.mark.parametrize(
    ("response", "accepted", "declined"),
    [("accepted", 1.0, 0.0), ("declined", 0.0, 1.0), ("expired", 0.0, 1.0), ("opened", 0.0, 0.0)],
)
def test_offer_responses_count_for_90_days(response, accepted, declined):
    history = [event(E.OFFER_RESPONSE, 1, response=response)]
    values = features_at(history, at(80))
    assert (values["offer_accepted_90d"], values["offer_declined_90d"]) == (accepted, declined)
    old = features_at(history, at(92))
    assert (old["offer_accepted_90d"], old["offer_declined_90d"]) == (0.0, 0.0)


def test_activity_recency_ignores_automatic_events():
    history = [event(E.SESSION, 1), event(E.SUBSCRIPTION_RENEWED, 20), event(E.REFUND, 21)]
    values = features_at(history, at(30))
    assert values["activity_recency_days"] == pytest.approx(29)


def test_an_erased_customer_has_the_features_of_nobody():
    history = [event(E.PURCHASE, 1), event(E.COMPLAINT, 2), event(E.CUSTOMER_ERASED, 3)]
    profile = build(history)
    assert features(profile, at(5)) == features(CustomerProfile(), at(5))
    assert not apply(profile, event(E.PURCHASE, 4))
    assert profile.erased
    assert profile.tx_count == 0
