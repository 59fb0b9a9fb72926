"""The state itself: bounds of every table, the duplicate guarantee, last-writer-wins fields,
erasure, and the size of the binary form on realistic and worst-case histories."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

import pytest

from churnwatch.events import EventType as E
from churnwatch.profile import (
    MAX_BYTES,
    CustomerProfile,
    ProfileDecodeError,
    apply,
    contact_permissions,
    to_seconds,
)
from churnwatch.profile._state import (
    COMPLAINT_CAPACITY,
    FAILURE_CAPACITY,
    PLAN_MAX_BYTES,
    SEEN_CAPACITY,
    TICKET_CAPACITY,
    TX_WEEKS,
)

from .support import at, build, event, realistic_history


def test_a_duplicate_within_the_window_is_ignored_and_beyond_it_is_not():
    original = event(E.PURCHASE, 0)
    profile = build([original])
    others = [event(E.SESSION, 1 + i / 100) for i in range(SEEN_CAPACITY - 1)]
    for e in others:
        apply(profile, e)
    assert not apply(profile, original)
    apply(profile, event(E.SESSION, 2))
    assert apply(profile, original)  # forgotten: ingest's durable id table is the guard
    assert profile.tx_count == 2
    assert len(profile.seen) == SEEN_CAPACITY


def test_complaints_table_is_bounded_and_evicts_resolved_ones_first():
    history = [event(E.COMPLAINT, i, complaint_id=f"K-{i}") for i in range(COMPLAINT_CAPACITY)]
    history.append(event(E.COMPLAINT, 9, complaint_id="K-2", status="resolved"))
    history.append(event(E.COMPLAINT, 10, complaint_id="K-new"))
    profile = build(history)
    assert len(profile.complaints) == COMPLAINT_CAPACITY
    open_since = sorted(entry[0] for entry in profile.complaints.values() if entry[1] > entry[2])
    assert open_since == [to_seconds(at(d)) for d in (0, 1, 3, 4, 10)]


def test_tickets_table_evicts_the_oldest_open_ticket_when_all_are_open():
    history = [event(E.SUPPORT_TICKET, i, ticket_id=f"T-{i}") for i in range(TICKET_CAPACITY + 1)]
    profile = build(history)
    assert len(profile.tickets) == TICKET_CAPACITY
    assert min(entry[0] for entry in profile.tickets.values()) == to_seconds(at(1))
    assert profile.tickets_total == TICKET_CAPACITY + 1


def test_resolved_entries_are_forgotten_after_the_horizon():
    history = [
        event(E.COMPLAINT, 0, complaint_id="K-1"),
        event(E.COMPLAINT, 1, complaint_id="K-1", status="resolved"),
        event(E.COMPLAINT, 200, complaint_id="K-2"),
    ]
    assert len(build(history).complaints) == 1


def test_failed_payments_saturate_at_capacity():
    profile = build([event(E.PAYMENT_FAILED, d) for d in range(FAILURE_CAPACITY + 3)])
    assert len(profile.failures) == FAILURE_CAPACITY
    assert profile.failures_total == FAILURE_CAPACITY + 3


def test_purchase_buckets_keep_only_the_last_weeks():
    profile = build([event(E.PURCHASE, 7 * w + 1) for w in range(TX_WEEKS + 20)])
    assert len(profile.tx_weeks) == TX_WEEKS
    assert profile.tx_count == TX_WEEKS + 20
    late = event(E.PURCHASE, 3)  # older than every kept week: lifetime totals only
    apply(profile, late)
    assert len(profile.tx_weeks) == TX_WEEKS
    assert profile.tx_count == TX_WEEKS + 21


def test_consent_and_sign_up_are_last_writer_wins_by_event_time():
    history = [
        event(E.CUSTOMER_PROFILE, 5, consent={"email": False}, signed_up_at=at(-10)),
        event(E.CUSTOMER_PROFILE, 3, consent={"email": True, "sms": True}, signed_up_at=at(-99)),
    ]
    profile = build(history)
    assert (profile.consent_email, profile.consent_sms, profile.consent_push) == (0, 1, -1)
    assert profile.signed_up == to_seconds(at(-10))


def test_plan_names_are_cut_at_a_character_boundary():
    profile = build([event(E.SUBSCRIPTION_STARTED, 0, plan="ü" * 40)])
    assert profile.plan == "ü" * (PLAN_MAX_BYTES // 2)


def test_times_outside_the_profile_clock_are_clamped():
    assert to_seconds(datetime(1960, 1, 1, tzinfo=UTC)) == 1
    profile = build([event(E.CUSTOMER_PROFILE, 0, signed_up_at=datetime(1960, 1, 1, tzinfo=UTC))])
    assert profile.signed_up == 1
    assert CustomerProfile.from_bytes(profile.to_bytes()) == profile


def test_an_erasure_wins_whatever_the_order():
    history = [event(E.PURCHASE, 1), event(E.NPS, 2), event(E.CUSTOMER_ERASED, 3)]
    erased_last, erased_first = build(history), build(history[::-1])
    assert erased_last == erased_first
    assert erased_last.erased
    assert erased_last.erased_at == to_seconds(at(3))


def test_realistic_histories_are_well_under_a_kibibyte():
    sizes = [len(build(realistic_history(seed)).to_bytes()) for seed in range(12)]
    assert max(sizes) <= MAX_BYTES
    assert statistics.median(sizes) < 0.7 * MAX_BYTES


def test_the_worst_case_fits_in_a_kibibyte():
    """Every table full, the widest buckets, the longest plan name."""
    history = [event(E.SUBSCRIPTION_STARTED, 0, plan="x" * 128, price="999999999.99")]
    history += [event(E.PURCHASE, 7 * w + 1, amount="999999999999") for w in range(TX_WEEKS + 2)]
    last = 7 * (TX_WEEKS + 2)
    history += [event(E.COMPLAINT, last - i, complaint_id=f"K-{i}") for i in range(9)]
    history += [event(E.SUPPORT_TICKET, last - i, ticket_id=f"T-{i}") for i in range(9)]
    history += [event(E.PAYMENT_FAILED, last + i / 10) for i in range(9)]
    history += [event(E.SESSION, last + 1 + i / 100) for i in range(SEEN_CAPACITY)]
    profile = build(history)
    assert len(profile.tx_weeks) == TX_WEEKS
    assert len(profile.seen) == SEEN_CAPACITY
    data = profile.to_bytes()
    assert len(data) <= MAX_BYTES
    assert CustomerProfile.from_bytes(data) == profile


@pytest.mark.parametrize("data", [b"", b"\x02", b"\x01\x00\x00"])
def test_foreign_bytes_are_refused(data):
    with pytest.raises(ProfileDecodeError):
        CustomerProfile.from_bytes(data)


def test_trailing_bytes_are_refused():
    with pytest.raises(ProfileDecodeError, match="trailing"):
        CustomerProfile.from_bytes(CustomerProfile().to_bytes() + b"\x00")


def test_contact_permissions_combine_consent_unsubscribes_and_erasure():
    history = [event(E.CUSTOMER_PROFILE, 1, consent={"email": True, "sms": False})]
    assert contact_permissions(build(history)) == {
        "email": True,
        "sms": False,
        "phone": None,
        "push": None,
    }
    unsubscribed = [*history, event(E.EMAIL_ENGAGEMENT, 2, action="unsubscribed")]
    assert contact_permissions(build(unsubscribed))["email"] is False
    erased = build([*history, event(E.CUSTOMER_ERASED, 3)])
    assert not any(contact_permissions(erased).values())
