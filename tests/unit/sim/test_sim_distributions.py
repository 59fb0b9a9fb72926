"""Simulated behaviour follows its configuration: purchases, spend, timing, churn by cause."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from scipy import stats

from churnwatch_sim import CAUSES, SimConfig, Simulator
from churnwatch_sim.timing import PROFILES
from tests.unit.sim.conftest import Run, simulate

QUIET = {  # no behaviour but what a test looks at
    "activity.sessions_subscription": 0.0,
    "activity.sessions_retail": 0.0,
    "activity.email_weekdays": (),
    "activity.ticket_rate": 0.0,
    "activity.complaint_rate": 0.0,
    "activity.nps_rate": 0.0,
    "activity.erasure_rate": 0.0,
    "population.new_share": 0.0,
}
IMMORTAL = {
    "hazard.retail_base_rate": 1e12,
    "hazard.subscription_base_rate": 1e12,
    "hazard.engagement": 0.0,
    "hazard.complaint": 0.0,
    "hazard.payment": 0.0,
    "hazard.competitor_rate": 0.0,
    "billing.price_increase_day": None,
    "hazard.price": 0.0,
}


def _config(customers: int, days: int, **changes: object) -> SimConfig:
    return SimConfig(seed=3, days=days, hazard_every=0).with_overrides(
        **{"population.customers": customers, **QUIET, **changes}
    )


Purchases = tuple[Run, pd.DataFrame, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def purchases(tmp_path_factory: pytest.TempPathFactory) -> Purchases:
    """20,000 immortal retail customers buying for 8 full weeks."""
    config = _config(20_000, 56, **IMMORTAL, **{"population.retail_share": 1.0})
    run = simulate(config, tmp_path_factory.mktemp("purchases"))
    customers = pd.read_csv(run.truth / "customers.csv").set_index("customer_id")
    orders = []
    with run.events.open("rb") as fh:
        for line in fh:
            if b'"purchase"' in line:
                orders.append(orjson.loads(line))
    return run, customers, orders


def test_purchases_follow_the_pareto_nbd_process(purchases: Purchases) -> None:
    run, customers, orders = purchases
    pc, days = run.config.population, run.config.days
    counts = Counter(str(o["customer_id"]) for o in orders)
    k = customers.index.map(lambda c: counts.get(c, 0)).to_numpy(dtype=np.float64)
    expected = customers.purchase_rate.to_numpy() * days  # everyone alive all 8 full weeks

    # totals: Poisson given each customer's own rate
    assert abs(k.sum() - expected.sum()) < 4 * np.sqrt(expected.sum())
    # per customer: Poisson dispersion around lambda_i * T
    dispersion = ((k - expected) ** 2).sum() / expected.sum()
    assert 0.9 < dispersion < 1.1
    # across customers: the NBD of the Pareto/NBD (variance/mean = 1 + T/alpha)
    assert abs(k.mean() / (pc.purchase_r / pc.purchase_alpha * days) - 1) < 0.05
    ratio = k.var() / k.mean()
    assert abs(ratio / (1 + days / pc.purchase_alpha) - 1) < 0.1
    # the hidden rates are Gamma(r, alpha)
    ks = stats.kstest(
        customers.purchase_rate, stats.gamma(pc.purchase_r, scale=1 / pc.purchase_alpha).cdf
    )
    assert ks.pvalue > 1e-3


def test_order_values_follow_the_gamma_gamma_model(purchases: Purchases) -> None:
    run, customers, orders = purchases
    p = run.config.population.spend_p
    mean_spend = customers.mean_spend
    z = (
        np.array([float(Decimal(o["attributes"]["amount"])) for o in orders])
        / mean_spend.loc[[str(o["customer_id"]) for o in orders]].to_numpy()
        * p
    )
    # amount / (p / nu_i) * p = amount * nu_i ~ Gamma(p, 1)
    assert len(z) > 10_000
    assert abs(z.mean() / p - 1) < 0.02
    assert abs(z.var() / p - 1) < 0.1
    nu = p / mean_spend
    q, gamma = run.config.population.spend_q, run.config.population.spend_gamma
    assert stats.kstest(nu, stats.gamma(q, scale=1 / gamma).cdf).pvalue > 1e-3


def test_sessions_follow_the_time_of_day_profile(tmp_path: Path) -> None:
    config = _config(3000, 14, **{"activity.sessions_retail": 1.0, "population.retail_share": 1.0})
    run = simulate(config, tmp_path)
    hours = np.zeros((2, 24))
    with run.events.open("rb") as fh:
        for line in fh:
            if b'"session"' in line:
                event = orjson.loads(line)
                day = pd.Timestamp(event["occurred_at"])
                hours[int(day.weekday() >= 5), day.hour] += 1
    for weekend in (0, 1):
        profile = np.asarray(PROFILES["consumer"][weekend], dtype=np.float64)
        observed = hours[weekend] / hours[weekend].sum()
        assert 0.5 * np.abs(observed - profile / profile.sum()).sum() < 0.03
    weekend_share = hours[1].sum() / hours.sum()
    assert weekend_share > 2 / 7 * 0.9  # weekends get their share (retail shops more then)


def test_churn_per_cause_matches_constant_configured_hazards() -> None:
    base, competitor, days = 0.001, 0.0025, 180
    config = _config(
        20_000, days,
        **{
            **IMMORTAL,
            "hazard.retail_base_shape": 1e6, "hazard.retail_base_rate": 1e6 / base,
            "hazard.subscription_base_shape": 1e6, "hazard.subscription_base_rate": 1e6 / base,
            "hazard.competitor_rate": 1.0, "hazard.competitor": competitor,
            "population.price_sensitivity": (1e4, 1e4),  # all 0.5: rate = competitor * 0.8
        },
    )  # fmt: skip
    sim = Simulator(config)
    while not sim.done:
        sim.step()
    rates = {"baseline": base, "competitor": competitor * 0.8}
    total = sum(rates.values())
    share = Counter(CAUSES[c] for c in sim.pop.first_churn_cause.tolist() if c >= 0)
    n = config.population.customers
    for cause, rate in rates.items():
        expected = rate / total * (1 - np.exp(-total * days))
        assert abs(share[cause] / n - expected) < 0.02, (cause, share[cause] / n, expected)
    assert set(share) == set(rates)


def test_churn_per_cause_matches_the_planted_hazards(mixed_run: Run) -> None:
    daily = pd.read_csv(mixed_run.truth / "daily.csv")
    observed = {c: int(daily[f"churned_{c}"].sum()) for c in CAUSES}
    expected = {c: float(daily[f"expected_{c}"].sum()) for c in CAUSES}
    total = sum(observed.values())
    assert total > 300
    for cause in CAUSES:
        o, e = observed[cause], expected[cause]
        assert abs(o - e) <= 4 * np.sqrt(e) + 2, (cause, o, e)
        assert abs(o / total - e / sum(expected.values())) < 0.03, (cause, o, e)
    assert all(observed[c] > 0 for c in CAUSES), observed
