"""The batch baseline recovers the true model; online prequential AUC is compared with it."""

from __future__ import annotations

import numpy as np
import pytest

from churnwatch.model import fit_batch_logistic, roc_auc

from .synthetic import NAMES, TRUE_WEIGHTS, stream


def test_batch_baseline_recovers_the_true_weights_and_scores_a_later_period() -> None:
    train, later = stream(20_000, seed=61), stream(4000, seed=62)
    fit = fit_batch_logistic(train.rows, list(train.labels), feature_names=NAMES, l2=0.0)
    assert fit.feature_names == NAMES
    # log-odds per standard deviation of each feature: standard errors about 0.03 at n = 20,000
    true_std = TRUE_WEIGHTS * fit.scale
    for name, got, true in zip(NAMES, fit.weights, true_std, strict=True):
        assert got == pytest.approx(true, abs=0.12), name
    true_auc = roc_auc(later.labels, later.true_p)
    batch_auc = roc_auc(later.labels, fit.predict_proba(later.rows))
    assert true_auc is not None
    assert batch_auc is not None
    assert batch_auc > true_auc - 0.01


def test_online_prequential_auc_is_close_to_the_batch_baseline(stationary, stationary_run) -> None:
    state, _ = stationary_run
    cut = len(stationary.rows) - state.config.metrics_window
    fit = fit_batch_logistic(stationary.rows[:cut], list(stationary.labels[:cut]))
    batch_auc = roc_auc(stationary.labels[cut:], fit.predict_proba(stationary.rows[cut:]))
    online_auc = state.quality().champion.auc
    assert batch_auc is not None
    assert online_auc is not None
    assert online_auc > batch_auc - 0.01


def test_absent_features_take_the_training_mean() -> None:
    rows = [{"a": float(k % 3), "b": float(k % 5)} for k in range(300)]
    labels = [(k % 3) + (k % 5) > 4 for k in range(300)]
    fit = fit_batch_logistic(rows, labels)
    full = fit.predict_proba([{"a": 2.0, "b": float(fit.mean[1])}])
    partial = fit.predict_proba([{"a": 2.0}])
    assert np.allclose(full, partial)
    with pytest.raises(ValueError, match="labels"):
        fit_batch_logistic(rows, labels[:-1])
