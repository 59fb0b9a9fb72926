"""The online learner against a known logistic truth: accuracy, calibration, drift, cold start."""

from __future__ import annotations

import math

import numpy as np
import pytest

from churnwatch.model import (
    ColdStartRule,
    DriftDetected,
    ModelConfig,
    ModelState,
    SwitchedToLearned,
    log_loss,
    logit,
    roc_auc,
)

from .conftest import DRIFT_AT, START, replay
from .synthetic import NAMES, TRUE_WEIGHTS, stream

WINDOW = ModelConfig().metrics_window


def test_prequential_auc_approaches_the_true_models(stationary, stationary_run) -> None:
    state, _ = stationary_run
    y, p_true = stationary.labels[-WINDOW:], stationary.true_p[-WINDOW:]
    true_auc, true_ll = roc_auc(y, p_true), log_loss(y, p_true)
    assert true_auc is not None
    quality = state.quality()
    assert quality.champion.count == WINDOW
    assert quality.champion.auc is not None
    assert quality.challenger is not None
    assert quality.challenger.auc is not None
    assert quality.champion.auc >= true_auc - 0.015
    assert quality.challenger.auc >= true_auc - 0.02
    assert quality.champion.log_loss is not None
    assert quality.champion.log_loss <= true_ll + 0.015


def test_calibration_table_is_within_binomial_tolerance(stationary_run) -> None:
    state, _ = stationary_run
    table = state.quality().champion.calibration
    assert len(table) == ModelConfig().calibration_bins
    for row in table:
        sd = math.sqrt(row.predicted * (1 - row.predicted) / row.count)
        assert abs(row.predicted - row.observed) <= 3 * sd + 0.02, row
    assert state.champion.calibrator.fitted


def test_learned_weights_point_the_way_of_the_true_ones(stationary_run) -> None:
    state, _ = stationary_run
    base = {name: 0.0 for name in NAMES}
    for name, weight in zip(NAMES, TRUE_WEIGHTS, strict=True):
        if weight == 0:
            continue
        low = state.predict({**base, name: -1.0}).probability
        high = state.predict({**base, name: 1.0}).probability
        assert (high - low) * weight > 0, name


def test_learned_contributions_add_up_and_explain_the_riskiest_feature(stationary_run) -> None:
    state, _ = stationary_run
    typical = {"activity_recency_days": 20.0, "sessions_trend": 1.0, "complaints_unresolved": 0.0}
    features = {
        **typical,
        "failed_payments_consecutive": 4.0,
        "nps_score": 5.0,
        "tenure_days": 700.0,
    }
    score = state.predict(features)
    assert score.model_version.startswith(f"{state.champion.spec.name}.g1.")
    assert score.baseline + sum(score.contributions.values()) == pytest.approx(
        logit(score.probability), abs=1e-9
    )
    assert (
        max(score.contributions, key=lambda k: score.contributions[k])
        == "failed_payments_consecutive"
    )
    assert set(score.contributions) == set(features)


def test_cold_start_switch_happens_exactly_when_the_rule_holds() -> None:
    rule = ColdStartRule(min_labels=300, min_per_class=60, paired=False)
    data = stream(1500, seed=21)
    state, records = replay(data, ModelConfig(cold_start=rule, challenger=None))
    switches = [(i, r) for i, r in records if isinstance(r, SwitchedToLearned)]
    assert len(switches) == 1
    i, record = switches[0]
    positives = np.cumsum(data.labels)
    counts = np.arange(1, len(data.labels) + 1)
    ok = (counts >= rule.min_labels) & (positives >= 60) & (counts - positives >= 60)
    assert i == int(np.argmax(ok))
    assert (record.labels, record.positives) == (i + 1, int(positives[i]))
    assert record.negatives == record.labels - record.positives
    assert record.at > START
    assert record.prior_auc is not None
    assert record.learned_auc is not None
    assert state.switched_at == record.at
    assert state.version.startswith("sgd.g1.")


def test_no_switch_without_both_classes() -> None:
    state = ModelState(ModelConfig(cold_start=ColdStartRule(min_labels=100, min_per_class=5)))
    for k in range(500):
        state.learn({"nps_score": float(k % 11)}, False, at=START)
    assert not state.learned_active
    assert state.predict({"nps_score": 3.0}).model_version == "prior-v1"
    assert state.labels == 500


def test_adwin_detects_the_induced_drift_soon_after_it(drifting, drifting_run) -> None:
    state, records = drifting_run
    rising = [i for i, r in records if isinstance(r, DriftDetected) and r.rising]
    assert rising, "no drift detected"
    assert rising[0] >= DRIFT_AT
    assert rising[0] < DRIFT_AT + 1000
    first = next(r for i, r in records if i == rising[0] and isinstance(r, DriftDetected))
    assert first.loss_after > first.loss_before
    assert first.challenger_reset
    # and the model adapts to the new regime
    y, p_true = drifting.labels[-WINDOW:], drifting.true_p[-WINDOW:]
    true_auc = roc_auc(y, p_true)
    champion_auc = state.quality().champion.auc
    assert true_auc is not None
    assert champion_auc is not None
    assert champion_auc >= true_auc - 0.03


def test_no_rising_drift_on_a_stationary_stream(stationary_run) -> None:
    _, records = stationary_run
    assert not [r for _, r in records if isinstance(r, DriftDetected) and r.rising]


def test_non_finite_values_count_as_absent_and_never_poison_the_model() -> None:
    state, _ = replay(stream(1500, seed=22))
    before = state.predict({"nps_score": 3.0})
    nan = {"nps_score": 3.0, "tenure_days": math.nan, "sessions_trend": math.inf}
    assert state.predict(nan) == before  # same as if the two were absent
    for _ in range(50):
        state.learn(nan, True, at=START)
    after = state.predict({"nps_score": 3.0, "tenure_days": 100.0})
    assert math.isfinite(after.probability)
    assert all(math.isfinite(v) for v in after.contributions.values())
    assert after.probability != before.probability  # it did learn, from the finite part
