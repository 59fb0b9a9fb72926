"""Synthetic labelled snapshots with a known logistic churn model (and an optional drift)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# a subset of the profile's feature names (and units), plus one that does not matter
NAMES = (
    "activity_recency_days",
    "sessions_trend",
    "complaints_unresolved",
    "failed_payments_consecutive",
    "nps_score",
    "tenure_days",
    "noise",
)
# true log-odds per unit of each raw feature, and the intercept (base rate about 12%)
TRUE_WEIGHTS = np.array([0.04, -1.2, 0.6, 0.8, -0.2, -0.001, 0.0])
TRUE_INTERCEPT = -1.3


@dataclass(frozen=True)
class Stream:
    rows: list[dict[str, float]]
    labels: np.ndarray
    true_p: np.ndarray


def raw_features(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack(
        [
            rng.exponential(20.0, n),
            np.exp(rng.normal(0.0, 0.4, n)),  # short/long session rate ratio
            rng.poisson(0.3, n).astype(float),
            rng.poisson(0.15, n).astype(float),
            rng.integers(0, 11, n).astype(float),
            rng.uniform(0.0, 1500.0, n),
            rng.normal(0.0, 1.0, n),
        ]
    )


def stream(
    n: int,
    seed: int,
    *,
    weights: np.ndarray = TRUE_WEIGHTS,
    intercept: float = TRUE_INTERCEPT,
    drift_at: int | None = None,
    drifted_weights: np.ndarray | None = None,
) -> Stream:
    """``n`` snapshots; from ``drift_at`` on, labels follow ``drifted_weights`` instead."""
    rng = np.random.default_rng(seed)
    x = raw_features(rng, n)
    eta = x @ weights + intercept
    if drift_at is not None and drifted_weights is not None:
        eta[drift_at:] = x[drift_at:] @ drifted_weights + intercept
    p = 1.0 / (1.0 + np.exp(-eta))
    y = rng.random(n) < p
    rows = [dict(zip(NAMES, map(float, row), strict=True)) for row in x]
    return Stream(rows, y, p)
