"""Exact windowed metrics against brute force; the calibrator corrects an over-confident model."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.model import (
    CalibrationConfig,
    PlattCalibrator,
    WindowedMetrics,
    brier_score,
    calibration_table,
    log_loss,
    roc_auc,
    sigmoid,
)

PAIRS = st.lists(st.tuples(st.booleans(), st.sampled_from([0.1, 0.2, 0.5, 0.7, 0.9])), max_size=40)


@given(PAIRS)
def test_auc_is_the_pairwise_win_rate_with_ties_counted_half(pairs) -> None:
    pos = [p for y, p in pairs if y]
    neg = [p for y, p in pairs if not y]
    auc = roc_auc([y for y, _ in pairs], [p for _, p in pairs])
    if not pos or not neg:
        assert auc is None
        return
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(pos, neg))
    assert auc == pytest.approx(wins / (len(pos) * len(neg)))


@given(PAIRS.filter(bool))
def test_log_loss_and_brier_match_their_definitions(pairs) -> None:
    y = [yy for yy, _ in pairs]
    p = [pp for _, pp in pairs]
    expected_ll = -sum(math.log(q if t else 1 - q) for t, q in pairs) / len(pairs)
    assert log_loss(y, p) == pytest.approx(expected_ll)
    assert brier_score(y, p) == pytest.approx(sum((q - t) ** 2 for t, q in pairs) / len(pairs))


def test_window_keeps_only_the_last_pairs() -> None:
    rng = np.random.default_rng(3)
    p = rng.random(500)
    y = rng.random(500) < p
    metrics = WindowedMetrics(window=200)
    for pi, yi in zip(p, y, strict=True):
        metrics.add(float(pi), bool(yi))
    summary = metrics.summary(bins=10)
    assert (summary.count, metrics.seen) == (200, 500)
    assert summary.positives == int(y[-200:].sum())
    assert summary.auc == roc_auc(y[-200:], p[-200:])
    assert summary.brier == pytest.approx(brier_score(y[-200:], p[-200:]))
    assert [row.count for row in summary.calibration] == [20] * 10
    assert WindowedMetrics().summary().auc is None


def test_calibration_table_bins_are_sorted_equal_count_and_complete() -> None:
    rng = np.random.default_rng(4)
    p = rng.random(1003)
    y = rng.random(1003) < p
    rows = calibration_table(y, p, bins=10)
    assert sum(r.count for r in rows) == 1003
    assert max(r.count for r in rows) - min(r.count for r in rows) <= 1
    assert all(a.high <= b.low for a, b in itertools.pairwise(rows))
    assert sum(r.observed * r.count for r in rows) == pytest.approx(y.sum())
    assert sum(r.predicted * r.count for r in rows) == pytest.approx(p.sum())


def overconfident(n: int, seed: int, factor: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = rng.normal(-1.5, 1.2, n)
    y = rng.random(n) < 1 / (1 + np.exp(-z))
    return factor * z + 0.5, y


@pytest.mark.parametrize("factor", [0.4, 2.5])
def test_platt_calibrator_fixes_a_miscalibrated_score_stream(factor: float) -> None:
    raw, y = overconfident(6000, 5, factor)
    cal = PlattCalibrator(CalibrationConfig(window=3000, refit_every=250))
    calibrated = []
    for z, label in zip(raw, y, strict=True):
        calibrated.append(sigmoid(cal.calibrate(float(z))))  # scored before it is learned
        cal.learn(float(z), bool(label))
    assert cal.fitted
    assert cal.slope == pytest.approx(1 / factor, rel=0.15)
    assert cal.offset == pytest.approx(-0.5 / factor, abs=0.15)
    late = slice(3000, None)
    raw_p = 1 / (1 + np.exp(-raw[late]))
    assert log_loss(y[late], calibrated[late]) < log_loss(y[late], raw_p)


def test_platt_calibrator_stays_identity_with_one_class() -> None:
    cal = PlattCalibrator(CalibrationConfig(window=100, refit_every=10))
    for k in range(300):
        cal.learn(k / 100, False)
    assert not cal.fitted
    assert cal.calibrate(1.7) == 1.7
