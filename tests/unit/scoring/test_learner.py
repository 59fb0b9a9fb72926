"""The learner's pure helpers: snapshot rows, outcomes from profiles, decisions, JSON, CLV."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
import pytest

from churnwatch.events import EXAMPLES, EventType, parse_event
from churnwatch.model import (
    ChallengerPromoted,
    ColdStartRule,
    DriftDetected,
    LabelReason,
    LabelResolver,
    ModelConfig,
    ModelState,
    SwitchedToLearned,
    TreatmentPolicy,
)
from churnwatch.profile import CustomerProfile, apply, features, from_seconds
from churnwatch.value import fit_bgnbd, fit_gamma_gamma
from churnwatch_scoring.learner import (
    Deferred,
    LearnerSettings,
    Resolved,
    Skipped,
    clv_due,
    decide,
    fit_clv,
    fits_from_json,
    jsonable,
    quality_json,
    record_kind,
    record_row,
    snapshot_of,
)

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
RESOLVER = LabelResolver()


def event(kind: EventType, at: datetime, n: int, **attributes: Any) -> Any:
    raw = dict(EXAMPLES[kind])
    raw.update(
        event_id=f"e-{kind.value}-{n}",
        customer_id="C-1",
        occurred_at=at.isoformat().replace("+00:00", "Z"),
        attributes={**raw["attributes"], **attributes},
    )
    return parse_event(raw, now=at + DAY)


def profile_of(*events: Any) -> CustomerProfile:
    profile = CustomerProfile()
    for e in events:
        apply(profile, e)
    return profile


def subscriber(cancel_at: datetime | None = None) -> CustomerProfile:
    started = event(
        EventType.SUBSCRIPTION_STARTED, T0 - 40 * DAY, 1, trial=False, subscription_id="S-1"
    )
    if cancel_at is None:
        return profile_of(started)
    cancelled = event(
        EventType.SUBSCRIPTION_CANCELLED,
        cancel_at,
        2,
        subscription_id="S-1",
        effective_at=(cancel_at + 10 * DAY).isoformat().replace("+00:00", "Z"),
    )
    return profile_of(started, cancelled)


def sub_snapshot(profile: CustomerProfile, at: datetime = T0) -> Any:
    return snapshot_of("C-1", at, "subscription", features(profile, at))


# -- snapshot rows -----------------------------------------------------------------------


def test_retail_snapshot_takes_its_last_activity_from_activity_recency() -> None:
    snap = snapshot_of("C-1", T0, "retail", {"activity_recency_days": 70.25, "x": 1})
    assert snap.last_activity_at == T0 - timedelta(days=70.25)
    assert snap.features == {"activity_recency_days": 70.25, "x": 1.0}


def test_subscription_snapshot_is_live_only_when_active_and_not_cancelling() -> None:
    assert snapshot_of("C", T0, "subscription", {"subscription_active": 1.0}).active
    pending = {"subscription_active": 1.0, "cancellation_pending": 1.0}
    assert not snapshot_of("C", T0, "subscription", pending).active
    assert not snapshot_of("C", T0, "subscription", {}).active


def test_unknown_business_model_is_an_error() -> None:
    with pytest.raises(ValueError, match="b2b"):
        snapshot_of("C", T0, "b2b", {})


# -- decisions ---------------------------------------------------------------------------


def test_a_cancellation_ending_in_the_horizon_is_label_1_at_its_effective_time() -> None:
    cancel, end = T0 + 12 * DAY, T0 + 30 * DAY
    profile = subscriber(cancel)  # effective 10 days after the cancellation: day 22
    snap = sub_snapshot(subscriber(), T0)  # features before the cancellation
    assert decide(RESOLVER, snap, profile, cancel) == Deferred(end)
    decision = decide(RESOLVER, snap, profile, end)
    assert isinstance(decision, Resolved)
    assert decision.label.churned
    assert decision.label.reason is LabelReason.CANCELLED
    assert (decision.label.known_at, decision.label.churned_at) == (end, T0 + 22 * DAY)


def test_a_cancellation_in_the_horizon_ending_after_it_is_label_0() -> None:
    # cancelled on day 25, effective on day 35: the subscription runs past t + 30
    decision = decide(
        RESOLVER, sub_snapshot(subscriber()), subscriber(T0 + 25 * DAY), T0 + 40 * DAY
    )
    assert isinstance(decision, Resolved)
    assert not decision.label.churned
    assert decision.label.reason is LabelReason.STAYED


def test_a_cancellation_without_effective_at_ends_when_it_occurred() -> None:
    started = event(EventType.SUBSCRIPTION_STARTED, T0 - 40 * DAY, 1, trial=False)
    raw = event(EventType.SUBSCRIPTION_CANCELLED, T0 + 5 * DAY, 2, effective_at=None)
    decision = decide(RESOLVER, sub_snapshot(subscriber()), profile_of(started, raw), T0 + 30 * DAY)
    assert isinstance(decision, Resolved)
    assert decision.label.churned_at == T0 + 5 * DAY


def expired_subscriber(reported: datetime, effective: datetime) -> CustomerProfile:
    started = event(EventType.SUBSCRIPTION_STARTED, T0 - 40 * DAY, 1, trial=False)
    expired = event(
        EventType.SUBSCRIPTION_EXPIRED,
        reported,
        3,
        effective_at=effective.isoformat().replace("+00:00", "Z"),
    )
    return profile_of(started, expired)


def test_an_expiry_in_the_horizon_is_label_1_expired_at_its_effective_time() -> None:
    # the plan ran out on day 20, the billing system said so on day 21
    profile = expired_subscriber(T0 + 21 * DAY, T0 + 20 * DAY)
    snap = sub_snapshot(subscriber(), T0)
    assert decide(RESOLVER, snap, profile, T0 + 29 * DAY) == Deferred(T0 + 30 * DAY)
    decision = decide(RESOLVER, snap, profile, T0 + 30 * DAY)
    assert isinstance(decision, Resolved)
    assert decision.label.churned
    assert decision.label.reason is LabelReason.EXPIRED
    assert decision.label.churned_at == T0 + 20 * DAY


def test_an_expiry_reported_after_a_snapshot_it_precedes_is_never_labelled() -> None:
    # the plan ended on day 2; the snapshot of day 3 still saw an active subscriber
    profile = expired_subscriber(T0 + 4 * DAY, T0 + 2 * DAY)
    snap = sub_snapshot(subscriber(), T0 + 3 * DAY)
    assert decide(RESOLVER, snap, profile, T0 + 40 * DAY) == Skipped("not live at the snapshot")


def test_an_active_subscriber_is_label_0_only_after_the_horizon() -> None:
    snap = sub_snapshot(subscriber())
    assert decide(RESOLVER, snap, subscriber(), T0 + 30 * DAY - DAY) == Deferred(T0 + 30 * DAY)
    decision = decide(RESOLVER, snap, subscriber(), T0 + 30 * DAY)
    assert isinstance(decision, Resolved)
    assert not decision.label.churned
    assert decision.label.reason is LabelReason.STAYED


def test_a_cancellation_after_the_horizon_is_label_0() -> None:
    snap = sub_snapshot(subscriber())
    decision = decide(RESOLVER, snap, subscriber(T0 + 45 * DAY), T0 + 50 * DAY)
    assert isinstance(decision, Resolved)
    assert not decision.label.churned


def retail_profile(*activity: datetime) -> CustomerProfile:
    return profile_of(*(event(EventType.SESSION, at, k) for k, at in enumerate(activity)))


def test_retail_last_activity_is_the_profiles_to_the_second() -> None:
    """The worker indexes the lapse at the profile's exact last activity; so must we."""
    profile = retail_profile(T0 - 70 * DAY + timedelta(seconds=17))
    t = T0 + timedelta(microseconds=123_457)
    snap = snapshot_of("C-1", t, "retail", features(profile, t))
    assert snap.last_activity_at == from_seconds(profile.last_activity)


def test_a_silent_retail_customer_lapses_at_last_activity_plus_window() -> None:
    last = T0 - 70 * DAY
    profile = retail_profile(last)
    snap = snapshot_of("C-1", T0, "retail", features(profile, T0))
    lapse = last + 90 * DAY
    assert decide(RESOLVER, snap, profile, lapse) == Deferred(T0 + 30 * DAY)
    decision = decide(RESOLVER, snap, profile, T0 + 30 * DAY)
    assert isinstance(decision, Resolved)
    assert decision.label.churned
    assert decision.label.reason is LabelReason.LAPSED
    assert decision.label.churned_at == lapse


def test_a_retail_customer_back_before_the_lapse_is_deferred_to_the_horizon() -> None:
    last, back = T0 - 70 * DAY, T0 + 5 * DAY
    snap = snapshot_of("C-1", T0, "retail", features(retail_profile(last), T0))
    profile = retail_profile(last, back)
    assert decide(RESOLVER, snap, profile, T0 + 29 * DAY) == Deferred(T0 + 30 * DAY)
    decision = decide(RESOLVER, snap, profile, T0 + 30 * DAY)
    assert isinstance(decision, Resolved)
    assert not decision.label.churned


def test_a_later_snapshot_proves_an_early_return_the_profile_no_longer_shows() -> None:
    last = T0 - 70 * DAY
    snap = snapshot_of("C-1", T0, "retail", features(retail_profile(last), T0))
    # the profile's last activity is past the lapse point, but a later snapshot saw a return
    profile = retail_profile(last, T0 + 5 * DAY, T0 + 40 * DAY)
    lapsed = decide(RESOLVER, snap, profile, T0 + 30 * DAY)
    assert isinstance(lapsed, Resolved)
    assert lapsed.label.churned  # without the evidence: the profile alone can't tell
    stayed = decide(RESOLVER, snap, profile, T0 + 30 * DAY, returned_at=T0 + 5 * DAY)
    assert isinstance(stayed, Resolved)
    assert not stayed.label.churned


def test_a_retention_action_marks_the_label_treated() -> None:
    snap = sub_snapshot(subscriber())
    w = T0 + 30 * DAY
    treated = decide(RESOLVER, snap, subscriber(), w, actions=[T0 - 3 * DAY])
    too_early = decide(RESOLVER, snap, subscriber(), w, actions=[T0 - 40 * DAY])
    assert isinstance(treated, Resolved)
    assert isinstance(too_early, Resolved)
    assert treated.label.treated
    assert not too_early.label.treated


@pytest.mark.parametrize(
    ("profile", "snap_features", "why"),
    [
        (None, {"subscription_active": 1.0}, "no profile"),
        (CustomerProfile(erased=True), {"subscription_active": 1.0}, "erased"),
        (CustomerProfile(), {"subscription_active": 0.0}, "not live at the snapshot"),
    ],
)
def test_unlabellable_snapshots_are_skipped(
    profile: CustomerProfile | None, snap_features: dict[str, float], why: str
) -> None:
    snap = snapshot_of("C-1", T0, "subscription", snap_features)
    assert decide(RESOLVER, snap, profile, T0 + 60 * DAY) == Skipped(why)


# -- JSON --------------------------------------------------------------------------------


def test_records_get_their_kind_and_a_json_detail() -> None:
    switched = SwitchedToLearned(T0, 40, 12, 28, 0.6, None, "sgd.g1.n40")
    drift = DriftDetected(T0, "sgd", 0.3, float("nan"), True, 99, True)
    promoted = ChallengerPromoted(T0, "adam", "sgd", 2000, 300, 0.7, 0.72, 0.4, 0.39, "adam.g2")
    assert [record_kind(r) for r in (switched, drift, promoted)] == [
        "switched_to_learned",
        "drift",
        "promoted",
    ]
    row = record_row(drift)
    assert row["at"] == T0
    assert row["detail"]["loss_after"] is None
    assert row["detail"]["at"] == T0.isoformat()
    orjson.dumps(row["detail"])


def test_quality_json_is_plain_json_with_the_reports_fields() -> None:
    state = ModelState(
        ModelConfig(cold_start=ColdStartRule(min_labels=20, min_per_class=5, paired=False))
    )
    for k in range(40):
        state.learn({"x": float(k % 5)}, k % 5 >= 3, at=T0)
    doc = quality_json(state.quality())
    assert doc["labels"] == 40
    assert doc["champion"]["count"] == 40
    assert len(doc["champion"]["calibration"]) == 10
    assert orjson.loads(orjson.dumps(doc)) == doc


def test_jsonable_turns_non_finite_floats_and_numpy_scalars_into_json() -> None:
    assert jsonable({"a": np.float64(1.5), "b": [math.inf], "c": TreatmentPolicy.EXCLUDE}) == {
        "a": 1.5,
        "b": [None],
        "c": "exclude",
    }


# -- CLV ---------------------------------------------------------------------------------


def test_clv_refit_is_due_first_then_by_time_or_growth() -> None:
    args = {"interval_s": 600.0, "growth": 0.1}
    assert clv_due(elapsed_s=None, customers=0, customers_at_last_fit=0, **args)
    assert clv_due(elapsed_s=600.0, customers=10, customers_at_last_fit=10, **args)
    assert not clv_due(elapsed_s=599.0, customers=10, customers_at_last_fit=10, **args)
    assert clv_due(elapsed_s=1.0, customers=110, customers_at_last_fit=100, **args)
    assert not clv_due(elapsed_s=1.0, customers=0, customers_at_last_fit=0, **args)


def population(n: int, seed: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    T = rng.uniform(30, 300, n).round()
    x = rng.poisson(T / 60).astype(float)
    recency = np.where(x > 0, (T * rng.uniform(0.2, 1, n)).round(), 0.0)
    monetary = np.where(x > 0, rng.gamma(6, 5, n).round(2), 0.0)
    return x, recency, T, monetary


def test_fit_clv_equals_the_direct_fits_and_round_trips_through_json() -> None:
    x, recency, T, m = population(600)
    fit = fit_clv(x, recency, T, m, min_customers=200, min_repeat=20)
    assert fit is not None
    direct_bg, direct_gg = fit_bgnbd(x, recency, T), fit_gamma_gamma(x, m)
    assert fit.bgnbd.params == direct_bg.params
    assert fit.gamma_gamma.params == direct_gg.params
    bg, gg = fits_from_json(
        orjson.loads(orjson.dumps(fit.bgnbd_json())),
        orjson.loads(orjson.dumps(fit.gamma_gamma_json())),
    )
    assert bg == fit.bgnbd
    assert gg == fit.gamma_gamma
    assert fit.bgnbd_json()["periods_per_month"] == 30.0


def test_fit_clv_skips_small_populations() -> None:
    x, recency, T, m = population(150)
    assert fit_clv(x, recency, T, m, min_customers=200, min_repeat=20) is None
    x, recency, T, m = population(300)
    assert fit_clv(x, recency, T, m, min_customers=200, min_repeat=10_000) is None


# -- settings ----------------------------------------------------------------------------


def test_settings_read_their_prefix_and_the_shared_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CW_LEARNER_BATCH_SIZE", "7")
    monkeypatch.setenv("CW_LEARNER_HORIZON_DAYS", "14")
    monkeypatch.setenv("CW_LEARNER_TREATMENT", "indicator")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:1/db")
    settings = LearnerSettings()
    assert settings.batch_size == 7
    assert settings.database_url == "postgresql://u@h:1/db"
    assert settings.model().horizon_days == 14
    assert settings.model().treatment is TreatmentPolicy.INDICATOR
    resolver = settings.resolver()
    assert resolver.horizon == timedelta(days=14)
    assert resolver.treatment_lookback == timedelta(days=14)
    assert resolver.lapse_window == timedelta(days=90)
