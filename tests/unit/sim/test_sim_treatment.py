"""The planted treatment effects: who is saved by what, who is annoyed, and the true uplift."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnwatch_sim import (
    ACTION_TYPES,
    Action,
    SimConfig,
    Simulator,
    Situation,
    effects,
    uplift,
)
from churnwatch_sim.hazard import Exposure
from churnwatch_sim.population import ALIVE
from tests.unit.sim.conftest import Run

CONFIG = SimConfig()


def _situation(n: int = 1, **values: Any) -> Situation:
    base: dict[str, Any] = {
        "alive": True, "engagement": 0.5, "price_sens": 0.3, "service_sens": 0.5,
        "sleeping_dog": False, "complaint_open": 0, "failures": 0,
    }  # fmt: skip
    base.update(values)
    return Situation(**{k: np.full(n, v) for k, v in base.items()})


def _p(action: str, s: Situation, rates: list[float], **params: Any) -> tuple[float, float]:
    fx = effects(action, params, s, CONFIG)
    r = np.asarray(rates, dtype=np.float64).reshape(6, 1)
    e = Exposure(np.array([True]), np.array([0]))
    p0, p1 = uplift(r, e, fx, s.alive, CONFIG)
    return float(p0[0]), float(p1[0])


RATES = [0.0005, 0.0005, 0.0, 0.0, 0.0, 0.0]
COMPLAINT_RATES = [0.0005, 0.0005, 0.006, 0.0, 0.0, 0.0]
DUNNING_RATES = [0.0005, 0.0005, 0.0, 0.06, 0.0, 0.0]


def test_calls_save_complainers_much_more_than_others() -> None:
    c0, c1 = _p("save_call", _situation(complaint_open=1), COMPLAINT_RATES)
    o0, o1 = _p("save_call", _situation(), RATES)
    assert c0 - c1 > 0.1
    assert c0 - c1 > 10 * (o0 - o1) >= 0


def test_discounts_save_the_price_sensitive() -> None:
    gains = [
        np.subtract(*_p("offer", _situation(price_sens=s), RATES, discount_pct=20))
        for s in (0.05, 0.3, 0.6, 0.9)
    ]
    assert gains == sorted(gains)
    assert gains[-1] > 5 * gains[0] > 0
    small, big = (
        np.subtract(*_p("offer", _situation(price_sens=0.8), RATES, discount_pct=d))
        for d in (5, 30)
    )
    assert big > small > 0


def test_sleeping_dogs_are_annoyed_by_proactive_contact_only() -> None:
    dog = _situation(sleeping_dog=True)
    for action in ("save_call", "offer", "repeat_nudge"):
        fx = effects(action, {}, dog, CONFIG)
        assert fx.annoyed[0]
        assert fx.multiplier[0] > 1
        p0, p1 = _p(action, dog, RATES)
        assert p1 > p0, action
    angry_dog = _situation(sleeping_dog=True, complaint_open=1)
    fx = effects("service_recovery", {}, angry_dog, CONFIG)
    assert not fx.annoyed[0]
    assert fx.resolve_complaint[0] > 0.5


def test_billing_outreach_helps_only_customers_in_dunning() -> None:
    d0, d1 = _p("billing_outreach", _situation(failures=2), DUNNING_RATES)
    n0, n1 = _p("billing_outreach", _situation(), RATES)
    assert d0 - d1 > 0.1
    assert n0 == n1


def test_win_back_brings_back_only_churned_customers() -> None:
    gone = _situation(alive=False, price_sens=0.8)
    fx = effects("win_back", {"discount_pct": 30}, gone, CONFIG)
    assert 0 < fx.reactivate[0] <= 0.9
    p0, p1 = _p("win_back", gone, RATES, discount_pct=30)
    assert p0 == 1.0
    assert p0 - p1 == pytest.approx(fx.reactivate[0])
    assert effects("win_back", {}, _situation(), CONFIG).reactivate[0] == 0


def test_unknown_action_types_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown action type"):
        effects("hug", {}, _situation(), CONFIG)


situations = st.builds(
    _situation,
    alive=st.booleans(),
    engagement=st.floats(0.01, 0.99),
    price_sens=st.floats(0, 1),
    service_sens=st.floats(0, 1),
    sleeping_dog=st.booleans(),
    complaint_open=st.integers(0, 2),
    failures=st.integers(0, 3),
)


@settings(max_examples=200, deadline=None)
@given(
    s=situations,
    action=st.sampled_from(ACTION_TYPES),
    rates=st.lists(st.floats(0, 0.05), min_size=6, max_size=6),
    discount=st.floats(0, 100),
)
def test_effects_are_probabilities_and_only_annoyance_hurts(
    s: Situation, action: str, rates: list[float], discount: float
) -> None:
    fx = effects(action, {"discount_pct": discount}, s, CONFIG)
    for prob in (fx.resolve_complaint, fx.fix_payment, fx.reactivate):
        assert ((prob >= 0) & (prob <= 1)).all()
    assert (fx.multiplier > 0).all()
    p0, p1 = _p(action, s, rates, discount_pct=discount)
    assert 0 <= p1 <= 1
    assert 0 <= p0 <= 1
    if not fx.annoyed[0]:
        assert p1 <= p0 + 1e-12


def test_actions_truth_is_written_with_segments(mixed_run: Run) -> None:
    actions = pd.read_csv(mixed_run.truth / "actions.csv")
    assert set(actions.action_type) == set(ACTION_TYPES)
    assert actions.action_id.is_unique
    by = actions.groupby("action_type").true_uplift.mean()
    assert (by[["save_call", "billing_outreach", "win_back", "service_recovery"]] > 0).all()
    dogs = actions[(actions.segment == "sleeping_dog") & (actions.annoyed == 1)]
    assert len(dogs) > 0
    assert (dogs.true_uplift < 0).all()
    table = pd.read_csv(mixed_run.truth / "uplift.csv")
    assert set(table.action_type) == set(ACTION_TYPES)
    call = table[(table.action_type == "save_call")].groupby("segment").mean_true_uplift.mean()
    assert call["complainer"] > call["other"]


def test_measured_uplift_of_a_randomised_save_call_matches_the_truth() -> None:
    """A real experiment in the simulator: complainers get a call or not, at random."""
    config = SimConfig(seed=21, days=120, hazard_every=0).with_overrides(
        **{
            "population.customers": 30_000,
            "activity.complaint_rate": 0.01,
            "activity.sessions_subscription": 0.0,
            "activity.sessions_retail": 0.0,
            "activity.email_weekdays": (),
        }
    )
    sim = Simulator(config)
    while sim.day < 30:
        sim.step()
    pop = sim.pop
    complainers = np.flatnonzero((pop.status == ALIVE) & (pop.complaint_open > 0))
    treated = np.random.default_rng(1).random(len(complainers)) < 0.5
    when = datetime.combine(sim.date_of(sim.day), datetime.min.time(), tzinfo=UTC)
    truth = [
        sim.apply_action(
            Action(action_id=f"call-{i}", customer_id=f"C-{i:06d}", action_type="save_call",
                   issued_at=when)
        ).true_uplift
        for i in complainers[treated].tolist()
    ]  # fmt: skip
    start = sim.day
    horizon = config.treatment.horizon_days
    while sim.day < start + horizon:
        sim.step()
    gone = (pop.first_churn_day >= start) & (pop.first_churn_day < start + horizon)
    measured = gone[complainers[~treated]].mean() - gone[complainers[treated]].mean()
    n = len(complainers)
    assert n > 1500
    se = np.sqrt(2 * 0.25 / (n / 2))
    assert measured > 0
    assert abs(measured - np.mean(truth)) < 3 * se + 0.03, (measured, np.mean(truth))
