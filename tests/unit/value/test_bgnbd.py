"""BG/NBD: likelihood, gradient, fit and predictions against lifetimes on CDNOW."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.optimize import approx_fprime

from churnwatch.value import (
    BgNbdParams,
    FitDidNotConverge,
    bgnbd_negative_log_likelihood,
    expected_purchases,
    fit_bgnbd,
    p_alive,
)

from .cdnow import churnwatch_fits, lifetimes_fits, load_summary, quiet_lifetimes

MAX_PARAM_REL_ERR = 0.01
"""The issue's requirement: fitted parameters equal lifetimes' within 1%."""


Arrays = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


@pytest.fixture(scope="module")
def data() -> Arrays:
    """frequency, recency, T (scaled to max T = 1, as in the fit) and unit weights."""
    s = load_summary()
    scale = 1 / s.T.max()
    return s.frequency, s.recency * scale, s.T * scale, np.ones_like(s.T)


@pytest.mark.parametrize("penalizer", [0.0, 0.1])
@pytest.mark.parametrize("log_params", [[0.1] * 4, [-1.4, -2.2, -0.2, 0.9], [1.0, 0.5, 2.0, -1.0]])
def test_likelihood_equals_lifetimes(
    data: Arrays, log_params: list[float], penalizer: float
) -> None:
    with quiet_lifetimes():
        from lifetimes import BetaGeoFitter

        theirs = BetaGeoFitter._negative_log_likelihood(np.array(log_params), *data, penalizer)
    ours, _ = bgnbd_negative_log_likelihood(np.array(log_params), *data, penalizer)
    assert ours == pytest.approx(float(theirs), rel=1e-12)


@pytest.mark.parametrize("log_params", [[0.1] * 4, [-1.4, -2.2, -0.2, 0.9], [1.0, 0.5, 2.0, -1.0]])
def test_gradient_is_the_derivative(data: Arrays, log_params: list[float]) -> None:
    theta = np.array(log_params)
    _, gradient = bgnbd_negative_log_likelihood(theta, *data, 0.05)
    numeric = approx_fprime(theta, lambda t: bgnbd_negative_log_likelihood(t, *data, 0.05)[0], 1e-7)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-6)


def test_fitted_parameters_equal_lifetimes_within_one_percent() -> None:
    bgf, _ = lifetimes_fits()
    ours = churnwatch_fits()[0].params
    theirs = bgf.params_
    errors = {k: abs(getattr(ours, k) - theirs[k]) / theirs[k] for k in ("r", "alpha", "a", "b")}
    assert max(errors.values()) <= MAX_PARAM_REL_ERR, errors


def test_penalised_fit_equals_lifetimes() -> None:
    s = load_summary()
    with quiet_lifetimes():
        from lifetimes import BetaGeoFitter

        theirs = BetaGeoFitter(penalizer_coef=0.1).fit(s.frequency, s.recency, s.T).params_
    ours = fit_bgnbd(s.frequency, s.recency, s.T, penalizer=0.1).params
    np.testing.assert_allclose(ours.as_array(), theirs.to_numpy(), rtol=MAX_PARAM_REL_ERR)
    assert ours.a != pytest.approx(churnwatch_fits()[0].params.a, rel=0.05)  # the penalty acts


def test_standard_errors_equal_lifetimes() -> None:
    bgf, _ = lifetimes_fits()
    fit = churnwatch_fits()[0]
    ours = fit.params.as_array() * np.sqrt(np.diag(fit.log_cov))
    np.testing.assert_allclose(ours, bgf.standard_errors_.to_numpy(), rtol=1e-3)


def test_weights_count_identical_customers() -> None:
    s = load_summary()
    rows = np.stack([s.frequency, s.recency, s.T], axis=1)
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    assert len(unique) < len(rows)
    weighted = fit_bgnbd(*unique.T, weights=counts)
    full = churnwatch_fits()[0]
    np.testing.assert_allclose(weighted.params.as_array(), full.params.as_array(), rtol=1e-5)
    assert weighted.n == full.n == len(rows)


@pytest.mark.parametrize("t", [1.0, 10.0, 52.0, 520.0])
def test_expected_purchases_equal_lifetimes_on_every_customer(t) -> None:
    s = load_summary()
    bgf, _ = lifetimes_fits()
    with quiet_lifetimes():
        theirs = bgf.conditional_expected_number_of_purchases_up_to_time(
            t, s.frequency, s.recency, s.T
        )
    same_params = BgNbdParams(*bgf.params_.to_numpy())
    np.testing.assert_allclose(
        expected_purchases(same_params, t, s.frequency, s.recency, s.T), theirs, rtol=1e-10
    )
    own_fit = churnwatch_fits()[0].params
    np.testing.assert_allclose(
        expected_purchases(own_fit, t, s.frequency, s.recency, s.T), theirs, rtol=1e-5
    )


def test_p_alive_equals_lifetimes_on_every_customer() -> None:
    s = load_summary()
    bgf, _ = lifetimes_fits()
    with quiet_lifetimes():
        theirs = bgf.conditional_probability_alive(s.frequency, s.recency, s.T)
    same_params = BgNbdParams(*bgf.params_.to_numpy())
    ours = p_alive(same_params, s.frequency, s.recency, s.T)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    own = p_alive(churnwatch_fits()[0].params, s.frequency, s.recency, s.T)
    np.testing.assert_allclose(own, theirs, rtol=1e-5)
    assert ((ours > 0) & (ours <= 1)).all()
    assert (ours[s.frequency == 0] == 1).all()


def test_predictions_behave() -> None:
    params = churnwatch_fits()[0].params
    horizons = np.array([0.0, 1.0, 10.0, 100.0])
    assert (np.diff(expected_purchases(params, horizons, 3, 20.0, 30.0)) > 0).all()
    assert expected_purchases(params, 0.0, 3, 20.0, 30.0) == pytest.approx(0.0, abs=1e-15)
    # the longer the silence since the last purchase, the less likely alive
    silence = p_alive(params, 3, np.array([30.0, 20.0, 5.0]), 30.0)
    assert (np.diff(silence) < 0).all()


def test_degenerate_data_does_not_converge_and_bad_data_is_refused() -> None:
    with pytest.raises(FitDidNotConverge):
        fit_bgnbd([0, 1, 2, 0, 3, 1], [0, 5, 9, 0, 20, 2], [30, 25, 30, 10, 28, 6])
    with pytest.raises(ValueError, match="recency"):
        fit_bgnbd([1, 2], [5, 40], [30, 30])
    with pytest.raises(ValueError, match="recency"):
        fit_bgnbd([0, 2], [5, 4], [30, 30])
    with pytest.raises(ValueError, match="whole"):
        fit_bgnbd([0.5, 2], [0, 4], [30, 30])
    with pytest.raises(ValueError, match="NaN"):
        fit_bgnbd([np.nan, 2], [0, 4], [30, 30])
    with pytest.raises(ValueError, match="same length"):
        fit_bgnbd([1, 2], [4, 4], [30])
