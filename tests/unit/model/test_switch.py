"""The guarded switch: prior -> learned only on a paired win, back to the prior on a loss."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from churnwatch.model import (
    ColdStartRule,
    FellBackToPrior,
    ModelConfig,
    ModelRecord,
    ModelState,
    PriorTerm,
    RulePrior,
    SwitchedToLearned,
)

START = datetime(2024, 1, 1, tzinfo=UTC)
RULE = ColdStartRule(min_labels=500, min_per_class=30, window=1000, check_every=100, patience=2)


def world(n: int, seed: int, *, signal: str) -> tuple[list[dict[str, float]], np.ndarray]:
    """Churn driven by ``signal`` only; the other feature is noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0, 1, n), rng.normal(0, 1, n)
    driver = a if signal == "a" else b
    p = 1 / (1 + np.exp(-(2.0 * driver - 1.5)))
    y = rng.random(n) < p
    return [{"a": float(u), "b": float(v)} for u, v in zip(a, b, strict=True)], y


def prior_on(feature: str) -> RulePrior:
    """A prior that reads ``feature`` the right way (it knows the truth)."""
    term = PriorTerm(feature, weight=2.0, reference=0.0, scale=1.0)
    return RulePrior(terms=(term,), intercept=-1.5)


def run(
    state: ModelState, rows: list[dict[str, float]], y: np.ndarray, offset: int = 0
) -> list[tuple[int, ModelRecord]]:
    out: list[tuple[int, ModelRecord]] = []
    for i, (x, label) in enumerate(zip(rows, y, strict=True)):
        at = START + timedelta(minutes=offset + i)
        out += [(offset + i, r) for r in state.learn(x, bool(label), at=at)]
    return out


def test_the_learner_takes_over_only_after_beating_a_useless_prior_on_the_same_labels() -> None:
    state = ModelState(ModelConfig(prior=prior_on("b"), cold_start=RULE, challenger=None))
    rows, y = world(3000, 1, signal="a")
    records = run(state, rows, y)
    switches = [(i, r) for i, r in records if isinstance(r, SwitchedToLearned)]
    assert len(switches) == 1
    i, record = switches[0]
    # no earlier than a full window after the start, and after two winning checks
    assert i + 1 >= RULE.window + RULE.check_every
    assert record.window == RULE.window
    assert record.auc_low is not None
    assert record.auc_low > 0
    assert record.learned_auc is not None
    assert record.prior_auc is not None
    assert record.learned_auc > record.prior_auc
    assert state.learned_active


def test_a_learner_no_better_than_a_good_prior_never_takes_over() -> None:
    state = ModelState(ModelConfig(prior=prior_on("a"), cold_start=RULE, challenger=None))
    rows, y = world(4000, 2, signal="a")
    records = run(state, rows, y)
    assert not [r for _, r in records if isinstance(r, SwitchedToLearned)]
    assert state.version == "prior-v1"
    check = state.quality().switch_check
    assert check is not None
    assert check.auc_low <= 0  # the interval includes "no better"


def test_the_learner_hands_back_to_the_prior_when_it_falls_below_it() -> None:
    """The world changes to what the prior knows; the learner (slow to unlearn) falls behind."""
    state = ModelState(ModelConfig(prior=prior_on("b"), cold_start=RULE, challenger=None))
    rows, y = world(3000, 3, signal="a")
    records = run(state, rows, y)
    assert state.learned_active
    rows2, y2 = world(4000, 4, signal="b")
    records = run(state, rows2, y2, offset=3000)
    falls = [(i, r) for i, r in records if isinstance(r, FellBackToPrior)]
    assert falls, "no fall-back"
    i, record = falls[0]
    assert i - 3000 + 1 >= RULE.window  # hysteresis: a full window of the new regime
    assert record.prior_auc > record.learned_auc
    assert record.auc_low > 0
    assert state.quality().fallbacks == len(falls)
    assert record.demoted.startswith("sgd.g1.")  # the version that lost
    assert record.version == "prior-v1"
