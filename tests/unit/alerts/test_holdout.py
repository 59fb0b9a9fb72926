"""Holdout assignment: the share is right, stable per customer, independent across playbooks;
action ids are deterministic and distinct."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.alerts import action_id, holdout_draw, in_holdout

IDS = [f"C-{i:06d}" for i in range(100_000)]


def _tolerance(share: float, n: int) -> float:
    return 4 * math.sqrt(share * (1 - share) / n)  # 4 standard errors


@pytest.mark.parametrize("share", [0.05, 0.1, 0.25, 0.5])
def test_the_share_is_kept_on_100k_customers(share):
    held = sum(in_holdout(c, "save_call_vip", share) for c in IDS)
    assert abs(held / len(IDS) - share) < _tolerance(share, len(IDS))


def test_draws_are_uniform():
    draws = [holdout_draw(c, "pb") for c in IDS]
    counts = [0] * 20
    for d in draws:
        counts[int(d * 20)] += 1
    expected = len(IDS) / 20
    chi2 = sum((c - expected) ** 2 / expected for c in counts)
    assert chi2 < 43.8  # chi-square, 19 degrees of freedom, p = 0.001


def test_assignment_is_stable_and_monotone_in_the_share():
    for c in IDS[:1000]:
        assert in_holdout(c, "pb", 0.1) == in_holdout(c, "pb", 0.1)
        assert not in_holdout(c, "pb", 0.1) or in_holdout(c, "pb", 0.2)  # growing keeps controls


def test_playbooks_are_independent():
    a = [in_holdout(c, "save_call_vip", 0.5) for c in IDS]
    b = [in_holdout(c, "offer_at_risk", 0.5) for c in IDS]
    both = sum(x and y for x, y in zip(a, b, strict=True)) / len(IDS)
    assert abs(both - 0.25) < _tolerance(0.25, len(IDS))
    agree = sum(x == y for x, y in zip(a, b, strict=True)) / len(IDS)
    assert abs(agree - 0.5) < _tolerance(0.5, len(IDS))


def test_the_salt_reshuffles():
    plain = [in_holdout(c, "pb", 0.5) for c in IDS[:20_000]]
    salted = [in_holdout(c, "pb", 0.5, salt="tenant-2") for c in IDS[:20_000]]
    agree = sum(x == y for x, y in zip(plain, salted, strict=True)) / len(plain)
    assert abs(agree - 0.5) < _tolerance(0.5, len(plain))


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_share_outside_0_1_is_an_error(share):
    with pytest.raises(ValueError, match="holdout share"):
        in_holdout("C-1", "pb", share)


def test_action_ids_are_distinct():
    ids = {action_id("pb", 1, c, "band_entered:high@2026-03-01") for c in IDS}
    assert len(ids) == len(IDS)


@given(st.lists(st.text(max_size=8), min_size=3, max_size=3), st.integers(1, 99))
def test_action_ids_depend_on_every_part_without_ambiguity(parts, version):
    pb, customer, key = parts
    assert action_id(pb, version, customer, key) == action_id(pb, version, customer, key)
    assert action_id(pb, version, customer, key) != action_id(pb, version + 1, customer, key)
    # moving characters across a boundary changes the id, whatever the characters
    if customer:
        moved = action_id(pb, version, customer[:-1], customer[-1] + key)
        assert moved != action_id(pb, version, customer, key)
