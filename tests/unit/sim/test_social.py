"""The second simulated business (issue 13): contract-valid events and activity-driven churn."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np

from churnwatch.events import EventType, parse_event
from churnwatch_sim.social import ACTIVITIES, SocialApp, SocialTruth

FAR = datetime(9000, 1, 1, tzinfo=UTC)


def test_every_event_is_valid_and_activities_carry_their_names() -> None:
    app = SocialApp(customers=80, days=40, seed=3)
    kinds: Counter[str] = Counter()
    names: set[str] = set()
    while not app.done:
        for line in app.step():
            event = parse_event(line, now=FAR)
            kinds[event.event_type.value] += 1
            if event.event_type is EventType.FEATURE_USE:
                names.add(event.attributes.feature)
    assert names <= set(ACTIVITIES)
    assert {"like", "message"} <= names
    assert kinds["purchase"] == 0
    assert kinds["payment_failed"] == 0
    assert kinds["subscription_started"] == kinds["customer_profile"] > 0


def test_churn_follows_the_planted_activities() -> None:
    """Who churned had more unfriends and reports in their last week than who stayed."""
    app = SocialApp(customers=1500, days=120, seed=5)
    last_week: dict[int, np.ndarray] = {}
    while not app.done:
        before = app.alive.copy()
        app.step()
        for c in np.flatnonzero(before & app.gone & (app.churned_day == app.day - 1)):
            last_week[int(c)] = app.recent[c].sum(axis=0)
    stayers = app.recent[app.alive].sum(axis=1)
    churners = np.array(list(last_week.values()))
    unfriend, report = ACTIVITIES.index("unfriend"), ACTIVITIES.index("report")
    like = ACTIVITIES.index("like")
    assert len(churners) > 50
    assert churners[:, unfriend].mean() > 2 * stayers[:, unfriend].mean()
    assert churners[:, report].mean() > 2 * stayers[:, report].mean()
    # "like" is engagement only: no such gap
    assert churners[:, like].mean() < 1.5 * stayers[:, like].mean()


def test_the_truth_document_holds_the_planted_model() -> None:
    app = SocialApp(customers=10, days=2, seed=1)
    app.step()
    doc = app.truth_document()
    assert doc["model"]["weights"] == SocialTruth().weights  # type: ignore[index]
    assert len(doc["churned_day"]) == 10  # type: ignore[arg-type]


def test_non_renewers_get_an_expiry_at_the_end_of_their_paid_period_and_no_cancellation() -> None:
    app = SocialApp(customers=600, days=150, seed=11)
    ends: dict[str, list[tuple[str, datetime, datetime | None]]] = {}
    while not app.done:
        for line in app.step():
            event = parse_event(line, now=FAR)
            if event.event_type in (
                EventType.SUBSCRIPTION_CANCELLED,
                EventType.SUBSCRIPTION_EXPIRED,
            ):
                effective = event.attributes.effective_at
                ends.setdefault(event.customer_id, []).append(
                    (event.event_type.value, event.occurred_at, effective)
                )
    expired = np.flatnonzero(app.expired & (app.ended_day < app.days))
    cancelled = np.flatnonzero(app.gone & ~app.expired)
    assert len(expired) > 20  # both ways occur (share 0.4)
    assert len(cancelled) > 20
    for c in expired:
        ((kind, sent, effective),) = ends[f"S-{c}"]  # one end event, never a cancellation
        end = app.start_of(int(app.ended_day[c]))
        assert (kind, effective) == ("subscription_expired", end)
        assert end < sent <= end + timedelta(minutes=5)
        # a paid period is 30 days from the join day, and the churner decided within it
        assert (app.ended_day[c] - app.joined[c]) % 30 == 0
        assert 0 < app.ended_day[c] - app.churned_day[c] <= 30
    for c in cancelled:
        ((kind, sent, effective),) = ends[f"S-{c}"]
        assert kind == "subscription_cancelled"
        assert effective == app.start_of(int(app.ended_day[c]))
