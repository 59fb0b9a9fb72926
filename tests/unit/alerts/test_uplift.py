"""Uplift statistics against published examples and against simulated known effects."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.alerts import (
    Exposure,
    TaskState,
    newcombe_interval,
    raw_save_rate,
    sla_attainment,
    uplift_reports,
    wilson_interval,
)

from .support import T0

# Newcombe (1998), Statistics in Medicine 17: 873-890, Table II, method 10 (hybrid score)
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]
# Newcombe (1998), Statistics in Medicine 17: 857-872, Table I, method 3 (Wilson score)
WILSON_TABLE_I = [
    ((81, 263), (0.2553, 0.3662)),
    ((15, 148), (0.0624, 0.1605)),
    ((0, 20), (0.0000, 0.1611)),
    ((1, 29), (0.0061, 0.1718)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE_II)
def test_newcombe_matches_the_published_table(counts, published):
    interval = newcombe_interval(*counts)
    x1, n1, x2, n2 = counts
    assert interval.estimate == pytest.approx(x1 / n1 - x2 / n2)
    assert (interval.low, interval.high) == pytest.approx(published, abs=5e-5)


@pytest.mark.parametrize(("counts", "published"), WILSON_TABLE_I)
def test_wilson_matches_the_published_table(counts, published):
    assert wilson_interval(*counts) == pytest.approx(published, abs=5e-5)


@given(st.integers(1, 300), st.integers(1, 300), st.data())
def test_the_interval_is_antisymmetric_and_contains_the_estimate(n1, n2, data):
    x1, x2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    a, b = newcombe_interval(x1, n1, x2, n2), newcombe_interval(x2, n2, x1, n1)
    assert a.low == pytest.approx(-b.high)
    assert a.high == pytest.approx(-b.low)
    assert -1 <= a.low <= a.estimate <= a.high <= 1


def test_a_wider_confidence_gives_a_wider_interval():
    narrow, wide = (
        newcombe_interval(60, 100, 45, 100, 0.8),
        newcombe_interval(60, 100, 45, 100, 0.99),
    )
    assert wide.low < narrow.low < narrow.high < wide.high


@pytest.mark.parametrize(
    ("n_treated", "n_control", "churn_treated", "churn_control"),
    [(900, 100, 0.25, 0.35), (450, 50, 0.10, 0.12), (2000, 2000, 0.30, 0.30)],
)
def test_the_interval_covers_a_known_true_effect_95_percent_of_the_time(
    n_treated, n_control, churn_treated, churn_control
):
    rng = np.random.default_rng(20260301)
    runs = 2000
    churned_t = rng.binomial(n_treated, churn_treated, runs)
    churned_c = rng.binomial(n_control, churn_control, runs)
    truth = churn_control - churn_treated  # the honest save rate
    covered = sum(
        newcombe_interval(n_treated - int(ct), n_treated, n_control - int(cc), n_control).covers(
            truth
        )
        for ct, cc in zip(churned_t, churned_c, strict=True)
    )
    # nominal 95%; Newcombe's method 10 stays within ~1.5 points of it, the simulation adds
    # a standard error of 0.5 points
    assert 0.93 <= covered / runs <= 0.975


def _exposures(
    rng: np.random.Generator,
    playbook: str,
    segment: str,
    arm: Literal["treated", "control"],
    n: int,
    churn: float,
    clv: float,
) -> list[Exposure]:
    return [
        Exposure(playbook, segment, arm, churned=bool(c), clv=clv) for c in rng.random(n) < churn
    ]


def test_reports_per_playbook_and_segment_with_saved_customers_and_value():
    rng = np.random.default_rng(7)
    rows = (
        _exposures(rng, "vip", "gold", "treated", 4000, 0.20, 500.0)
        + _exposures(rng, "vip", "gold", "control", 4000, 0.30, 500.0)
        + _exposures(rng, "vip", "silver", "treated", 4000, 0.30, 100.0)
        + _exposures(rng, "vip", "silver", "control", 4000, 0.30, 100.0)
        + _exposures(rng, "offer", "bronze", "treated", 10, 0.5, 10.0)
    )
    reports = {(r.playbook_id, r.segment): r for r in uplift_reports(rows)}
    assert list(reports) == [
        ("offer", "all"), ("offer", "bronze"), ("vip", "all"), ("vip", "gold"), ("vip", "silver"),
    ]  # fmt: skip
    gold, silver, total = reports["vip", "gold"], reports["vip", "silver"], reports["vip", "all"]
    assert gold.uplift is not None
    assert silver.uplift is not None
    assert total.uplift is not None
    assert gold.uplift.covers(0.10)
    assert gold.uplift.low > 0
    assert silver.uplift.covers(0.0)
    assert total.treated == gold.treated + silver.treated
    assert gold.customers_saved is not None
    assert gold.value_saved is not None
    assert gold.churn_control is not None
    assert gold.churn_treated is not None
    assert gold.customers_saved.estimate == pytest.approx(gold.uplift.estimate * gold.treated)
    assert gold.value_saved.estimate == pytest.approx(gold.uplift.estimate * 500.0 * gold.treated)
    assert gold.churn_control - gold.churn_treated == pytest.approx(gold.uplift.estimate)
    offer = reports["offer", "bronze"]
    assert (offer.control, offer.uplift, offer.value_saved) == (0, None, None)
    assert offer.churn_treated is not None


def test_raw_save_rate_counts_closed_tasks_only():
    states = [TaskState.WON] * 3 + [TaskState.LOST, TaskState.EXPIRED, TaskState.CHURNED]
    rate = raw_save_rate([*states, TaskState.OPEN, TaskState.IN_PROGRESS])
    assert (rate.numerator, rate.denominator, rate.value) == (3, 6, 0.5)
    assert raw_save_rate([TaskState.OPEN]).value is None


def test_sla_attainment_over_tasks_due_in_the_period():
    def h(hours: float) -> datetime:
        return T0 + timedelta(hours=hours)

    tasks: list[tuple[datetime, datetime | None]] = [
        (h(4), h(4)),
        (h(5), h(6)),
        (h(6), None),
        (h(30), h(1)),
        (h(-1), h(-2)),
    ]
    rate = sla_attainment(tasks, h(0), h(24))
    assert (rate.numerator, rate.denominator) == (1, 3)
