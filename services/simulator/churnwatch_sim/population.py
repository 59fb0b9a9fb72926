"""The population: hidden traits and live state of every customer as numpy arrays.

A struct of arrays, not an object per customer: one million customers take about 100 MB.
Index ``i`` is customer ``C-{i:06d}`` everywhere (events, truth files, actions).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from churnwatch_sim.config import SimConfig

__all__ = [
    "ALIVE",
    "CHURNED",
    "ERASED",
    "PENDING",
    "PERIOD_DAYS",
    "PERIOD_NAMES",
    "PERIOD_PRICE_FACTOR",
    "RETAIL",
    "SUBSCRIPTION",
    "Population",
    "customer_id",
    "id_width",
    "make_population",
]

RETAIL, SUBSCRIPTION = 0, 1
PENDING, ALIVE, CHURNED, ERASED = 0, 1, 2, 3
PERIOD_NAMES = ("monthly", "quarterly", "yearly")
PERIOD_DAYS = np.array([30, 91, 365], dtype=np.int32)
PERIOD_PRICE_FACTOR = np.array([1.0, 2.85, 10.2])

F32 = NDArray[np.float32]
I32 = NDArray[np.int32]
I8 = NDArray[np.int8]
B = NDArray[np.bool_]


def id_width(customers: int) -> int:
    """Digits in a customer id: six, or more for populations past a million.

    >>> id_width(100), id_width(1_000_000), id_width(1_000_001)
    (6, 6, 7)
    """
    return max(6, len(str(customers - 1)))


def customer_id(index: int, width: int = 6) -> str:
    """The public id of customer ``index``.

    >>> customer_id(42)
    'C-000042'
    """
    return f"C-{index:0{width}d}"


@dataclass(slots=True)
class Population:
    """Traits (fixed) and state (changing day by day), one array element per customer."""

    # -- hidden traits
    kind: I8
    join_day: I32
    purchase_rate: F32  # lambda per day (retail)
    spend_nu: F32  # Gamma-Gamma rate: mean order value = spend_p / spend_nu
    base_hazard: F32  # mu per day
    engagement_base: F32  # logit
    engagement_drift: F32  # logit per day (faders < 0)
    price_sens: F32
    service_sens: F32
    sleeping_dog: B
    pay_fail: F32  # first-attempt failure probability
    country: I8
    # -- state
    status: I8
    engagement: F32  # logit
    plan: I8
    period: I8
    price_cents: I32
    next_bill: I32
    failures: I8  # consecutive failed payment attempts of the open invoice
    next_retry: I32
    sub_seq: I32
    email_ok: B
    ticket_open: B
    ticket_seq: I32
    ticket_resolved_day: I32
    complaint_open: I8  # 0 none, 1 open, 2 escalated
    complaint_stuck: B
    complaint_seq: I32
    shock_until: I32
    mult: F32
    mult_until: I32
    boost: F32
    boost_until: I32
    order_seq: I32
    revenue_cents: NDArray[np.int64]
    churn_day: I32
    churn_cause: I8
    first_churn_day: I32
    first_churn_cause: I8
    first_churn_ms: I32
    reactivations: I32

    @property
    def size(self) -> int:
        return len(self.kind)

    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return sum(int(getattr(self, f.name).nbytes) for f in fields(self))


def make_population(config: SimConfig) -> Population:
    """Draw every customer's traits and starting state from ``config`` (deterministic).

    >>> pop = make_population(SimConfig(seed=3).with_overrides(**{"population.customers": 500}))
    >>> pop.size, bool((pop.price_sens > 0).all() and (pop.price_sens < 1).all())
    (500, True)
    """
    pc, bc, hc = config.population, config.billing, config.hazard
    n = pc.customers
    rng = np.random.default_rng([config.seed, 0x504F50])
    kind = (rng.random(n) >= pc.retail_share).astype(np.int8)
    sub = kind == SUBSCRIPTION

    new = rng.random(n) < pc.new_share if config.days > 1 else np.zeros(n, dtype=bool)
    join_day = -rng.exponential(400.0, n).astype(np.int32) - 1
    join_day[new] = rng.integers(1, max(config.days, 2), int(new.sum()), dtype=np.int32)

    purchase_rate = rng.gamma(pc.purchase_r, 1.0 / pc.purchase_alpha, n).astype(np.float32)
    spend_nu = rng.gamma(pc.spend_q, 1.0 / pc.spend_gamma, n).astype(np.float32)
    base = np.where(
        sub,
        rng.gamma(hc.subscription_base_shape, 1.0 / hc.subscription_base_rate, n),
        rng.gamma(hc.retail_base_shape, 1.0 / hc.retail_base_rate, n),
    ).astype(np.float32)

    eng = rng.normal(pc.engagement_mean, pc.engagement_sd, n).astype(np.float32)
    fader = rng.random(n) < pc.fader_share
    drift = np.where(fader, rng.uniform(*pc.fader_drift, n), 0.0).astype(np.float32)

    bad_card = rng.random(n) < bc.bad_card_share
    pay_fail = np.where(bad_card, bc.bad_card_fail, rng.beta(*bc.fail_beta, n)).astype(np.float32)

    plan = rng.choice(len(bc.plans), n, p=np.asarray(bc.plan_shares) / sum(bc.plan_shares))
    period = rng.choice(3, n, p=np.asarray(bc.period_shares) / sum(bc.period_shares))
    monthly = np.asarray(bc.plan_prices)[plan] * PERIOD_PRICE_FACTOR[period]
    price_cents = np.where(sub, np.round(monthly * 100), 0).astype(np.int32)
    days_of = PERIOD_DAYS[period]
    trial = rng.random(n) < bc.trial_share
    next_bill = np.where(
        join_day > 0,
        join_day + np.where(trial, bc.trial_days, days_of),
        rng.integers(0, days_of, dtype=np.int32),
    ).astype(np.int32)
    next_bill[~sub] = -1

    status = np.where(join_day <= 0, ALIVE, PENDING).astype(np.int8)
    return Population(
        kind=kind,
        join_day=join_day,
        purchase_rate=purchase_rate,
        spend_nu=spend_nu,
        base_hazard=base,
        engagement_base=eng.copy(),
        engagement_drift=drift,
        price_sens=rng.beta(*pc.price_sensitivity, n).astype(np.float32),
        service_sens=rng.beta(*pc.service_sensitivity, n).astype(np.float32),
        sleeping_dog=rng.random(n) < pc.sleeping_dog_share,
        pay_fail=pay_fail,
        country=rng.integers(0, len(pc.countries), n, dtype=np.int8),
        status=status,
        engagement=eng,
        plan=plan.astype(np.int8),
        period=period.astype(np.int8),
        price_cents=price_cents,
        next_bill=next_bill,
        failures=_i8(n, 0),
        next_retry=_i32(n, -1),
        sub_seq=sub.astype(np.int32),
        email_ok=rng.random(n) < pc.email_consent_share,
        ticket_open=np.zeros(n, dtype=np.bool_),
        ticket_seq=_i32(n, 0),
        ticket_resolved_day=_i32(n, -(10**6)),
        complaint_open=_i8(n, 0),
        complaint_stuck=np.zeros(n, dtype=np.bool_),
        complaint_seq=_i32(n, 0),
        shock_until=_i32(n, -1),
        mult=np.ones(n, dtype=np.float32),
        mult_until=_i32(n, -1),
        boost=np.ones(n, dtype=np.float32),
        boost_until=_i32(n, -1),
        order_seq=_i32(n, 0),
        revenue_cents=np.zeros(n, dtype=np.int64),
        churn_day=_i32(n, -1),
        churn_cause=_i8(n, -1),
        first_churn_day=_i32(n, -1),
        first_churn_cause=_i8(n, -1),
        first_churn_ms=_i32(n, 0),
        reactivations=_i32(n, 0),
    )


def _i32(n: int, fill: int) -> I32:
    return np.full(n, fill, dtype=np.int32)


def _i8(n: int, fill: int) -> I8:
    return np.full(n, fill, dtype=np.int8)
