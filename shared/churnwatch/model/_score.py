"""What a churn model returns: a calibrated probability, its band, its reasons, its version.

A `Score` is the model's whole answer for one customer at one moment. The probability is of
churn *within the horizon* (default 30 days) after the features' time. The contributions are in
log-odds units and add up, with the baseline, to the probability's log-odds, so the service's
`top_reasons` can rank them and put words on the largest positive ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Band", "BandThresholds", "Score", "band_for", "logit", "sigmoid"]

_EPS = 1e-12


class Band(StrEnum):
    """Risk bands, lowest first."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class BandThresholds:
    """Lower edges of the medium, high and critical bands; a probability *at* an edge is in it.

    >>> BandThresholds(medium=0.1, high=0.3, critical=0.6).critical
    0.6
    """

    medium: float = 0.15
    high: float = 0.35
    critical: float = 0.6

    def __post_init__(self) -> None:
        if not 0 < self.medium < self.high < self.critical < 1:
            raise ValueError(
                "band thresholds must satisfy 0 < medium < high < critical < 1, got "
                f"{(self.medium, self.high, self.critical)}"
            )


def band_for(probability: float, thresholds: BandThresholds | None = None) -> Band:
    """The band of a churn probability.

    >>> band_for(0.05), band_for(0.15), band_for(0.5), band_for(0.9)
    (<Band.LOW: 'low'>, <Band.MEDIUM: 'medium'>, <Band.HIGH: 'high'>, <Band.CRITICAL: 'critical'>)
    """
    t = thresholds or BandThresholds()
    if probability >= t.critical:
        return Band.CRITICAL
    if probability >= t.high:
        return Band.HIGH
    if probability >= t.medium:
        return Band.MEDIUM
    return Band.LOW


def sigmoid(z: float) -> float:
    """The logistic function, safe for any finite or infinite input.

    >>> sigmoid(0.0), round(sigmoid(2.0), 4), sigmoid(-1000.0)
    (0.5, 0.8808, 0.0)
    """
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def logit(p: float) -> float:
    """Log-odds of a probability, clipped 1e-12 away from 0 and 1.

    >>> round(logit(0.8808), 3), logit(0.5)
    (2.0, 0.0)
    """
    q = min(max(p, _EPS), 1.0 - _EPS)
    return math.log(q / (1.0 - q))


@dataclass(frozen=True, slots=True)
class Score:
    """One customer's churn risk.

    Parameters
    ----------
    probability
        Calibrated probability of churn within ``horizon_days`` after the features' time.
    band
        `band_for(probability, thresholds)` with the model's configured thresholds.
    contributions
        Per-feature contributions in log-odds units (weight × standardised value, times the
        calibration slope); positive ones raise the risk. Features absent from the input are
        absent here.
    baseline
        The log-odds of a customer whose every contribution is zero:
        ``logit(probability) ≈ baseline + sum(contributions.values())``.
    model_version
        Which model answered: ``"prior-v1"`` during cold start, else the learned model's
        version (see `ModelState.version`).
    horizon_days
        The churn horizon the probability refers to.
    """

    probability: float
    band: Band
    contributions: Mapping[str, float] = field(hash=False)
    baseline: float
    model_version: str
    horizon_days: int
