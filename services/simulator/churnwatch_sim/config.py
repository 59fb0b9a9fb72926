"""Configuration of a simulation run: population, activity, hazard and treatment parameters.

Every rate is per customer per simulated day unless its name says otherwise. The defaults give a
plausible mixed business (about a third of customers lost per year, most of them to the planted
causes); ``docs/simulator.md`` explains each parameter and the formulas it enters.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ActivityConfig",
    "BillingConfig",
    "HazardConfig",
    "PopulationConfig",
    "SimConfig",
    "TreatmentConfig",
    "history_start",
    "load_config",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class PopulationConfig(BaseModel):
    """Who the customers are: their mix, hidden traits and arrival."""

    model_config = _FROZEN

    customers: int = Field(10_000, ge=1, le=100_000_000)
    retail_share: float = Field(0.6, ge=0, le=1)
    new_share: float = Field(0.15, ge=0, le=1, description="share joining during the run")
    # Pareto/NBD purchase rate per day: lambda ~ Gamma(shape=r, rate=alpha)
    purchase_r: float = Field(0.9, gt=0)
    purchase_alpha: float = Field(75.0, gt=0)
    # Gamma-Gamma spend: order value ~ Gamma(p, rate=nu), nu ~ Gamma(q, rate=gamma)
    spend_p: float = Field(6.0, gt=0)
    spend_q: float = Field(4.0, gt=0)
    spend_gamma: float = Field(25.0, gt=0)
    # engagement on the logit scale: start ~ N(mean, sd); faders drift down each day
    engagement_mean: float = Field(0.4, description="logit of the average start engagement")
    engagement_sd: float = Field(1.0, ge=0)
    fader_share: float = Field(0.2, ge=0, le=1)
    fader_drift: tuple[float, float] = (-0.03, -0.005)
    engagement_noise: float = Field(0.05, ge=0, description="daily random-walk sd")
    engagement_reversion: float = Field(0.02, ge=0, le=1)
    # sensitivities ~ Beta(a, b)
    price_sensitivity: tuple[float, float] = (2.0, 4.0)
    service_sensitivity: tuple[float, float] = (2.0, 3.0)
    sleeping_dog_share: float = Field(0.1, ge=0, le=1)
    email_consent_share: float = Field(0.8, ge=0, le=1)
    countries: tuple[str, ...] = ("DE", "FR", "NL", "GB", "AT", "ES")


class BillingConfig(BaseModel):
    """Subscription plans, billing periods and the payment process."""

    model_config = _FROZEN

    plans: tuple[str, ...] = ("basic", "standard", "premium")
    plan_prices: tuple[float, ...] = (9.90, 19.90, 39.90)
    plan_shares: tuple[float, ...] = (0.5, 0.35, 0.15)
    period_shares: tuple[float, float, float] = (0.7, 0.1, 0.2)  # monthly, quarterly, yearly
    trial_share: float = Field(0.5, ge=0, le=1, description="new subscribers starting a trial")
    trial_days: int = Field(14, ge=1)
    # first-attempt failure probability ~ Beta(a, b); a share of customers have a bad card
    fail_beta: tuple[float, float] = (1.0, 40.0)
    bad_card_share: float = Field(0.05, ge=0, le=1)
    bad_card_fail: float = Field(0.6, ge=0, le=1)
    retry_days: tuple[int, ...] = (3, 7)
    card_fix_rate: float = Field(0.05, ge=0, le=1, description="daily chance to fix after dunning")
    upgrade_rate: float = Field(0.0006, ge=0)
    downgrade_rate: float = Field(0.0006, ge=0)
    price_increase_day: int | None = Field(90, ge=0)
    price_increase_pct: float = Field(0.12, ge=0, le=2)
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _plans_line_up(self) -> BillingConfig:
        if not len(self.plans) == len(self.plan_prices) == len(self.plan_shares):
            raise ValueError("plans, plan_prices and plan_shares must have the same length")
        return self


class ActivityConfig(BaseModel):
    """Observable behaviour while alive (rates scale with engagement, see the docs)."""

    model_config = _FROZEN

    sessions_subscription: float = Field(1.2, ge=0)
    sessions_retail: float = Field(0.3, ge=0)
    features_per_session: float = Field(1.5, ge=0)
    email_weekdays: tuple[int, ...] = (1, 4)  # Tuesday, Friday (Monday = 0)
    email_open: float = Field(0.45, ge=0, le=1)
    email_click: float = Field(0.3, ge=0, le=1)
    email_bounce: float = Field(0.01, ge=0, le=1)
    email_unsubscribe: float = Field(0.003, ge=0, le=1)
    ticket_rate: float = Field(0.004, ge=0)
    ticket_resolve: float = Field(0.35, ge=0, le=1)
    ticket_reopen: float = Field(0.1, ge=0, le=1)
    complaint_rate: float = Field(0.0012, ge=0)
    complaint_resolve: float = Field(0.12, ge=0, le=1)
    complaint_stuck_share: float = Field(0.3, ge=0, le=1)
    complaint_escalate: float = Field(0.05, ge=0, le=1)
    nps_rate: float = Field(1 / 120, ge=0)
    nps_response: float = Field(0.35, ge=0, le=1)
    refund_share: float = Field(0.04, ge=0, le=1)
    refund_delay: tuple[int, int] = (2, 20)
    erasure_rate: float = Field(0.00001, ge=0)


class HazardConfig(BaseModel):
    """The planted churn causes: daily hazards (continuous-time rates) per cause."""

    model_config = _FROZEN

    # baseline ("natural") dropout: mu ~ Gamma(shape, rate) per day (the Pareto/NBD mu)
    retail_base_shape: float = Field(1.5, gt=0)
    retail_base_rate: float = Field(3000.0, gt=0)
    subscription_base_shape: float = Field(2.0, gt=0)
    subscription_base_rate: float = Field(8000.0, gt=0)
    engagement: float = Field(0.003, ge=0, description="b_eng in b_eng*(1-e)^power")
    engagement_power: float = Field(4.0, gt=0)
    complaint: float = Field(0.006, ge=0, description="b_c in b_c*(0.25+s)*open*(1+0.5*esc)")
    payment: float = Field(0.03, ge=0, description="b_p in b_p*max(failures-1, 0)")
    price: float = Field(0.006, ge=0, description="b_price in b*s^2*(pct/0.1)*exp(-age/tau)")
    price_decay_days: float = Field(45.0, gt=0)
    competitor_rate: float = Field(0.0015, ge=0, description="daily chance of a competitor offer")
    competitor_days: int = Field(21, ge=1)
    competitor: float = Field(0.01, ge=0, description="b_comp in b_comp*(0.3+price_sens)")


class TreatmentConfig(BaseModel):
    """True effects of churnwatch's actions (documented in docs/simulator.md)."""

    model_config = _FROZEN

    horizon_days: int = Field(90, ge=1, description="horizon of the written-out true uplift")
    annoyance: float = Field(1.6, ge=1, description="hazard multiplier for annoyed sleeping dogs")
    annoyance_days: int = Field(45, ge=1)
    call_resolve: float = Field(0.6, ge=0, le=1)
    call_multiplier: float = Field(0.55, gt=0)
    call_days: int = Field(60, ge=1)
    offer_strength: float = Field(2.5, ge=0, description="m = 1 - strength*discount*price_sens")
    offer_days: int = Field(90, ge=1)
    recovery_resolve: float = Field(0.85, ge=0, le=1)
    recovery_goodwill: float = Field(0.3, ge=0, le=1)
    recovery_days: int = Field(30, ge=1)
    outreach_fix: float = Field(0.7, ge=0, le=1)
    nudge_boost: float = Field(1.3, ge=1)
    nudge_multiplier: float = Field(0.85, gt=0)
    nudge_days: int = Field(30, ge=1)
    winback_base: float = Field(0.08, ge=0, le=1)
    winback_discount: float = Field(1.2, ge=0)


class SimConfig(BaseModel):
    """A whole run: same ``SimConfig`` (seed included) gives byte-identical output."""

    model_config = _FROZEN

    seed: int = Field(7, ge=0, lt=2**63)
    days: int = Field(365, ge=1, le=100_000)
    start: date = date(2025, 1, 6)  # a Monday
    profiles_at_start: bool = Field(True, description="a customer_profile per customer on day 0")
    hazard_every: int = Field(28, ge=0, description="per-customer hazard snapshot (0 = off)")
    clv_horizon_days: int = Field(365, ge=1)
    clv_discount: float = Field(0.10, ge=0, description="yearly discount rate")
    population: PopulationConfig = PopulationConfig()
    billing: BillingConfig = BillingConfig()
    activity: ActivityConfig = ActivityConfig()
    hazard: HazardConfig = HazardConfig()
    treatment: TreatmentConfig = TreatmentConfig()

    @property
    def run_tag(self) -> str:
        """A short id of seed + config, the prefix of every event id of the run.

        >>> SimConfig(seed=1).run_tag == SimConfig(seed=1).run_tag != SimConfig(seed=2).run_tag
        True
        """
        digest = hashlib.blake2b(orjson.dumps(self.model_dump(mode="json")), digest_size=4)
        return "sim" + digest.hexdigest()

    def with_overrides(self, **changes: Any) -> SimConfig:
        """A copy with top-level or ``population.*``-style dotted fields replaced.

        >>> SimConfig().with_overrides(days=3, **{"population.customers": 50}).population.customers
        50
        """
        data = self.model_dump()
        for key, value in changes.items():
            target = data
            *parents, leaf = key.split(".")
            for part in parents:
                target = target[part]
            target[leaf] = value
        return SimConfig.model_validate(data)


def load_config(path: Path | None) -> SimConfig:
    """A config from a JSON or YAML file (any field may be left out), or the defaults."""
    if path is None:
        return SimConfig()
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text) if path.suffix in {".yaml", ".yml"} else orjson.loads(text)
    return SimConfig.model_validate(data or {})


def history_start(history_days: int, today: date) -> date:
    """The start date whose first ``history_days`` simulated days end just before ``today``.

    A live run that replays a history first starts there, so the history covers the last
    ``history_days`` days and live time picks up on ``today`` (UTC), where the history stopped.

    >>> history_start(120, date(2025, 6, 1))
    datetime.date(2025, 2, 1)
    >>> history_start(0, date(2025, 6, 1))
    datetime.date(2025, 6, 1)
    """
    if history_days < 0:
        raise ValueError("history_days must not be negative")
    return today - timedelta(days=history_days)
