"""The cold-start prior ranks obvious risks higher; bands follow the configured thresholds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.model import (
    DEFAULT_PRIOR_TERMS,
    Band,
    BandThresholds,
    ModelConfig,
    ModelState,
    PriorTerm,
    RulePrior,
    band_for,
    logit,
    sigmoid,
)

PRIOR = RulePrior()
CALM = {
    "activity_recency_days": 1.0,
    "sessions_trend": 1.2,
    "feature_use_trend": 1.1,
    "complaints_unresolved": 0.0,
    "failed_payments_consecutive": 0.0,
    "has_nps": 1.0,
    "nps_score": 9.0,
    "price_increase_pct": 0.0,
    "tenure_days": 900.0,
}
# each step makes the profile riskier in one named way
RISKIER = {
    "activity_recency_days": 45.0,
    "sessions_trend": 0.3,
    "feature_use_trend": 0.4,
    "complaints_unresolved": 3.0,
    "failed_payments_consecutive": 2.0,
    "nps_score": 2.0,
    "price_increase_pct": 25.0,
    "tenure_days": 30.0,
}


def test_each_risk_signal_alone_raises_the_prior_risk() -> None:
    base = PRIOR.probability(CALM)
    for name, risky in RISKIER.items():
        assert PRIOR.probability({**CALM, name: risky}) > base, name


def test_obviously_risky_profile_scores_far_above_a_calm_one() -> None:
    calm, risky = PRIOR.probability(CALM), PRIOR.probability(RISKIER)
    assert calm < sigmoid(PRIOR.intercept) < risky
    assert band_for(calm) is Band.LOW
    assert band_for(risky) is Band.CRITICAL


@given(
    st.sampled_from([t.feature for t in DEFAULT_PRIOR_TERMS]),
    st.floats(-1e4, 1e4),
    st.floats(0, 1e4),
)
def test_prior_is_monotone_in_each_feature_in_the_direction_of_its_weight(name, x, dx) -> None:
    weight = next(t.weight for t in DEFAULT_PRIOR_TERMS if t.feature == name)
    lower, higher = PRIOR.probability({**CALM, name: x}), PRIOR.probability({**CALM, name: x + dx})
    assert (higher - lower) * weight >= 0


def test_absent_or_nan_features_contribute_nothing() -> None:
    z_empty, parts_empty = PRIOR.explain({})
    assert (z_empty, parts_empty) == (PRIOR.intercept, {})
    _, parts = PRIOR.explain({"tenure_days": math.nan, "unknown_feature": 3.0})
    assert parts == {"tenure_days": 0.0}
    assert PRIOR.missing(CALM) == []
    missing = PRIOR.missing(["nps_score"])
    assert set(missing) == {t.feature for t in PRIOR.terms} - {"nps_score"} | {"has_nps"}
    assert len(missing) == len(set(missing))


def test_nps_counts_only_when_the_customer_gave_one() -> None:
    """The profile fills a missing NPS with 0: without ``has_nps`` it is no detractor."""
    no_nps = {**CALM, "has_nps": 0.0, "nps_score": 0.0}
    detractor = {**CALM, "has_nps": 1.0, "nps_score": 0.0}
    assert "nps_score" not in PRIOR.explain(no_nps)[1]
    assert PRIOR.probability(no_nps) < PRIOR.probability(detractor)


def test_prior_contributions_add_up_to_the_score() -> None:
    score = ModelState().predict(RISKIER)
    assert score.model_version == PRIOR.version
    total = score.baseline + sum(score.contributions.values())
    assert total == pytest.approx(logit(score.probability), abs=1e-9)
    assert max(score.contributions.values()) == max(
        t.value(RISKIER[t.feature]) for t in PRIOR.terms
    )


def test_prior_terms_are_validated() -> None:
    with pytest.raises(ValueError, match="scale"):
        PriorTerm("x", weight=1, reference=0, scale=0)


THRESHOLDS = st.lists(st.floats(0.001, 0.999), min_size=3, max_size=3, unique=True).map(sorted)


@given(st.floats(0, 1), THRESHOLDS)
def test_band_is_the_highest_band_whose_threshold_is_reached(p: float, cuts: list[float]) -> None:
    thresholds = BandThresholds(*cuts)
    reached = [
        b for b, c in zip([Band.MEDIUM, Band.HIGH, Band.CRITICAL], cuts, strict=True) if p >= c
    ]
    assert band_for(p, thresholds) is (reached[-1] if reached else Band.LOW)


def test_scores_use_the_configured_bands() -> None:
    features = {"failed_payments_consecutive": 1.0}
    p = PRIOR.probability(features)
    state = ModelState(ModelConfig(bands=BandThresholds(medium=p / 3, high=p / 2, critical=p)))
    assert state.predict(features).band is Band.CRITICAL
    state = ModelState(ModelConfig(bands=BandThresholds(medium=p * 1.1, high=0.98, critical=0.99)))
    assert state.predict(features).band is Band.LOW


@pytest.mark.parametrize(
    "cuts", [(0.3, 0.2, 0.5), (0.0, 0.2, 0.5), (0.1, 0.2, 1.0), (0.2, 0.2, 0.3)]
)
def test_bad_band_thresholds_are_rejected(cuts) -> None:
    with pytest.raises(ValueError, match="band thresholds"):
        BandThresholds(*cuts)


@given(st.floats(-700, 700))
def test_logit_inverts_sigmoid(z: float) -> None:
    p = sigmoid(z)
    assert 0 <= p <= 1
    if abs(z) <= 20:  # beyond, 1 - p has too few significant digits left
        assert logit(p) == pytest.approx(z, rel=1e-6, abs=1e-6)
