"""Where the "missing" events of issue 16 go: an erasure blanks the profile, its event count too.

The simulator's 30 days for 5,000 customers (seed 7) have 311,259 events and ``profile.events``
sums to 311,256 in every run: customer C-002927 sent a profile event, a session and then an
erasure, and `apply` of ``customer_erased`` resets every field (docs/privacy.md), so those three
are not counted — not duplicates, not lost. Later events of an erased customer are not applied.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from churnwatch.events import EXAMPLES, EventType, parse_event
from churnwatch.profile import CustomerProfile, apply

AT = datetime(2025, 1, 6, tzinfo=UTC)
FAR = datetime(9000, 1, 1, tzinfo=UTC)


def event(kind: EventType, n: int) -> dict[str, object]:
    return {
        **EXAMPLES[kind],
        "customer_id": "C-002927",
        "event_id": f"e-{n}",
        "occurred_at": (AT + timedelta(hours=n)).isoformat(),
    }


def test_an_erasure_takes_the_customers_event_count_with_it() -> None:
    stream = [
        event(EventType.CUSTOMER_PROFILE, 0),
        event(EventType.SESSION, 1),
        event(EventType.CUSTOMER_ERASED, 2),
    ]
    profile = CustomerProfile()
    applied = [apply(profile, parse_event(e, now=FAR)) for e in stream]
    assert applied == [True, True, True]  # all three applied: none is a duplicate
    assert profile.erased
    assert profile.events == 0  # ... and none is counted: the sum falls short by exactly three
    assert not apply(profile, parse_event(event(EventType.SESSION, 3), now=FAR))
    assert profile.events == 0


def test_other_customers_count_every_distinct_event_once() -> None:
    profile = CustomerProfile()
    session = parse_event(event(EventType.SESSION, 1), now=FAR)
    assert apply(profile, session)
    assert not apply(profile, session)  # a true duplicate (same event id) is not counted twice
    assert profile.events == 1
