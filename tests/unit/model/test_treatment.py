"""Treated customers: the model must not learn that being called causes (or prevents) churn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest

from churnwatch.model import (
    TREATED_FEATURE,
    CustomerKind,
    LabelResolver,
    ModelConfig,
    ModelState,
    OutcomeEvent,
    OutcomeKind,
    Snapshot,
    TreatmentPolicy,
)

from .conftest import COUNT_ONLY_RULE, START
from .synthetic import NAMES, TRUE_INTERCEPT, TRUE_WEIGHTS, raw_features

EFFECT = 0.1  # a save call divides the churn odds by ten
HOLDOUT = 0.2  # the alerts service leaves 20% of eligible customers untreated


@dataclass(frozen=True)
class World:
    rows: list[dict[str, float]]
    churned: np.ndarray  # what happened
    churned_if_left_alone: np.ndarray  # same random draws, nobody treated
    treated: np.ndarray


def treated_world(n: int, seed: int) -> World:
    """High-risk customers are treated (except a random holdout), which lowers their churn."""
    rng = np.random.default_rng(seed)
    x = raw_features(rng, n)
    eta = x @ TRUE_WEIGHTS + TRUE_INTERCEPT
    p_alone = 1 / (1 + np.exp(-eta))
    treated = (p_alone > 0.3) & (rng.random(n) > HOLDOUT)
    p_treated = 1 / (1 + np.exp(-(eta + np.log(EFFECT))))
    u = rng.random(n)
    alone = u < p_alone
    churned = np.where(treated, u < p_treated, alone)
    rows = [dict(zip(NAMES, map(float, r), strict=True)) for r in x]
    return World(rows, churned, alone, treated)


def risky_test_rows(n: int = 4000, seed: int = 99) -> list[dict[str, float]]:
    """Fresh customers whose true risk if left alone is above 30%."""
    x = raw_features(np.random.default_rng(seed), n)
    p_alone = 1 / (1 + np.exp(-(x @ TRUE_WEIGHTS + TRUE_INTERCEPT)))
    return [dict(zip(NAMES, map(float, r), strict=True)) for r in x[p_alone > 0.3]]


RISKY_TEST_ROWS = risky_test_rows()


def mean_risk_of_the_risky(
    world: World, policy: TreatmentPolicy, *, labels: np.ndarray, marked: bool
) -> float:
    """Mean predicted risk of fresh high-risk customers after learning ``labels``."""
    state = ModelState(ModelConfig(cold_start=COUNT_ONLY_RULE, treatment=policy, challenger=None))
    for x, y, t in zip(world.rows, labels, world.treated, strict=True):
        state.learn(x, bool(y), at=START, treated=bool(t) and marked)
    return float(np.mean([state.predict(row).probability for row in RISKY_TEST_ROWS]))


@pytest.fixture(scope="module")
def world() -> World:
    return treated_world(12_000, seed=41)


@pytest.fixture(scope="module")
def untreated_reference(world: World) -> float:
    """What the model would predict had nobody been treated (same customers, same draws)."""
    labels = world.churned_if_left_alone
    return mean_risk_of_the_risky(world, TreatmentPolicy.EXCLUDE, labels=labels, marked=False)


@pytest.fixture(scope="module")
def naive(world: World) -> float:
    """The model that learns treated outcomes as if nothing had been done."""
    return mean_risk_of_the_risky(
        world, TreatmentPolicy.EXCLUDE, labels=world.churned, marked=False
    )


def test_naive_learning_underestimates_the_risk_of_customers_who_get_called(
    untreated_reference: float, naive: float
) -> None:
    assert naive < untreated_reference - 0.05


@pytest.mark.parametrize("policy", list(TreatmentPolicy))
def test_treatment_policy_keeps_the_untreated_risk(
    world: World, untreated_reference: float, naive: float, policy: TreatmentPolicy
) -> None:
    fixed = mean_risk_of_the_risky(world, policy, labels=world.churned, marked=True)
    assert abs(fixed - untreated_reference) < abs(naive - untreated_reference) / 2


def test_exclude_policy_skips_treated_labels_entirely() -> None:
    state = ModelState()
    before = state.to_bytes()
    assert state.learn({"nps_score": 2.0}, True, at=START, treated=True) == []
    assert (state.labels, state.skipped_treated) == (0, 1)
    after = ModelState.from_bytes(state.to_bytes())
    after.skipped_treated = 0
    assert after.to_bytes() == before


def test_indicator_policy_never_reports_the_indicator_as_a_reason() -> None:
    state = ModelState(ModelConfig(cold_start=COUNT_ONLY_RULE, treatment=TreatmentPolicy.INDICATOR))
    world = treated_world(1500, seed=42)
    for x, y, t in zip(world.rows, world.churned, world.treated, strict=True):
        state.learn(x, bool(y), at=START, treated=bool(t))
    assert state.learned_active
    score = state.predict(world.rows[0])
    assert TREATED_FEATURE not in score.contributions
    with pytest.raises(ValueError, match="reserved"):
        state.learn({TREATED_FEATURE: 1.0}, True, at=START)


def test_resolved_label_carries_the_treatment_mark_into_learning() -> None:
    snap = Snapshot(
        "C-9",
        START,
        CustomerKind.SUBSCRIPTION,
        {"nps_score": 1.0, "failed_payments_consecutive": 2.0},
    )
    events = [
        OutcomeEvent(OutcomeKind.RETENTION_ACTION, START + timedelta(days=1)),
        OutcomeEvent(OutcomeKind.CANCELLED, START + timedelta(days=5)),
    ]
    label = LabelResolver().resolve(snap, events, START + timedelta(days=60))
    assert label is not None
    assert label.treated
    state = ModelState()
    state.learn_label(snap, label)
    assert (state.labels, state.skipped_treated) == (0, 1)
