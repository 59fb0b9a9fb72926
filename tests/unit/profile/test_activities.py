"""Per-activity features (issue 13): names kept apart, bounded, in the binary form."""

from __future__ import annotations

import math
from dataclasses import replace

from churnwatch.events import EventType
from churnwatch.profile import MAX_BYTES, ActivityVocabulary, CustomerProfile, apply, features
from churnwatch.profile._activities import activity_key
from churnwatch.profile._codec import FORMAT_VERSION
from churnwatch.profile._state import ACTIVITY_CAPACITY, TAU_SHORT_DAYS

from .support import at, event

VOCAB = ActivityVocabulary(("like", "unfriend"), buckets=1)


def use(profile: CustomerProfile, name: str, day: float, count: int = 1) -> None:
    assert apply(profile, event(EventType.FEATURE_USE, day, feature=name, count=count))


def test_each_activity_has_its_own_rate_and_unknown_ones_go_to_a_bucket() -> None:
    p = CustomerProfile()
    use(p, "like", 0, count=7)
    use(p, "unfriend", 0, count=2)
    use(p, "post", 0, count=3)
    x = features(p, at(7), VOCAB)
    # 7 uses a week ago, τ = 7 d, age 7 d: 7·e^-1 / (7·(1 − e^-1)) per day
    want = 7 * math.exp(-1) / (TAU_SHORT_DAYS * (1 - math.exp(-1)))
    assert math.isclose(x["activity_like_short"], want, rel_tol=1e-6)
    assert math.isclose(
        x["activity_unfriend_short"] / x["activity_like_short"], 2 / 7, rel_tol=1e-6
    )
    assert math.isclose(x["activity_other0_short"] / x["activity_like_short"], 3 / 7, rel_tol=1e-6)
    assert "activity_post_short" not in x


def test_the_table_keeps_the_most_used_names() -> None:
    p = CustomerProfile()
    for k in range(ACTIVITY_CAPACITY + 3):
        use(p, f"a{k}", 0, count=k + 1)
    assert len(p.activities) == ACTIVITY_CAPACITY
    assert activity_key("a0") not in p.activities  # the least used went first
    assert activity_key(f"a{ACTIVITY_CAPACITY + 2}") in p.activities


def test_a_late_activity_gives_the_in_order_rates() -> None:
    late, ordered = CustomerProfile(), CustomerProfile()
    use(ordered, "like", 0)
    use(ordered, "like", 3)
    use(late, "like", 3)
    use(late, "like", 0)
    a = features(ordered, at(4), VOCAB)
    b = features(late, at(4), VOCAB)
    assert math.isclose(a["activity_like_long"], b["activity_like_long"], rel_tol=1e-6)


def test_a_full_profile_with_activities_fits_the_budget_and_round_trips() -> None:
    p = CustomerProfile()
    for k in range(ACTIVITY_CAPACITY):
        use(p, f"activity-{k}", k / 24)
    data = p.to_bytes()
    assert data[0] == FORMAT_VERSION
    assert CustomerProfile.from_bytes(data) == p
    # bound: every table full (measured in test_state for the rest) + 6 activities ≤ 1 KiB
    without = replace(p, activities={})
    assert len(data) - len(without.to_bytes()) == ACTIVITY_CAPACITY * 12
    # the hard bound: 1,008 bytes with every table full (docs/profile.md)
    assert MAX_BYTES >= 1008


def test_top_by_volume_picks_the_busiest_names() -> None:
    vocab = ActivityVocabulary.top_by_volume({"like": 50, "post": 20, "unfriend": 1}, top=2)
    assert vocab.names == ("like", "post")
    assert vocab.feature_names()[-4:] == (
        "activity_other0_short",
        "activity_other0_long",
        "activity_other1_short",
        "activity_other1_long",
    )
