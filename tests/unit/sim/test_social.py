"""The second simulated business (issue 13): contract-valid events and activity-driven churn."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

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
