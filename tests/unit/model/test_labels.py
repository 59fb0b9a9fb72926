"""Delayed labels: never before the horizon or the outcome, order-free, treated customers marked."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.model import (
    CustomerKind,
    LabelReason,
    LabelResolver,
    OutcomeEvent,
    OutcomeKind,
    Snapshot,
    SnapshotOutcome,
    SnapshotPolicy,
)

T = datetime(2024, 3, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
RESOLVER = LabelResolver()
H, W, LOOKBACK = RESOLVER.horizon, RESOLVER.lapse_window, RESOLVER.treatment_lookback


def sub(active: bool = True) -> Snapshot:
    return Snapshot("C-1", T, CustomerKind.SUBSCRIPTION, {"nps_score": 4.0}, active=active)


def retail(silent_days: float) -> Snapshot:
    last = T - timedelta(days=silent_days)
    return Snapshot("C-2", T, CustomerKind.RETAIL, {"activity_recency_days": silent_days}, last)


def ev(kind: OutcomeKind, days: float) -> OutcomeEvent:
    return OutcomeEvent(kind, T + timedelta(days=days))


CANCEL, ACTIVITY, ACTION = OutcomeKind.CANCELLED, OutcomeKind.ACTIVITY, OutcomeKind.RETENTION_ACTION


def test_subscriber_who_stays_is_labelled_zero_exactly_at_the_horizon() -> None:
    events = [ev(ACTIVITY, 3)]
    assert RESOLVER.resolve(sub(), events, T + H - timedelta(microseconds=1)) is None
    label = RESOLVER.resolve(sub(), events, T + H)
    assert label is not None
    assert (label.churned, label.reason, label.known_at) == (False, LabelReason.STAYED, T + H)


def test_cancellation_within_the_horizon_is_a_one_learned_only_at_the_horizon() -> None:
    """Both outcomes are learned at t + H (issue 13): never early for churn."""
    events = [ev(CANCEL, 9.5)]
    assert RESOLVER.resolve(sub(), events, T + 9.5 * DAY) is None
    assert RESOLVER.resolve(sub(), events, T + H - timedelta(microseconds=1)) is None
    label = RESOLVER.resolve(sub(), events, T + H)
    assert label is not None
    assert (label.churned, label.reason, label.known_at, label.churned_at) == (
        True,
        LabelReason.CANCELLED,
        T + H,
        T + 9.5 * DAY,
    )


def test_an_expiry_ends_the_subscription_like_a_cancellation() -> None:
    label = RESOLVER.resolve(sub(), [ev(OutcomeKind.EXPIRED, 20), ev(CANCEL, 25)], T + H)
    assert label is not None
    assert (label.churned, label.churned_at) == (True, T + 20 * DAY)
    assert label.reason is LabelReason.EXPIRED


def test_the_earliest_end_names_the_reason_and_a_tie_goes_to_the_cancellation() -> None:
    earlier_cancel = [ev(CANCEL, 12), ev(OutcomeKind.EXPIRED, 20)]
    tie = [ev(OutcomeKind.EXPIRED, 20), ev(CANCEL, 20)]
    for events, reason in ((earlier_cancel, LabelReason.CANCELLED), (tie, LabelReason.CANCELLED)):
        for order in (events, events[::-1]):
            label = RESOLVER.resolve(sub(), order, T + H)
            assert label is not None
            assert label.reason is reason


def test_an_expiry_after_the_horizon_is_label_0() -> None:
    label = RESOLVER.resolve(sub(), [ev(OutcomeKind.EXPIRED, 31)], T + H)
    assert label is not None
    assert (label.churned, label.reason) == (False, LabelReason.STAYED)


def test_for_horizon_is_the_one_horizon_setting() -> None:
    resolver = LabelResolver.for_horizon(14)
    assert (resolver.horizon, resolver.treatment_lookback) == (14 * DAY, 14 * DAY)
    assert resolver.due_at(sub(), SnapshotOutcome()) == T + 14 * DAY


@pytest.mark.parametrize("cancel_day", [-2.0, 0.0, 30.5, 45.0])
def test_cancellation_outside_the_snapshots_horizon_is_not_its_churn(cancel_day: float) -> None:
    events = [ev(CANCEL, cancel_day)]
    assert RESOLVER.resolve(sub(), events, T + H - DAY) is None
    label = RESOLVER.resolve(sub(), events, T + H)
    assert label is not None
    assert not label.churned


def test_retail_customer_lapses_when_silent_through_the_lapse_window() -> None:
    snap = retail(silent_days=70)  # lapses 20 days after the snapshot
    lapse = T + W - 70 * DAY
    assert RESOLVER.due_at(snap, SnapshotOutcome()) == T + H
    assert RESOLVER.resolve(snap, [], lapse) is None
    assert RESOLVER.resolve(snap, [], T + H - timedelta(seconds=1)) is None
    label = RESOLVER.resolve(snap, [], T + H)
    assert label is not None
    assert (label.churned, label.reason, label.known_at, label.churned_at) == (
        True,
        LabelReason.LAPSED,
        T + H,
        lapse,
    )


def test_retail_customer_who_comes_back_before_the_lapse_stays() -> None:
    snap = retail(silent_days=70)
    events = [ev(ACTIVITY, 19)]
    assert RESOLVER.resolve(snap, events, T + 25 * DAY) is None
    label = RESOLVER.resolve(snap, events, T + H)
    assert label is not None
    assert (label.churned, label.reason) == (False, LabelReason.STAYED)


def test_recently_active_retail_customer_cannot_lapse_within_the_horizon() -> None:
    snap = retail(silent_days=5)  # lapse point 85 days out, beyond the 30-day horizon
    label = RESOLVER.resolve(snap, [], T + H)
    assert label is not None
    assert not label.churned


def test_snapshots_of_gone_customers_are_not_eligible() -> None:
    assert not RESOLVER.eligible(sub(active=False))
    assert not RESOLVER.eligible(retail(silent_days=W.days))
    assert not RESOLVER.eligible(Snapshot("C-3", T, CustomerKind.RETAIL, {}))
    with pytest.raises(ValueError, match="not live"):
        RESOLVER.resolve(sub(active=False), [], T + 2 * H)


@pytest.mark.parametrize(
    ("action_day", "treated"),
    [(-LOOKBACK.days - 1, False), (-LOOKBACK.days, True), (-1, True), (3, True), (12, False)],
)
def test_retention_action_marks_the_label_treated_only_inside_its_window(
    action_day: float, treated: bool
) -> None:
    """The window is [taken_at - lookback, the outcome]; here the customer cancels on day 10."""
    label = RESOLVER.resolve(sub(), [ev(ACTION, action_day), ev(CANCEL, 10)], T + 40 * DAY)
    assert label is not None
    assert label.churned
    assert label.treated is treated


def test_naive_times_and_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        RESOLVER.observe(sub(), SnapshotOutcome(), OutcomeEvent(CANCEL, datetime(2024, 3, 5)))
    with pytest.raises(ValueError, match="lapse_window"):
        LabelResolver(horizon=timedelta(days=120), lapse_window=timedelta(days=90))
    with pytest.raises(ValueError, match="horizon"):
        LabelResolver(horizon=timedelta(0))


KINDS = st.sampled_from(list(OutcomeKind))
EVENTS = st.lists(
    st.builds(ev, KINDS, st.floats(-40, 130, allow_nan=False).map(lambda d: round(d, 3))),
    max_size=12,
)


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    if draw(st.booleans()):
        return sub()
    return retail(silent_days=draw(st.floats(0, W.days - 0.01)))


@given(snapshots(), EVENTS, st.floats(-10, 150))
def test_no_label_before_it_is_certain(snap: Snapshot, events, watermark_day: float) -> None:
    watermark = T + timedelta(days=watermark_day)
    state = SnapshotOutcome()
    for event in events:
        state = RESOLVER.observe(snap, state, event)
    due = RESOLVER.due_at(snap, state)
    label = RESOLVER.resolve(snap, events, watermark)
    assert (label is None) == (watermark < due)
    if label is None:
        return
    assert label.known_at == T + H == due <= watermark
    ends = (CANCEL, OutcomeKind.EXPIRED)
    outcome_times = [e.at for e in events if e.kind in ends and T < e.at <= T + H]
    if not label.churned:
        assert label.churned_at is None
    elif snap.kind is CustomerKind.SUBSCRIPTION:
        assert label.churned_at == min(outcome_times)
    else:
        assert snap.last_activity_at is not None
        assert label.churned_at == snap.last_activity_at + W
        assert not [e for e in events if e.kind is ACTIVITY and T < e.at <= label.churned_at]
    actions = [e.at for e in events if e.kind is ACTION]
    decided = label.churned_at or label.known_at
    assert label.treated == any(T - LOOKBACK <= a <= decided for a in actions)


@given(snapshots(), EVENTS, st.randoms(use_true_random=False))
def test_event_order_and_duplicates_do_not_matter(snap: Snapshot, events, rnd: random.Random):
    shuffled = events + events[: len(events) // 2]
    rnd.shuffle(shuffled)
    for day in (5, 20, 30, 60):
        watermark = T + day * DAY
        assert RESOLVER.resolve(snap, events, watermark) == RESOLVER.resolve(
            snap, shuffled, watermark
        )


@given(st.lists(st.floats(0, 20 * 24, allow_nan=False), min_size=1, max_size=60))
def test_snapshot_policy_keeps_at_most_one_per_day_and_the_first_of_each(hours: list[float]):
    policy = SnapshotPolicy()
    times = sorted(T + timedelta(hours=h) for h in hours)
    kept, last_day = [], None
    for at in times:
        if policy.admits(last_day, at):
            kept.append(at)
            last_day = policy.day(at)
    days = [policy.day(at) for at in kept]
    assert len(days) == len(set(days)) == len({policy.day(at) for at in times})
    assert all(min(a for a in times if policy.day(a) == policy.day(k)) == k for k in kept)


def test_snapshot_policy_takes_none_for_a_late_event_of_an_earlier_day() -> None:
    policy = SnapshotPolicy()
    assert not policy.admits(policy.day(T), T - DAY)
    assert policy.day(datetime(2024, 3, 1, 23, 30, tzinfo=UTC) + timedelta(hours=1)) > policy.day(T)
