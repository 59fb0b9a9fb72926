"""Gamma-Gamma: likelihood, gradient, fit and expected spend against lifetimes on CDNOW."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.optimize import approx_fprime

from churnwatch.value import (
    GammaGammaParams,
    expected_spend,
    fit_gamma_gamma,
    gamma_gamma_negative_log_likelihood,
)

from .cdnow import churnwatch_fits, lifetimes_fits, load_summary, quiet_lifetimes

MAX_PARAM_REL_ERR = 0.01


Arrays = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


@pytest.fixture(scope="module")
def repeat() -> Arrays:
    """frequency, monetary and unit weights of the customers with a repeat purchase."""
    s = load_summary()
    keep = s.frequency > 0
    return s.frequency[keep], s.monetary[keep], np.ones(int(keep.sum()))


@pytest.mark.parametrize("penalizer", [0.0, 0.1])
@pytest.mark.parametrize("log_params", [[0.1] * 3, [1.8, 1.3, 2.7], [0.5, 2.0, -1.0]])
def test_likelihood_equals_lifetimes(
    repeat: Arrays, log_params: list[float], penalizer: float
) -> None:
    with quiet_lifetimes():
        from lifetimes import GammaGammaFitter

        theirs = GammaGammaFitter._negative_log_likelihood(np.array(log_params), *repeat, penalizer)
    ours, _ = gamma_gamma_negative_log_likelihood(np.array(log_params), *repeat, penalizer)
    assert ours == pytest.approx(float(theirs), rel=1e-12)


@pytest.mark.parametrize("log_params", [[0.1] * 3, [1.8, 1.3, 2.7], [0.5, 2.0, -1.0]])
def test_gradient_is_the_derivative(repeat: Arrays, log_params: list[float]) -> None:
    theta = np.array(log_params)
    _, gradient = gamma_gamma_negative_log_likelihood(theta, *repeat, 0.05)
    numeric = approx_fprime(
        theta, lambda t: gamma_gamma_negative_log_likelihood(t, *repeat, 0.05)[0], 1e-7
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-6)


def test_fitted_parameters_equal_lifetimes_within_one_percent() -> None:
    _, ggf = lifetimes_fits()
    ours = churnwatch_fits()[1].params
    theirs = ggf.params_
    errors = {k: abs(getattr(ours, k) - theirs[k]) / theirs[k] for k in ("p", "q", "v")}
    assert max(errors.values()) <= MAX_PARAM_REL_ERR, errors


def test_standard_errors_equal_lifetimes() -> None:
    _, ggf = lifetimes_fits()
    fit = churnwatch_fits()[1]
    params = np.array([fit.params.p, fit.params.q, fit.params.v])
    np.testing.assert_allclose(
        params * np.sqrt(np.diag(fit.log_cov)), ggf.standard_errors_.to_numpy(), rtol=1e-3
    )


def test_penalised_fit_equals_lifetimes(repeat) -> None:
    frequency, monetary, _ = repeat
    with quiet_lifetimes():
        from lifetimes import GammaGammaFitter

        theirs = GammaGammaFitter(penalizer_coef=0.01).fit(frequency, monetary).params_
    ours = fit_gamma_gamma(frequency, monetary, penalizer=0.01).params
    np.testing.assert_allclose([ours.p, ours.q, ours.v], theirs.to_numpy(), rtol=MAX_PARAM_REL_ERR)


def test_expected_spend_equals_lifetimes_on_every_customer() -> None:
    s = load_summary()
    _, ggf = lifetimes_fits()
    with quiet_lifetimes():
        theirs = ggf.conditional_expected_average_profit(s.frequency, s.monetary)
    same = GammaGammaParams(*ggf.params_.to_numpy())
    np.testing.assert_allclose(expected_spend(same, s.frequency, s.monetary), theirs, rtol=1e-12)
    own = churnwatch_fits()[1].params
    np.testing.assert_allclose(expected_spend(own, s.frequency, s.monetary), theirs, rtol=1e-6)
    newcomers = expected_spend(own, np.zeros(2), np.zeros(2))
    np.testing.assert_allclose(newcomers, own.population_mean, rtol=1e-12)


def test_customers_without_repeat_purchases_are_left_out() -> None:
    s = load_summary()
    assert (s.frequency == 0).any()
    keep = s.frequency > 0
    filtered = fit_gamma_gamma(s.frequency[keep], s.monetary[keep])
    assert filtered == churnwatch_fits()[1]
    assert filtered.n == keep.sum()


def test_bad_data_is_refused() -> None:
    with pytest.raises(ValueError, match="monetary must be > 0"):
        fit_gamma_gamma([1, 2], [0.0, 10.0])
    with pytest.raises(ValueError, match="no customer"):
        fit_gamma_gamma([0, 0], [0.0, 0.0])
    with pytest.raises(ValueError, match="same length"):
        fit_gamma_gamma([1, 2], [3.0])
    assert GammaGammaParams(1.0, 0.5, 1.0).population_mean == float("inf")
