"""Lifecycle stages and their transitions on hand-built histories."""

from __future__ import annotations

from churnwatch.events import EventType as E
from churnwatch.profile import (
    CustomerProfile,
    LifecycleRules,
    Stage,
    Transition,
    apply,
    features,
    stage_at,
    transition,
)

from .support import at, build, event


def walk(
    profile: CustomerProfile, moments: list[float], band: str | None = None
) -> list[Transition]:
    return [transition(profile, at(d), band=band) for d in moments]


def test_a_retail_customer_goes_new_active_repeat():
    profile = build([event(E.PURCHASE, 0)])
    new, active = walk(profile, [1, 31])
    assert (new.stage, new.previous, new.changed) == (Stage.NEW, Stage.NONE, True)
    assert (active.stage, active.changed, active.since) == (Stage.ACTIVE, True, at(31))
    apply(profile, event(E.PURCHASE, 40))
    repeat, same = walk(profile, [40, 41])
    assert repeat.stage is Stage.REPEAT
    assert (same.changed, same.since) == (False, at(40))


def test_at_risk_follows_the_band_and_ends_with_it():
    profile = build([event(E.PURCHASE, 0), event(E.PURCHASE, 5)])
    stages = [transition(profile, at(40), band=b).stage for b in ("low", "high", "critical", "low")]
    assert stages == [Stage.REPEAT, Stage.AT_RISK, Stage.AT_RISK, Stage.REPEAT]


def test_lapse_after_the_window_then_reactivation_then_back_to_normal():
    profile = build([event(E.PURCHASE, 0), event(E.SESSION, 10)])
    assert walk(profile, [99.9])[0].stage is Stage.ACTIVE
    lapsed = walk(profile, [100])[0]
    assert (lapsed.stage, lapsed.changed) == (Stage.LAPSED, True)
    apply(profile, event(E.SESSION, 130))
    back = walk(profile, [130])[0]
    assert (back.stage, back.previous) == (Stage.REACTIVATED, Stage.LAPSED)
    assert walk(profile, [159])[0].stage is Stage.REACTIVATED
    assert walk(profile, [160.5])[0].stage is Stage.ACTIVE


def test_an_old_sign_up_is_not_silence_before_we_were_watching():
    # first heard of today, signed up two years ago: an established customer, not a lapsed one
    profile = build([event(E.CUSTOMER_PROFILE, 0, signed_up_at=at(-730))])
    assert walk(profile, [0.01])[0].stage is Stage.ACTIVE
    apply(profile, event(E.SESSION, 1))
    assert walk(profile, [1])[0].stage is Stage.ACTIVE
    assert walk(profile, [91])[0].stage is Stage.LAPSED  # then silence counts


def test_a_custom_lapse_window():
    profile = build([event(E.SESSION, 0)])
    rules = LifecycleRules(lapse_days=14)
    assert transition(profile, at(15), rules=rules).stage is Stage.LAPSED


def test_subscribers_do_not_lapse_but_churn_when_the_subscription_ends():
    history = [event(E.SUBSCRIPTION_STARTED, 0), event(E.SUBSCRIPTION_RENEWED, 30)]
    profile = build(history)
    assert walk(profile, [200])[0].stage is Stage.REPEAT
    apply(profile, event(E.SUBSCRIPTION_CANCELLED, 201, effective_at=at(210)))
    assert walk(profile, [205])[0].stage is Stage.REPEAT  # still paid up
    churned = walk(profile, [210])[0]
    assert (churned.stage, churned.since) == (Stage.CHURNED, at(210))
    apply(profile, event(E.SUBSCRIPTION_STARTED, 250))
    assert walk(profile, [250])[0].stage is Stage.REACTIVATED


def test_an_expiry_reported_late_churns_the_subscriber_from_when_it_is_known():
    profile = build([event(E.SUBSCRIPTION_STARTED, 0), event(E.SUBSCRIPTION_RENEWED, 30)])
    assert walk(profile, [59])[0].stage is Stage.REPEAT
    # the period ended on day 60; billing reported the non-renewal on day 62
    apply(profile, event(E.SUBSCRIPTION_EXPIRED, 62, effective_at=at(60)))
    churned = walk(profile, [62])[0]
    assert (churned.stage, churned.previous) == (Stage.CHURNED, Stage.REPEAT)
    f = features(profile, at(62))
    assert (f["subscription_active"], f["cancellation_pending"]) == (0.0, 0.0)


def test_an_expiry_announced_before_the_end_is_pending_until_it():
    profile = build([event(E.SUBSCRIPTION_STARTED, 0), event(E.SUBSCRIPTION_RENEWED, 30)])
    apply(profile, event(E.SUBSCRIPTION_EXPIRED, 55, effective_at=at(60)))
    assert features(profile, at(57))["cancellation_pending"] == 1.0
    assert walk(profile, [57, 60])[1].stage is Stage.CHURNED


def test_a_churned_subscriber_who_buys_again_is_reactivated():
    history = [event(E.SUBSCRIPTION_STARTED, 0), event(E.SUBSCRIPTION_CANCELLED, 5)]
    profile = build(history)
    assert walk(profile, [6])[0].stage is Stage.CHURNED
    apply(profile, event(E.PURCHASE, 50))
    assert walk(profile, [50])[0].stage is Stage.REACTIVATED


def test_an_erased_customer_is_churned_for_good():
    profile = build([event(E.PURCHASE, 0), event(E.PURCHASE, 3), event(E.CUSTOMER_ERASED, 4)])
    assert walk(profile, [4])[0].stage is Stage.CHURNED
    assert not apply(profile, event(E.SESSION, 5))
    later = walk(profile, [6])[0]
    assert (later.stage, later.changed) == (Stage.CHURNED, False)


def test_stage_at_is_pure():
    profile = build([event(E.SESSION, 0)])
    before = profile.to_bytes()
    assert stage_at(profile, at(200), previous=Stage.ACTIVE) is Stage.LAPSED
    assert stage_at(profile, at(1), previous=Stage.LAPSED) is Stage.REACTIVATED
    assert profile.to_bytes() == before
    assert Stage.AT_RISK.label == "at_risk"
