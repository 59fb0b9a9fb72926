"""Customer value for a batch of scored customers: retail BG/NBD + Gamma-Gamma, subscription
from the churn hazard. Pure (numpy); the parameters come from the learner's ``clv_params`` rows.

Retail figures are computed for the whole batch in one vectorised call, which is what makes the
CLV affordable at tens of thousands of scores a second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from churnwatch.value import (
    BgNbdFit,
    BgNbdParams,
    GammaGammaFit,
    GammaGammaParams,
    RetailSummary,
    hazard_from_probability,
    retail_clv,
    retail_clv_interval,
    retail_retained_value,
    subscription_clv,
    subscription_retained_value,
)

DAYS_PER_MONTH = 365.25 / 12

# Used until the learner has fitted any parameters: the published CDNOW fit (Fader, Hardie & Lee
# 2005; lifetimes' example), with alpha converted from weeks to days. No covariance is known for
# them, so no interval is given either.
DEFAULT_BGNBD = BgNbdParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426)
DEFAULT_GAMMA_GAMMA = GammaGammaParams(p=6.25, q=3.74, v=15.45)


ValueBasis = Literal["retained", "clv"]


@dataclass(frozen=True, slots=True)
class ValueSettings:
    """docs/kpis.md: 12 months, 10% a year, margin 1.0; ``level`` of the CLV interval.

    ``basis`` is the value tiers and value at risk are taken from: ``retained`` (the value if
    the customer stays, `churnwatch.value.retail_retained_value`; the default, see
    docs/scoring.md "Value basis") or ``clv`` (the risk-discounted CLV itself).
    """

    horizon_months: int = 12
    annual_discount_rate: float = 0.10
    margin: float = 1.0
    level: float = 0.90
    churn_window_days: float = 30.0  # the churn model's horizon
    basis: ValueBasis = "retained"


@dataclass(frozen=True, slots=True)
class ClvParams:
    """Population parameters in days; fits (with covariance) when the learner provided them."""

    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams
    bgnbd_fit: BgNbdFit | None = None
    gamma_gamma_fit: GammaGammaFit | None = None
    source: str = "default"
    unit_days: float = 1.0  # the fit's time unit; summaries are observed in it
    periods_per_month: float = DAYS_PER_MONTH

    @classmethod
    def default(cls) -> ClvParams:
        return cls(DEFAULT_BGNBD, DEFAULT_GAMMA_GAMMA)

    @classmethod
    def from_row(
        cls, row_id: int, bgnbd: Mapping[str, Any], gamma_gamma: Mapping[str, Any]
    ) -> ClvParams:
        """A ``clv_params`` row: ``bgnbd = {r, alpha, a, b, log_cov?, n?}`` with alpha in days,
        ``gamma_gamma = {p, q, v, log_cov?, n?}``; optional ``unit_days`` and
        ``periods_per_month`` in ``bgnbd`` (the contract in docs/scoring.md).

        >>> p = ClvParams.from_row(3, {"r": 0.2, "alpha": 30, "a": 0.8, "b": 2.4},
        ...                        {"p": 6, "q": 3.7, "v": 15})
        >>> p.bgnbd.alpha, p.bgnbd_fit is None, p.source
        (30.0, True, 'clv_params:3')
        """
        bg = BgNbdParams(*(float(bgnbd[k]) for k in ("r", "alpha", "a", "b")))
        gg = GammaGammaParams(*(float(gamma_gamma[k]) for k in ("p", "q", "v")))
        bg_fit = gg_fit = None
        if bgnbd.get("log_cov") is not None and gamma_gamma.get("log_cov") is not None:
            bg_fit = BgNbdFit(bg, _cov(bgnbd["log_cov"]), float(bgnbd.get("n", 0)), 0.0)
            gg_fit = GammaGammaFit(
                gg, _cov(gamma_gamma["log_cov"]), float(gamma_gamma.get("n", 0)), 0.0
            )
        unit = float(bgnbd.get("unit_days", 1.0))
        per_month = float(bgnbd.get("periods_per_month", DAYS_PER_MONTH / unit))
        return cls(bg, gg, bg_fit, gg_fit, f"clv_params:{row_id}", unit, per_month)


def _cov(rows: Sequence[Sequence[float]]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in rows)


def retail_values(
    params: ClvParams, summaries: Sequence[RetailSummary], settings: ValueSettings
) -> list[tuple[float, float | None, float | None]]:
    """(clv, low, high) per summary (in ``params.unit_days``); no interval without covariances.

    >>> out = retail_values(ClvParams.default(), [RetailSummary(3, 60.0, 90.0, 40.0)],
    ...                     ValueSettings())
    >>> round(out[0][0], 2) > 0, out[0][1]
    (True, None)
    """
    if not summaries:
        return []
    x = np.array([s.frequency for s in summaries], dtype=np.float64)
    tx = np.array([s.recency for s in summaries], dtype=np.float64)
    age = np.array([s.T for s in summaries], dtype=np.float64)
    m = np.array([s.monetary for s in summaries], dtype=np.float64)
    options: dict[str, Any] = {
        "horizon_months": settings.horizon_months,
        "annual_discount_rate": settings.annual_discount_rate,
        "margin": settings.margin,
        "periods_per_month": params.periods_per_month,
    }
    if params.bgnbd_fit is not None and params.gamma_gamma_fit is not None:
        out = retail_clv_interval(
            params.bgnbd_fit, params.gamma_gamma_fit, x, tx, age, m, level=settings.level, **options
        )
        return [
            (_finite(v), _finite(lo), _finite(hi))
            for v, lo, hi in zip(out.value, out.low, out.high, strict=True)
        ]
    values = retail_clv(params.bgnbd, params.gamma_gamma, x, tx, age, m, **options)
    return [(_finite(v), None, None) for v in values]


def subscription_value(
    price_monthly: float, probability: float, active: bool, settings: ValueSettings
) -> float:
    """Margin × monthly price × expected discounted months left, from the churn hazard.

    The model's P(churn within the window) becomes a monthly hazard assuming it is constant.

    >>> round(subscription_value(50.0, 0.05, True, ValueSettings()), 2)
    415.04
    >>> subscription_value(50.0, 0.05, False, ValueSettings())
    0.0
    """
    if not active or price_monthly <= 0:
        return 0.0
    hazard = hazard_from_probability(
        min(max(probability, 0.0), 1.0),
        window_days=settings.churn_window_days,
        period_days=DAYS_PER_MONTH,
    )
    if hazard <= 0 and settings.annual_discount_rate <= 0:
        hazard = 1e-9
    return subscription_clv(
        price_monthly,
        hazard,
        margin=settings.margin,
        horizon_months=settings.horizon_months,
        annual_discount_rate=settings.annual_discount_rate,
    )


def _finite(value: float) -> float:
    v = float(value)
    return v if np.isfinite(v) else 0.0


def retail_retained(
    params: ClvParams, summaries: Sequence[RetailSummary], settings: ValueSettings
) -> list[float]:
    """Value if retained per summary, in one vectorised call like `retail_values`.

    >>> kept = retail_retained(ClvParams.default(), [RetailSummary(3, 60.0, 90.0, 40.0)],
    ...                        ValueSettings())
    >>> clv = retail_values(ClvParams.default(), [RetailSummary(3, 60.0, 90.0, 40.0)],
    ...                     ValueSettings())
    >>> kept[0] > clv[0][0] > 0
    True
    """
    if not summaries:
        return []
    values = retail_retained_value(
        params.bgnbd,
        params.gamma_gamma,
        np.array([s.frequency for s in summaries], dtype=np.float64),
        np.array([s.T for s in summaries], dtype=np.float64),
        np.array([s.monetary for s in summaries], dtype=np.float64),
        horizon_months=settings.horizon_months,
        annual_discount_rate=settings.annual_discount_rate,
        margin=settings.margin,
        periods_per_month=params.periods_per_month,
    )
    return [_finite(v) for v in values]


def subscription_retained(price_monthly: float, active: bool, settings: ValueSettings) -> float:
    """The plan's revenue over the horizon if the subscriber stays; 0 once it has ended.

    >>> round(subscription_retained(50.0, True, ValueSettings()), 2)
    570.02
    >>> subscription_retained(50.0, False, ValueSettings())
    0.0
    """
    if not active or price_monthly <= 0:
        return 0.0
    return subscription_retained_value(
        price_monthly,
        margin=settings.margin,
        horizon_months=settings.horizon_months,
        annual_discount_rate=settings.annual_discount_rate,
    )
