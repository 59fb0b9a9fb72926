"""Customer value: retail BG/NBD + Gamma-Gamma CLV, subscription CLV, value tiers.

Pure functions and small immutable types; a scoring worker keeps one `RetailStats` per customer
(`update` on each purchase, in any order), refits the population parameters now and then from
the customers' `observe` summaries (`fit_bgnbd`, `fit_gamma_gamma`), and scores a customer with
`retail_clv_interval` or `subscription_clv`, `assign_tier` and `value_at_risk`.

>>> from datetime import date
>>> stats = update(update(None, date(2024, 1, 1), 25), date(2024, 2, 1), 40)
>>> observe(stats, date(2024, 3, 1))
RetailSummary(frequency=1, recency=31.0, T=60.0, monetary=40.0)
"""

from ._bgnbd import (
    BgNbdFit,
    BgNbdParams,
    bgnbd_negative_log_likelihood,
    expected_purchases,
    fit_bgnbd,
    p_alive,
)
from ._clv import ClvInterval, monthly_discount_rate, retail_clv, retail_clv_interval
from ._errors import FitDidNotConverge
from ._gamma_gamma import (
    GammaGammaFit,
    GammaGammaParams,
    expected_spend,
    fit_gamma_gamma,
    gamma_gamma_negative_log_likelihood,
)
from ._retained import retail_retained_value, subscription_retained_value
from ._sketch import QuantileSketch
from ._stats import RetailStats, RetailSummary, observe, update
from ._subscription import expected_remaining_periods, hazard_from_probability, subscription_clv
from ._tiers import (
    Tier,
    TierCuts,
    TierThresholds,
    assign_tier,
    tier_for_rank,
    tier_thresholds,
    value_at_risk,
)

__all__ = [
    "BgNbdFit",
    "BgNbdParams",
    "ClvInterval",
    "FitDidNotConverge",
    "GammaGammaFit",
    "GammaGammaParams",
    "QuantileSketch",
    "RetailStats",
    "RetailSummary",
    "Tier",
    "TierCuts",
    "TierThresholds",
    "assign_tier",
    "bgnbd_negative_log_likelihood",
    "expected_purchases",
    "expected_remaining_periods",
    "expected_spend",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_negative_log_likelihood",
    "hazard_from_probability",
    "monthly_discount_rate",
    "observe",
    "p_alive",
    "retail_clv",
    "retail_clv_interval",
    "retail_retained_value",
    "subscription_clv",
    "subscription_retained_value",
    "tier_for_rank",
    "tier_thresholds",
    "update",
    "value_at_risk",
]
