"""The true uplift of an action on a customer with an earlier action still in force.

``respond.apply_action`` *replaces* the multiplier in force (an offer's protection, a sleeping
dog's annoyance) with the new action's, so the true effect runs from the old multiplier to the
new one. Checked against the simulation itself: on day 1 everyone gets a generous offer
(price-sensitive customers x(1 - s) for 90 days, sleeping dogs annoyed x1.6 for 45 days); on day 2
a random half get a save call, which for an engaged customer without a complaint means x1 for 60
days: the offer's protection ends (a sleeping dog is annoyed afresh). Given the oracle is right,
churn within H is Bernoulli(p_i) per customer, so the realised share differs from the mean oracle
probability by ``sqrt(sum p(1-p)) / n`` per standard deviation; 4 are allowed (fixed seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

from churnwatch_sim import Action, SimConfig, Simulator
from churnwatch_sim.hazard import Exposure
from churnwatch_sim.population import ALIVE, customer_id
from churnwatch_sim.treatment import Situation, effects, uplift
from tests.unit.sim.oracle_check import realised_gap

H = 60
CALL_DAY = 2  # the offer goes out on day 1
CONFIG = SimConfig.model_validate(
    {
        "seed": 23,
        "days": CALL_DAY + H,
        "hazard_every": 0,
        "profiles_at_start": False,
        "treatment": {"horizon_days": H},
        # a high baseline hazard (mean 0.005/day) for power; no faders (the oracle holds
        # engagement: a known limit), no arrivals of customers, complaints or competitor offers
        # (the truth of an action is that action alone), no erasures (they censor the outcome)
        "population": {"customers": 6_000, "new_share": 0.0, "fader_share": 0.0},
        "hazard": {
            "retail_base_rate": 300.0,
            "subscription_base_rate": 400.0,
            "competitor_rate": 0.0,
        },
        "activity": {"erasure_rate": 0.0, "complaint_rate": 0.0},
    }
)


@dataclass(frozen=True)
class Arms:
    treated: NDArray[np.bool_]
    churned: NDArray[np.bool_]
    in_force: NDArray[np.bool_]
    p0: NDArray[np.float64]  # oracle from the multiplier in force
    p1: NDArray[np.float64]
    old_p0: NDArray[np.float64]  # the former oracle: as if no multiplier were in force
    old_p1: NDArray[np.float64]


def _act(sim: Simulator, who: NDArray[np.intp], action_type: str, **params: object) -> None:
    for i in who.tolist():
        action = Action(
            action_id=f"{action_type}-{sim.day}-{i}",
            customer_id=customer_id(i, sim.width),
            action_type=action_type,
            params=params,
        )
        assert sim.apply_action(action).status == "applied"


@pytest.fixture(scope="module")
def arms() -> Arms:
    sim, rng = Simulator(CONFIG), np.random.default_rng(9)
    pop = sim.pop
    sim.step()
    _act(sim, np.flatnonzero(pop.status == ALIVE), "offer", discount_pct=40)
    sim.step()
    assert sim.day == CALL_DAY
    who = np.flatnonzero(pop.status == ALIVE)
    s = sim.situation(who)
    fx = effects("save_call", {}, s, CONFIG)
    rates, e = sim.rates(who, CALL_DAY), sim.exposure(who, CALL_DAY)
    in_force = sim.multiplier(who, CALL_DAY)
    p0, p1 = uplift(rates, e, fx, s.alive, CONFIG, in_force)
    old_p0, old_p1 = uplift(rates, e, fx, s.alive, CONFIG)
    treated = rng.random(len(who)) < 0.5
    _act(sim, who[treated], "save_call")
    while not sim.done:
        sim.step()
    churn_day = pop.churn_day[who]
    churned = (churn_day >= CALL_DAY) & (churn_day < CALL_DAY + H)
    return Arms(treated, churned, in_force[0] != 1.0, p0, p1, old_p0, old_p1)


def test_most_customers_carry_an_earlier_multiplier(arms: Arms) -> None:
    assert arms.in_force.mean() > 0.9
    assert arms.treated.sum() > 2000
    assert (~arms.treated).sum() > 2000


def test_p_churn_without_the_call_matches_the_realised_churn(arms: Arms) -> None:
    control = ~arms.treated
    gap, sd = realised_gap(arms.churned[control], arms.p0[control])
    assert abs(gap) < 4 * sd, (gap, sd)


def test_p_churn_with_the_call_matches_the_realised_churn(arms: Arms) -> None:
    gap, sd = realised_gap(arms.churned[arms.treated], arms.p1[arms.treated])
    assert abs(gap) < 4 * sd, (gap, sd)


def test_ending_the_offer_is_a_harm_the_former_oracle_missed(arms: Arms) -> None:
    control = ~arms.treated
    gap, sd = realised_gap(arms.churned[control], arms.old_p0[control])
    assert gap < -4 * sd, (gap, sd)  # it saw no protection from the offer in force
    measured = arms.churned[control].mean() - arms.churned[arms.treated].mean()
    assert (arms.p0 - arms.p1).mean() < -0.02  # the call costs these customers their offer
    assert abs(measured - (arms.p0 - arms.p1).mean()) < abs(
        measured - (arms.old_p0 - arms.old_p1).mean()
    )


def test_an_action_without_a_multiplier_of_its_own_leaves_the_one_in_force() -> None:
    """No dunning: a billing outreach changes nothing, the annoyance runs out in both arms."""
    s = Situation(*(np.array([v]) for v in (True, 0.5, 0.3, 0.5, True, 0, 0)))
    fx = effects("billing_outreach", {}, s, CONFIG)
    rates = np.array([[0.004], [0.001], [0.0], [0.0], [0.0], [0.0]])
    e = Exposure(np.array([False]), np.array([0]))
    p0, p1 = uplift(rates, e, fx, s.alive, CONFIG, (np.array([1.6]), np.array([20])))
    expected = -np.expm1(-0.005 * (1.6 * 20 + (H - 20)))
    assert float(p0[0]) == float(p1[0])
    assert abs(float(p0[0]) - expected) < 1e-12
    assert float(uplift(rates, e, fx, s.alive, CONFIG)[0][0]) < expected
