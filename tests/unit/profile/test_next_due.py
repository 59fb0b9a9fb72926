"""next_due: when the silence sweep must look at a customer again."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings

from churnwatch.events import EventType as E
from churnwatch.profile import CustomerProfile, Stage, next_due, stage_at

from .strategies import histories
from .support import at, build, event


def due_times(profile: CustomerProfile, start: datetime, until: datetime) -> list[datetime]:
    out: list[datetime] = []
    now = start
    while (due := next_due(profile, now)) is not None and due <= until:
        out.append(due)
        now = due
    return out


def test_an_unresolved_complaint_is_due_at_48_hours():
    profile = build([event(E.COMPLAINT, 10)])
    assert at(12) in due_times(profile, at(10), at(13))


def test_the_lapse_crossing_and_recency_steps_are_due():
    profile = build([event(E.SESSION, 0)])
    dues = due_times(profile, at(0), at(400))
    assert {at(d) for d in (1, 7, 30, 90, 365)} <= set(dues)
    assert dues == sorted(set(dues))


def test_renewal_grace_and_cancellation_are_due():
    profile = build([event(E.SUBSCRIPTION_STARTED, 0)])
    renewal = at(0) + timedelta(days=365.25 / 12)
    dues = due_times(profile, at(0), at(40))
    assert renewal in dues
    assert renewal + timedelta(days=3) in dues
    cancelled = build(
        [
            event(E.SUBSCRIPTION_STARTED, 0),
            event(E.SUBSCRIPTION_CANCELLED, 1, effective_at=at(17.5)),
        ]
    )
    assert at(17.5) in due_times(cancelled, at(1), at(20))


def test_nothing_is_due_for_the_erased_or_the_long_gone():
    erased = build([event(E.PURCHASE, 0), event(E.CUSTOMER_ERASED, 1)])
    assert next_due(erased, at(1)) is None
    gone = build([event(E.SESSION, 0)])
    assert next_due(gone, at(400)) is None
    assert next_due(CustomerProfile(), at(0)) is None


@settings(max_examples=60, deadline=None)
@given(histories(max_size=30))
def test_the_stage_never_changes_between_due_times(events):
    profile = build(events)
    now = max(e.occurred_at for e in events)
    for _ in range(40):
        due = next_due(profile, now)
        if due is None:
            break
        assert due > now
        stage = stage_at(profile, now + timedelta(seconds=1), previous=Stage.NONE)
        assert stage_at(profile, due - timedelta(seconds=1), previous=Stage.NONE) is stage
        now = due
