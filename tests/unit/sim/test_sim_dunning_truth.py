"""The oracle's P(churn) for customers in dunning, checked against the simulation itself.

Customers are put into dunning by the simulator's own billing step (their first failed payment);
the day after, the oracle gives P(churn within H) without action and with a billing outreach
(applied to a random half through ``Simulator.apply_action``), and the run goes on for H days.
Given the oracle is right, churn within H is an independent Bernoulli(p_i) per customer, so the
realised share differs from the mean oracle probability by ``sqrt(sum p(1-p)) / n`` per standard
deviation; the tests allow 4 of them (a fixed seed: the run is deterministic either way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from churnwatch_sim import Action, SimConfig, Simulator
from churnwatch_sim.hazard import Exposure, payment_survival
from churnwatch_sim.population import ALIVE, customer_id
from churnwatch_sim.treatment import effects, uplift
from tests.unit.sim.oracle_check import realised_gap

H = 90
COLLECT_DAYS = 50
CONFIG = SimConfig.model_validate(
    {
        "seed": 11,
        "days": COLLECT_DAYS + H + 1,
        "hazard_every": 0,
        "profiles_at_start": False,
        "treatment": {"horizon_days": H},
        # subscribers billed monthly (the most dunning per simulated day); no erasures (they
        # would censor the outcome) and no faders (the oracle holds engagement: a known limit)
        "population": {
            "customers": 16_000,
            "retail_share": 0.0,
            "new_share": 0.0,
            "fader_share": 0.0,
        },
        "billing": {"period_shares": (1.0, 0.0, 0.0)},
        "activity": {"erasure_rate": 0.0},
    }
)


@dataclass(frozen=True)
class Arms:
    treated: NDArray[np.bool_]
    churned: NDArray[np.bool_]
    p0: NDArray[np.float64]  # oracle: P(churn within H | no action)
    p1: NDArray[np.float64]  # oracle: E[P(churn within H) | billing outreach]
    old_p0: NDArray[np.float64]  # the former oracle (payment rate decaying at card_fix_rate)
    old_p1: NDArray[np.float64]


@pytest.fixture(scope="module")
def arms() -> Arms:
    sim, rng = Simulator(CONFIG), np.random.default_rng(5)
    pop = sim.pop
    cols: list[tuple[NDArray[Any], ...]] = []
    while not sim.done:
        d = sim.day
        if 0 < d <= COLLECT_DAYS:
            first = np.flatnonzero(
                (pop.status == ALIVE) & (pop.failures == 1) & (pop.next_bill == d - 1)
            )
            s = sim.situation(first)
            fx = effects("billing_outreach", {}, s, CONFIG)
            rates, e = sim.rates(first, d), sim.exposure(first, d)
            p0, p1 = uplift(rates, e, fx, s.alive, CONFIG)
            old = uplift(rates, Exposure(e.complaint_stuck, e.shock_days_left), fx, s.alive, CONFIG)
            treated = rng.random(len(first)) < 0.5
            for i in first[treated].tolist():
                action = Action(
                    action_id=f"A-{d}-{i}",
                    customer_id=customer_id(i, sim.width),
                    action_type="billing_outreach",
                )
                assert sim.apply_action(action).status == "applied"
            end = np.full(len(first), d + H, dtype=np.float64)
            cols.append((first.astype(np.float64), np.full(len(first), d), end, treated, p0, p1,
                         *old))  # fmt: skip
        sim.step()
    idx, start, end, treated, p0, p1, old_p0, old_p1 = (
        np.concatenate(c) for c in zip(*cols, strict=True)
    )
    churn_day = pop.churn_day[idx.astype(np.intp)]
    churned = (churn_day >= start) & (churn_day < end)
    return Arms(treated.astype(bool), churned, p0, p1, old_p0, old_p1)


def test_enough_first_failures_were_observed(arms: Arms) -> None:
    assert (~arms.treated).sum() > 400
    assert arms.treated.sum() > 400
    assert arms.churned[~arms.treated].mean() > 0.2  # dunning is a real risk in the simulation


def test_p_churn_without_action_matches_the_realised_churn(arms: Arms) -> None:
    control = ~arms.treated
    gap, sd = realised_gap(arms.churned[control], arms.p0[control])
    assert abs(gap) < 4 * sd, (gap, sd)


def test_p_churn_with_billing_outreach_matches_the_realised_churn(arms: Arms) -> None:
    gap, sd = realised_gap(arms.churned[arms.treated], arms.p1[arms.treated])
    assert abs(gap) < 4 * sd, (gap, sd)


def test_the_former_oracle_misses_the_dunning_course(arms: Arms) -> None:
    control = ~arms.treated
    gap, sd = realised_gap(arms.churned[control], arms.old_p0[control])
    assert gap > 10 * sd  # it saw no payment risk at a first failure
    assert np.allclose(arms.old_p0 - arms.old_p1, 0.0)
    assert (arms.p0 - arms.p1).mean() > 0.05


def _exposure(failures: int, bill_in: int, period: int, pay_fail: float) -> Exposure:
    return Exposure(np.array([False]), np.array([0]), np.array([failures]),
                    np.array([bill_in]), np.array([period]), np.array([pay_fail]))  # fmt: skip


def test_no_payment_risk_before_the_next_invoice_or_without_billing() -> None:
    far = payment_survival(_exposure(0, 40, 30, 0.6), CONFIG, 40)[:, 0]
    retail = payment_survival(_exposure(0, 0, 0, 0.6), CONFIG, 90)[:, 0]
    assert np.all(far == 1.0)
    assert np.all(retail == 1.0)


def test_a_worse_card_and_a_deeper_dunning_mean_more_risk() -> None:
    def s90(failures: int, bill_in: int, pay_fail: float) -> float:
        return float(
            payment_survival(_exposure(failures, bill_in, 30, pay_fail), CONFIG, 90)[-1, 0]
        )

    assert s90(1, -1, 0.6) < s90(1, -1, 0.05) < s90(0, 10, 0.05) < 1.0
    assert s90(3, -8, 0.05) < s90(2, -4, 0.05) < s90(1, -1, 0.05)
    fixed = _exposure(1, -1, 30, 0.6).card_fixed()
    assert s90(1, -1, 0.6) < float(payment_survival(fixed, CONFIG, 90)[-1, 0]) < 1.0
