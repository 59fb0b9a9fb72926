"""Property tests: the profile agrees with the batch oracle, whatever the arrival order;
duplicates are no-ops; replay is byte-identical; the binary form round-trips."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnwatch.events import (
    ComplaintStatus,
    EmailAction,
    Event,
    EventType,
    OfferResponse,
    SubscriptionChange,
    TicketStatus,
)
from churnwatch.profile import FEATURE_NAMES, MAX_BYTES, CustomerProfile, apply, features

from .strategies import histories, lateness_order
from .support import DAY, Oracle, build

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ACTIVITY = {
    EventType.SESSION,
    EventType.FEATURE_USE,
    EventType.SUPPORT_TICKET,
    EventType.COMPLAINT,
    EventType.NPS,
    EventType.PURCHASE,
    EventType.SUBSCRIPTION_STARTED,
}
MONTHS = {"monthly": 1.0, "quarterly": 3.0, "yearly": 12.0}
PERIOD_DAYS = {"monthly": 365.25 / 12, "quarterly": 365.25 / 4, "yearly": 365.25}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def is_activity(e: Any) -> bool:
    kind, a = e.event_type, e.attributes
    if kind in ACTIVITY:
        return True
    if kind is EventType.EMAIL_ENGAGEMENT:
        return a.action in (EmailAction.OPENED, EmailAction.CLICKED)
    if kind is EventType.SUBSCRIPTION_CHANGED:
        return a.change in (SubscriptionChange.UPGRADE, SubscriptionChange.DOWNGRADE)
    if kind is EventType.OFFER_RESPONSE:
        return a.response in (OfferResponse.ACCEPTED, OfferResponse.OPENED)
    return False


def expected(events: list[Event], moment: datetime) -> dict[str, float]:
    """The features of docs/profile.md computed from the whole history (windows excepted)."""
    o = Oracle(events)
    now = moment.timestamp()
    ts = o.ts

    def days(t: float) -> float:
        return max(0.0, (now - t) / DAY)

    tenure = days(o.tenure_start())
    tx = o.transactions()
    last_tx, first_tx = max((t for t, _ in tx), default=0), min((t for t, _ in tx), default=0)
    recency = days(last_tx) if tx else tenure
    interval = (last_tx - first_tx) / DAY / (len(tx) - 1) if len(tx) >= 2 else 0.0
    active_times = [ts(e) for e in events if is_activity(e)]
    out: dict[str, float] = {
        "recency_days": recency,
        "activity_recency_days": days(max(active_times)) if active_times else tenure,
        "has_purchase": float(bool(tx)),
        "purchases_lifetime": float(len(tx)),
        "spend_lifetime": sum(c for _, c in tx) / 100,
        "purchase_interval_days": interval,
        "purchase_overdue_ratio": recency / interval if interval else 0.0,
        "tenure_days": tenure,
        "has_sessions": float(bool(o.by(EventType.SESSION))),
    }
    purchases = len(o.by(EventType.PURCHASE))
    out["is_repeat_customer"] = float(purchases >= 2)  # renewals are not purchases (issue 13)
    for kind, name in ((EventType.SESSION, "sessions"), (EventType.FEATURE_USE, "feature_use")):
        short, long = o.rates(kind, now) if o.by(kind) else (0.0, 0.0)
        out[f"{name}_per_day_short"], out[f"{name}_per_day_long"] = short, long
        out[f"{name}_trend"] = (short + 0.01) / (long + 0.01)
    email = [EventType.EMAIL_ENGAGEMENT]
    delivered = o.decayed(email, now, 30.0, action=EmailAction.DELIVERED)
    opened = o.decayed(email, now, 30.0, action=EmailAction.OPENED)
    clicked = o.decayed(email, now, 30.0, action=EmailAction.CLICKED)
    out |= {
        "email_delivered_30d": delivered,
        "email_opens_30d": opened,
        "email_clicks_30d": clicked,
        "email_open_rate": min(opened / delivered, 1.0) if delivered else 0.0,
        "email_click_rate": min(clicked / delivered, 1.0) if delivered else 0.0,
    }

    def actions(*wanted: EmailAction) -> list[int]:
        return [ts(e) for e in o.by(*email) if e.attributes.action in wanted]

    unsub = max(actions(EmailAction.UNSUBSCRIBED, EmailAction.SPAM_COMPLAINT), default=0)
    consents = [
        e for e in o.by(EventType.CUSTOMER_PROFILE) if e.attributes.consent.email is not None
    ]
    consent = max(consents, key=ts) if consents else None
    regranted = consent is not None and consent.attributes.consent.email and ts(consent) > unsub
    out["email_unsubscribed"] = float(bool(unsub) and not regranted)
    email_set = [ts(e) for e in o.by(EventType.CUSTOMER_PROFILE) if e.attributes.email]
    out["email_bounced"] = float(
        max(actions(EmailAction.BOUNCED), default=0) > max(email_set, default=0)
    )
    complaints = o.tables(EventType.COMPLAINT, ComplaintStatus.RESOLVED)
    unresolved = {k: v for k, v in complaints.items() if v[1] > v[2]}
    escalated = {
        e.attributes.complaint_id
        for e in o.by(EventType.COMPLAINT)
        if e.attributes.status == "escalated"
    }
    tickets = o.tables(EventType.SUPPORT_TICKET, TicketStatus.RESOLVED)
    out |= {
        "complaints_unresolved": float(len(unresolved)),
        "complaint_oldest_unresolved_days": days(min(v[0] for v in unresolved.values()))
        if unresolved
        else 0.0,
        "complaint_escalated": float(bool(set(unresolved) & escalated)),
        "complaints_90d": float(
            sum(1 for v in complaints.values() if v[0] and now - v[0] < 90 * DAY)
        ),
        "tickets_open": float(sum(1 for v in tickets.values() if v[1] > v[2])),
        "tickets_30d": float(sum(1 for v in tickets.values() if v[0] and now - v[0] < 30 * DAY)),
    }
    nps = o.latest(EventType.NPS)
    out |= {
        "has_nps": float(nps is not None),
        "nps_score": float(nps.attributes.score) if nps else 0.0,
        "nps_detractor": float(nps is not None and nps.attributes.score <= 6),
        "nps_age_days": days(ts(nps)) if nps else 0.0,
        "failed_payments_consecutive": float(o.consecutive_failures()),
        "failed_payments_lifetime": float(len(o.by(EventType.PAYMENT_FAILED))),
        "refunds_lifetime": float(len(o.by(EventType.REFUND))),
    }
    refund_cents = sum(round(e.attributes.amount * 100) for e in o.by(EventType.REFUND))
    tx_cents = sum(c for _, c in tx)
    out["refund_share"] = refund_cents / tx_cents if tx_cents else 0.0
    out |= _subscription(o, now)
    if out["is_subscription"] and not purchases:  # a pure subscriber: no retail block
        out |= {
            "recency_days": tenure,
            "has_purchase": 0.0,
            "purchases_lifetime": 0.0,
            "spend_lifetime": 0.0,
            "purchase_interval_days": 0.0,
            "purchase_overdue_ratio": 0.0,
        }
    offer = o.latest(EventType.OFFER_RESPONSE)
    recent_offer = offer is not None and now - ts(offer) < 90 * DAY
    out["offer_accepted_90d"] = float(recent_offer and offer.attributes.response == "accepted")
    out["offer_declined_90d"] = float(
        recent_offer and offer.attributes.response in ("declined", "expired")
    )
    return out


def _subscription(o: Oracle, now: float) -> dict[str, float]:
    ts = o.ts
    sub_kinds = (
        EventType.SUBSCRIPTION_STARTED,
        EventType.SUBSCRIPTION_RENEWED,
        EventType.SUBSCRIPTION_CHANGED,
    )
    billing = o.by(*sub_kinds)
    ends = o.by(EventType.SUBSCRIPTION_CANCELLED, EventType.SUBSCRIPTION_EXPIRED)
    is_sub = bool(billing or ends) or any(
        e.attributes.subscription_id for e in o.by(EventType.PAYMENT_FAILED)
    )
    active_at = max((ts(e) for e in billing), default=0)
    # the latest cancellation or expiry ends the subscription at its effective time
    cancel = max(ends, key=ts) if ends else None
    if cancel is not None and ts(cancel) >= active_at:
        effective = cancel.attributes.effective_at
        end = max(1, math.floor(effective.timestamp())) if effective else ts(cancel)
        ended = now >= end
        active, pending = (not ended and active_at > 0), not ended
    else:
        active, pending = active_at > 0, False
    plan = max(billing, key=ts) if billing else None
    price = (
        (
            plan.attributes.new_price
            if plan and plan.event_type is EventType.SUBSCRIPTION_CHANGED
            else plan.attributes.price
        )
        if plan
        else 0
    )
    period = plan.attributes.billing_period if plan else None
    started = o.latest(EventType.SUBSCRIPTION_STARTED)
    last_renewal = max((ts(e) for e in o.by(EventType.SUBSCRIPTION_RENEWED)), default=0)
    last_started = ts(started) if started else 0
    trial = started is not None and started.attributes.trial and last_renewal < last_started
    billed = max(last_renewal, last_started)
    due = billed + round(PERIOD_DAYS[period] * DAY) if billed and period else 0
    has_due = bool(due) and active and not pending
    increases = [
        e for e in o.by(EventType.SUBSCRIPTION_CHANGED) if e.attributes.change == "price_increase"
    ]
    increase = max(increases, key=ts) if increases else None
    change = o.latest(EventType.SUBSCRIPTION_CHANGED)
    return {
        "is_subscription": float(is_sub),
        "subscription_active": float(active),
        "cancellation_pending": float(pending),
        "is_trial": float(active and trial),
        "price_monthly": float(price) / MONTHS[period] if is_sub and period else 0.0,
        "renewals_lifetime": float(len(o.by(EventType.SUBSCRIPTION_RENEWED))),
        "has_renewal_date": float(has_due),
        "days_to_renewal": (due - now) / DAY if has_due else 0.0,
        "has_price_increase": float(increase is not None),
        "days_since_price_increase": max(0.0, (now - ts(increase)) / DAY) if increase else 0.0,
        "price_increase_pct": _bp(increase.attributes) / 100 if increase else 0.0,
        "recent_downgrade": float(
            change is not None
            and change.attributes.change == "downgrade"
            and now - ts(change) < 90 * DAY
        ),
    }


def _bp(a: Any) -> int:
    if a.old_price == 0:
        return 1_000_000 if a.new_price > 0 else 0
    ratio: Decimal = a.new_price / a.old_price
    return max(-1_000_000, min(1_000_000, round(ratio * 10_000) - 10_000))


def check_against_oracle(events: list[Event], arrival: list[Event], moment: datetime) -> None:
    got = features(build(arrival), moment)
    want = expected(events, moment)
    for name, value in want.items():
        assert close(got[name], value), (name, got[name], value)
    o, now = Oracle(events), moment.timestamp()
    pure_subscriber = want["is_subscription"] and not o.by(EventType.PURCHASE)
    for days in (30, 90, 365):
        low, high = o.window(now, days), o.window(now, days + 7)
        if pure_subscriber:
            low, high = (0, 0), (0, 0)
        assert low[0] <= got[f"purchases_{days}d"] <= high[0], days
        assert low[1] / 100 <= got[f"spend_{days}d"] <= high[1] / 100, days
    assert set(want) | {f"{k}_{d}d" for k in ("purchases", "spend") for d in (30, 90, 365)} == set(
        FEATURE_NAMES
    )


@PROPERTY
@given(histories(), st.floats(0, 120))
def test_in_order_profile_matches_the_oracle(events, later):
    moment = events[-1].occurred_at + timedelta(days=later)
    check_against_oracle(events, events, moment)


@PROPERTY
@given(histories(min_size=2), st.lists(st.floats(0, 30), min_size=1, max_size=20), st.floats(0, 60))
def test_late_events_give_the_features_of_in_order_arrival(events, delays, later):
    """Shuffled within a lateness of 30 days: same features (floats within 1e-9)."""
    arrival = lateness_order(events, delays)
    moment = max(e.occurred_at for e in events) + timedelta(days=later)
    in_order, shuffled = features(build(events), moment), features(build(arrival), moment)
    for name in FEATURE_NAMES:
        assert close(in_order[name], shuffled[name]), (name, in_order[name], shuffled[name])
    check_against_oracle(events, arrival, moment)


@PROPERTY
@given(histories(min_size=1), st.data())
def test_duplicates_change_nothing(events, data):
    """Re-sends arriving within the next 20 events are no-ops: same state, field for field."""
    arrival = list(events)
    for _ in range(data.draw(st.integers(1, 10))):
        original = data.draw(st.integers(0, len(events) - 1))
        where = arrival.index(events[original]) + 1 + data.draw(st.integers(0, 20))
        arrival.insert(min(where, len(arrival)), events[original].model_copy())
    clean, noisy = CustomerProfile(), CustomerProfile()
    applied = [apply(noisy, e) for e in arrival]
    for e in events:
        apply(clean, e)
    assert noisy == clean
    assert noisy.to_bytes() == clean.to_bytes()
    assert applied.count(False) == len(arrival) - len(events)


@PROPERTY
@given(histories(), st.integers(0, 60))
def test_replay_and_checkpoints_are_byte_identical(events, cut):
    """Living through a history, replaying it, or stopping and reloading mid-way: same bytes."""
    live = build(events)
    restarted = CustomerProfile.from_bytes(build(events[:cut]).to_bytes())
    for e in events[cut:]:
        apply(restarted, e)
    assert build(events).to_bytes() == live.to_bytes() == restarted.to_bytes()
    assert restarted == live


@PROPERTY
@given(histories(max_size=120))
def test_bytes_round_trip_and_stay_within_bound(events):
    profile = build(events)
    data = profile.to_bytes()
    again = CustomerProfile.from_bytes(data)
    assert again == profile
    assert again.to_bytes() == data
    assert len(data) <= MAX_BYTES
