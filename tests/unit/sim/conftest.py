"""Shared simulated runs for the simulator's tests (each built once per session)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from churnwatch_sim import Action, SimConfig, Simulator, TruthWriter
from churnwatch_sim.population import ALIVE, CHURNED

ActionPlan = Callable[[Simulator], list[Action]]


@dataclass(frozen=True)
class Run:
    """A finished run: its config, events file and truth directory."""

    config: SimConfig
    events: Path
    truth: Path


def simulate(
    config: SimConfig,
    directory: Path,
    *,
    plans: Mapping[int, ActionPlan] | None = None,
    chunk: int = 20_000,
) -> Run:
    """Run ``config`` to the end, applying ``plans[day](sim)`` before ``day``; write the files."""
    directory.mkdir(parents=True, exist_ok=True)
    events, truth = directory / "events.jsonl", directory / "truth"
    sim = Simulator(config, truth=TruthWriter(truth))
    with events.open("w", encoding="utf-8") as fh:
        while not sim.done:
            plan = (plans or {}).get(sim.day)
            if plan is not None:
                for action in plan(sim):
                    sim.apply_action(action)
            for lines in sim.step().chunks(chunk):
                fh.write("\n".join(lines) + "\n")
    sim.finish()
    return Run(config, events, truth)


def small_config(**changes: object) -> SimConfig:
    base = SimConfig(seed=11, days=120, hazard_every=30).with_overrides(
        **{
            "population.customers": 3000,
            "activity.erasure_rate": 0.0005,
            "activity.complaint_rate": 0.004,
        }
    )
    return base.with_overrides(**changes)


def mixed_actions(sim: Simulator) -> list[Action]:
    """Every action type, aimed at the customers it is meant for (and some it is not)."""
    pop, rng = sim.pop, np.random.default_rng(5)
    alive = np.flatnonzero(pop.status == ALIVE)
    picks = {
        "save_call": np.flatnonzero((pop.status == ALIVE) & (pop.complaint_open > 0)),
        "service_recovery": np.flatnonzero((pop.status == ALIVE) & (pop.complaint_open > 0)),
        "billing_outreach": np.flatnonzero((pop.status == ALIVE) & (pop.failures > 0)),
        "offer": alive,
        "repeat_nudge": alive,
        "win_back": np.flatnonzero(pop.status == CHURNED),
    }
    when = sim.start_of(sim.day)
    actions = []
    for kind, who in picks.items():
        for i in rng.permutation(who)[:40].tolist():
            actions.append(
                Action(
                    action_id=f"A-{kind}-{sim.day}-{i}",
                    customer_id=f"C-{i:06d}",
                    action_type=kind,
                    issued_at=when,
                    params={"discount_pct": 30},
                )
            )
    return actions


@pytest.fixture(scope="session")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """3,000 customers over 120 days, with actions of every type on days 40 and 80."""
    plans = {40: mixed_actions, 80: mixed_actions}
    return simulate(small_config(), tmp_path_factory.mktemp("mixed"), plans=plans)
