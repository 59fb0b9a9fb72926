"""The cold-start prior: hand-set logistic weights on named features, readable by anyone.

Until the online learner has seen enough labels (`ColdStartRule`), scores come from this fixed
logistic model. Each `PriorTerm` standardises one feature against a *reference* customer
(``(x - reference) / scale``), clips it so no single feature runs away, and weights it; the
intercept is the log-odds of churn of the reference customer. The default terms
(`DEFAULT_PRIOR_TERMS`) encode what retention teams know, with weights chosen so that each
signal at a typical "bad" level adds about one unit of log-odds (×2.7 on the odds):

===============================  =====  =====  =====  ===========  ================================
feature                          ref.   scale  wt.    clip (std.)  reading
===============================  =====  =====  =====  ===========  ================================
``activity_recency_days``        7      14     +0.5   [-0.5, 6]    silent 5 weeks: +1.0
``sessions_trend``               1      0.5    -0.6   [-2, 2]      sessions down 70%: +0.84
``feature_use_trend``            1      0.5    -0.4   [-2, 2]      activity down 70%: +0.56
``complaints_unresolved``        0      1      +0.5   [0, 4]       3 open complaints: +1.5
``failed_payments_consecutive``  0      1      +0.7   [0, 3]       2 failed payments in a row: +1.4
``nps_score`` (if ``has_nps``)   7      2      -0.35  [-3.5, 1.5]  NPS 1 (detractor): +1.05
``price_increase_pct``           0      10     +0.3   [0, 5]       price +20%: +0.6
``tenure_days``                  365    365    -0.3   [-1, 3]      brand new: +0.3
===============================  =====  =====  =====  ===========  ================================

The names and units are those of the profile's ``FEATURE_NAMES`` (docs/profile.md):
``sessions_trend`` is the short-term over the long-term session rate (1: steady, 0.3: down 70%),
``price_increase_pct`` is in percent, and ``nps_score`` only counts when ``has_nps`` is 1 (the
profile fills a missing score with 0). The intercept −2.9 gives the reference customer a 5% risk
over 30 days; `RulePrior.for_horizon` moves it for another horizon (constant hazard:
``1 − (1 − 0.052)^(H/30)``), which `ModelConfig` does for its ``horizon_days``. A feature
that is absent or NaN contributes nothing (the reference value is assumed), so the prior works
with any subset of features; `RulePrior.missing` lists the prior's features a feature set
lacks, for a start-up check in the service.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_PRIOR_TERMS", "PRIOR_VERSION", "PriorTerm", "RulePrior"]

PRIOR_VERSION = "prior-v1"


@dataclass(frozen=True, slots=True)
class PriorTerm:
    """One feature's part of the prior: ``weight × clip((x - reference) / scale, low, high)``.

    With ``given``, the term counts only when that indicator feature is present and non-zero.

    >>> term = PriorTerm("failed_payments_consecutive", weight=0.7, reference=0, scale=1, high=3)
    >>> term.value(2), term.value(10) == term.value(3)
    (1.4, True)
    """

    feature: str
    weight: float
    reference: float
    scale: float
    low: float = -math.inf
    high: float = math.inf
    given: str | None = None

    def __post_init__(self) -> None:
        if not self.scale > 0 or not self.low < self.high:
            raise ValueError(f"prior term {self.feature!r}: need scale > 0 and low < high")

    def value(self, x: float) -> float:
        """The log-odds this feature adds at value ``x`` (0 for NaN)."""
        if math.isnan(x):
            return 0.0
        z = min(max((x - self.reference) / self.scale, self.low), self.high)
        return self.weight * z


DEFAULT_PRIOR_TERMS: tuple[PriorTerm, ...] = (
    PriorTerm("activity_recency_days", weight=0.5, reference=7, scale=14, low=-0.5, high=6),
    PriorTerm("sessions_trend", weight=-0.6, reference=1, scale=0.5, low=-2, high=2),
    PriorTerm("feature_use_trend", weight=-0.4, reference=1, scale=0.5, low=-2, high=2),
    PriorTerm("complaints_unresolved", weight=0.5, reference=0, scale=1, low=0, high=4),
    PriorTerm("failed_payments_consecutive", weight=0.7, reference=0, scale=1, low=0, high=3),
    PriorTerm("nps_score", weight=-0.35, reference=7, scale=2, low=-3.5, high=1.5, given="has_nps"),
    PriorTerm("price_increase_pct", weight=0.3, reference=0, scale=10, low=0, high=5),
    PriorTerm("tenure_days", weight=-0.3, reference=365, scale=365, low=-1, high=3),
)


_Coefficients = tuple[tuple[str, str | None, float, float, float, float, float], ...]


_COEFFICIENTS: dict[int, tuple[tuple[PriorTerm, ...], _Coefficients]] = {}


def _coefficients(terms: tuple[PriorTerm, ...]) -> _Coefficients:
    """The terms as plain tuples: `RulePrior.explain` runs at every score, and reading
    tuples instead of calling `PriorTerm.value` halves its cost (same arithmetic). Cached by
    the identity of the tuple (hashing eight dataclasses would cost as much as it saves).

    >>> _coefficients(DEFAULT_PRIOR_TERMS[:1])
    (('activity_recency_days', None, 0.5, 7, 14, -0.5, 6),)
    """
    cached = _COEFFICIENTS.get(id(terms))
    if cached is None or cached[0] is not terms:
        if len(_COEFFICIENTS) > 64:
            _COEFFICIENTS.clear()
        row = tuple(
            (t.feature, t.given, t.weight, t.reference, t.scale, t.low, t.high) for t in terms
        )
        cached = _COEFFICIENTS[id(terms)] = (terms, row)
    return cached[1]


@dataclass(frozen=True, slots=True)
class RulePrior:
    """A fixed, documented logistic model used until enough labels exist.

    Examples
    --------
    >>> prior = RulePrior()
    >>> calm = {"activity_recency_days": 2, "has_nps": 1, "nps_score": 9}
    >>> angry = {"activity_recency_days": 40, "complaints_unresolved": 3,
    ...          "failed_payments_consecutive": 2, "has_nps": 1, "nps_score": 1}
    >>> prior.probability(calm) < 0.05 < 0.5 < prior.probability(angry)
    True
    >>> logit, parts = prior.explain(angry)
    >>> max(parts, key=parts.__getitem__)
    'complaints_unresolved'
    """

    terms: tuple[PriorTerm, ...] = DEFAULT_PRIOR_TERMS
    intercept: float = -2.9
    version: str = PRIOR_VERSION
    horizon_days: int = 30

    def for_horizon(self, days: int) -> RulePrior:
        """The same prior for a ``days`` horizon: the reference customer's risk under a constant
        hazard, the terms unchanged (an approximation: they are odds ratios).

        >>> p = RulePrior().for_horizon(60)
        >>> round(p.intercept, 3), p.horizon_days, RulePrior().for_horizon(30) == RulePrior()
        (-2.18, 60, True)
        """
        if days == self.horizon_days:
            return self
        if days < 1:
            raise ValueError(f"horizon must be >= 1 day, got {days}")
        stay = 1.0 / (1.0 + math.exp(self.intercept))  # 1 - risk over horizon_days
        risk = 1.0 - stay ** (days / self.horizon_days)
        intercept = math.log(risk / (1.0 - risk))
        return RulePrior(self.terms, intercept, self.version, days)

    def explain(self, features: Mapping[str, float]) -> tuple[float, dict[str, float]]:
        """The log-odds of churn and each present feature's contribution to it."""
        parts: dict[str, float] = {}
        for feature, given, weight, reference, scale, low, high in _coefficients(self.terms):
            x = features.get(feature)
            if x is None or (given is not None and not features.get(given, 0.0)):
                continue
            if x != x:  # NaN: the reference value, as `PriorTerm.value`
                parts[feature] = 0.0
                continue
            z = (x - reference) / scale
            z = low if low > z else z  # min(max(z, low), high), the same float
            parts[feature] = weight * (high if high < z else z)
        return self.intercept + math.fsum(parts.values()), parts

    def probability(self, features: Mapping[str, float]) -> float:
        """The prior's churn probability within the horizon."""
        z, _ = self.explain(features)
        return 1.0 / (1.0 + math.exp(-z))

    def missing(self, feature_names: Iterable[str]) -> list[str]:
        """The prior's features that ``feature_names`` lacks (each then contributes nothing).

        >>> RulePrior().missing(["activity_recency_days", "nps_score", "has_nps"])[:2]
        ['sessions_trend', 'feature_use_trend']
        """
        names = set(feature_names)
        needed = [n for t in self.terms for n in (t.feature, t.given) if n is not None]
        return list(dict.fromkeys(n for n in needed if n not in names))
