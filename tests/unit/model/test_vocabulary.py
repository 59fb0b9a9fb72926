"""Activity names picked from the business's own volumes: deterministic, sticky, versioned."""

from __future__ import annotations

import hashlib
import pickle
import random
from datetime import UTC, datetime

import pytest

from churnwatch.model import (
    ColdStartRule,
    ModelConfig,
    ModelState,
    ServingModel,
    VocabularyChanged,
    VocabularyPolicy,
    vocabulary_version,
)
from churnwatch.profile import ActivityVocabulary

NONE = ActivityVocabulary(())
AT = datetime(2026, 3, 1, tzinfo=UTC)
# a social app's month: likes dominate; report is rare (0.6%) but above the 0.1% floor
VOLUMES = {
    "like": 5_000.0,
    "message": 2_000.0,
    "post": 1_200.0,
    "reply": 1_000.0,
    "share": 400.0,
    "unfriend": 300.0,
    "report": 55.0,
    "poke": 5.0,  # 0.05%: below min_share
}


def test_nothing_is_picked_before_min_uses() -> None:
    policy = VocabularyPolicy(top=3, min_uses=20_000)
    assert policy.choose(NONE, VOLUMES) is NONE


def test_the_first_pick_is_the_top_names_by_volume_above_the_share_floor() -> None:
    vocab = VocabularyPolicy(top=8, buckets=1).choose(NONE, VOLUMES)
    # 9,960 uses: 'poke' (5 < 9.96) is left to the hashed buckets, the other seven are in
    assert vocab.names == ("like", "message", "post", "reply", "share", "unfriend", "report")
    assert vocab.buckets == 1


def test_the_pick_does_not_depend_on_the_order_volumes_were_counted_in() -> None:
    policy = VocabularyPolicy(top=4)
    items = list(VOLUMES.items())
    picks = set()
    for seed in range(5):
        random.Random(seed).shuffle(items)
        picks.add(policy.choose(NONE, dict(items)).names)
    assert picks == {("like", "message", "post", "reply")}


def test_ties_are_broken_by_name() -> None:
    vocab = VocabularyPolicy(top=2, min_uses=0).choose(NONE, {"b": 10.0, "a": 10.0, "c": 10.0})
    assert vocab.names == ("a", "b")


def test_a_member_is_replaced_only_by_an_outsider_margin_times_larger() -> None:
    policy = VocabularyPolicy(top=2, min_uses=0, margin=1.5)
    current = ActivityVocabulary(("like", "post"), policy.buckets)
    # 'share' passed 'post' (1,500 > 1,200) but not by half again: the vocabulary stays
    same = policy.choose(current, {"like": 5_000.0, "post": 1_200.0, "share": 1_500.0})
    assert same is current
    # at 1,800 = 1.5 x 1,200 it takes post's slot; like keeps its place
    moved = policy.choose(current, {"like": 5_000.0, "post": 1_200.0, "share": 1_800.0})
    assert moved.names == ("like", "share")


def test_a_vanished_member_gives_way_and_free_slots_are_filled() -> None:
    policy = VocabularyPolicy(top=3, min_uses=0)
    current = ActivityVocabulary(("export", "import"), policy.buckets)
    # 'import' is no longer sent at all; 'sync' and 'share' are new
    vocab = policy.choose(current, {"export": 900.0, "sync": 500.0, "share": 100.0})
    # the free third slot takes 'sync'; 'share' (100) then beats the vanished 'import' (0)
    assert vocab.names == ("export", "share", "sync")


def test_names_with_one_slug_are_never_both_in() -> None:
    policy = VocabularyPolicy(top=3, min_uses=0)
    vocab = policy.choose(NONE, {"Post": 50.0, "post": 40.0, "like": 30.0})
    assert vocab.names == ("Post", "like")
    assert policy.choose(vocab, {"Post": 50.0, "post": 40.0, "like": 30.0}) is vocab


@pytest.mark.parametrize(
    "kwargs",
    [{"top": -1}, {"buckets": -1}, {"min_uses": -1.0}, {"margin": 0.9}, {"min_share": 1.0}],
)
def test_bad_policies_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        VocabularyPolicy(**kwargs)  # type: ignore[arg-type]


def test_the_version_tag_hashes_names_in_order_and_buckets() -> None:
    tag = vocabulary_version(ActivityVocabulary(("like", "post"), 2))
    assert tag == "a" + hashlib.sha256(b"like\x1fpost\x1e2").hexdigest()[:8]
    assert tag != vocabulary_version(ActivityVocabulary(("post", "like"), 2))
    assert tag != vocabulary_version(ActivityVocabulary(("like", "post"), 1))
    assert vocabulary_version(NONE) == "a0"


def learned_state() -> ModelState:
    rule = ColdStartRule(min_labels=40, min_per_class=10, paired=False)
    state = ModelState(ModelConfig(cold_start=rule))
    for k in range(40):
        state.learn({"activity_like_short": float(k % 4)}, k % 4 >= 2, at=AT)
    assert state.learned_active
    return state


def test_the_model_carries_its_vocabulary_into_its_version_and_serving_copy() -> None:
    state = learned_state()
    assert state.version == "sgd.g1.n40"  # no names picked: the version as before
    vocab = ActivityVocabulary(("like", "unfriend"))
    (record,) = state.set_activities(vocab, AT)
    tag = vocabulary_version(vocab)
    assert state.version == f"sgd.g1.n40.{tag}"
    assert record == VocabularyChanged(AT, 40, "a0", tag, ("like", "unfriend"), (), state.version)
    assert state.set_activities(vocab, AT) == []  # unchanged: no record
    serving = ServingModel.from_bytes(state.serving().to_bytes())
    assert (serving.activities, serving.version) == (vocab, state.version)
    x = {"activity_like_short": 3.0}
    assert serving.predict(x) == state.predict(x)
    assert ModelState.from_bytes(state.to_bytes()).activities == vocab


def test_the_prior_keeps_its_version_and_checkpoints_without_a_vocabulary_load() -> None:
    state = ModelState()
    state.set_activities(ActivityVocabulary(("like",)), AT)
    assert state.version == "prior-v1"  # the prior reads no activity feature
    assert state.serving().activities.names == ("like",)
    old = ModelState()  # a state never given a vocabulary pickles without one, as before
    assert "activities" not in old.__dict__
    assert pickle.loads(pickle.dumps(old)).activities == NONE
