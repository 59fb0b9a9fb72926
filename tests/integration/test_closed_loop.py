"""The closed loop with the simulator through the real processes (`bench.loop`): a few hundred
simulated customers for a few simulated months; scoring, its learner and alerts as real
processes. The loop is closed: alerts' actions reached the simulator and were applied, both
arms are in ``exposures``, every treated exposure's action was read from ``cw.actions``, and the
uplift job stored one report per playbook with exactly the resolved exposures' counts."""

from __future__ import annotations

import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.harness import Context
from bench.loop import LoopConfig, LoopResult, closed_loop
from tests.support.infra import Broker

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 250
DAYS = 60  # exposures of the first 30 days resolve over the 30-day horizon
STATUSES = {"applied", "duplicate", "unknown_customer", "inactive"}


async def test_closed_loop_through_the_services(
    fresh_database: str, db: AsyncEngine, kafka: Broker, tmp_path: Path
) -> None:
    """One run (the processes are the slow part), three sets of checks."""
    ctx = Context(root=ROOT, workdir=tmp_path, quick=True, python=sys.executable)
    cfg = LoopConfig(CUSTOMERS, DAYS, vip_holdout=0.5)  # applied through the playbook catalog
    loop = await closed_loop(ctx, kafka.bootstrap, fresh_database, cfg)
    await actions_reach_the_simulator_and_exposures_are_logged(loop, db)
    oracle_truth_equals_the_simulators_own(loop)
    await uplift_reports_count_the_resolved_exposures(loop, db)


async def actions_reach_the_simulator_and_exposures_are_logged(
    loop: LoopResult, db: AsyncEngine
) -> None:
    async with db.connect() as conn:
        rows = (await conn.execute(text("SELECT action_id, arm FROM exposures"))).all()
    arms = Counter(arm for _, arm in rows)
    assert arms["treated"] > 0
    assert arms["control"] > 0
    treated = {a for a, arm in rows if arm == "treated"}
    assert treated <= loop.received  # every treated action arrived on cw.actions ...
    assert loop.statuses["applied"] > 0  # ... and the simulator applied them
    assert set(loop.statuses) <= STATUSES
    assert sum(loop.statuses.values()) >= len(loop.received)
    assert loop.left_waiting == 0
    assert loop.on_topic == len(loop.received)  # no action published twice on cw.actions
    assert loop.missed == 0  # the loop read (and scored with the oracle) every exposure
    assert set(loop.exposed) == {a for a, _ in rows}
    assert loop.events > 0
    assert loop.scores > 0


def oracle_truth_equals_the_simulators_own(loop: LoopResult) -> None:
    """A customer's only action of a day: the oracle's uplift is what `apply_action` wrote."""
    per_day: dict[tuple[int, int], list[str]] = defaultdict(list)
    for a, e in loop.exposed.items():
        if e.applied_uplift is not None:
            per_day[(e.customer, e.day)].append(a)
    single = [ids[0] for ids in per_day.values() if len(ids) == 1]
    assert single
    for a in single:
        e = loop.exposed[a]
        assert e.applied_uplift is not None
        assert math.isclose(e.applied_uplift, e.true_uplift, rel_tol=1e-9, abs_tol=1e-12)


async def uplift_reports_count_the_resolved_exposures(loop: LoopResult, db: AsyncEngine) -> None:
    assert loop.uplift_status == "done"
    async with db.connect() as conn:
        vip = (
            await conn.execute(
                text("SELECT version, enabled FROM playbooks WHERE id = 'save_call_vip'")
            )
        ).all()
        assert sorted(vip) == [(1, False), (2, True)]
        resolved = (
            await conn.execute(
                text(
                    "SELECT playbook_id, arm, count(*) FROM exposures"
                    " WHERE churned IS NOT NULL GROUP BY 1, 2"
                )
            )
        ).all()
        stored = (
            await conn.execute(
                text(
                    "SELECT playbook_id, treated, control FROM uplift_reports"
                    " WHERE segment = 'all'"
                    " AND computed_at = (SELECT max(computed_at) FROM uplift_reports)"
                )
            )
        ).all()
    expected: dict[str, dict[str, int]] = defaultdict(lambda: {"treated": 0, "control": 0})
    for pb, arm, n in resolved:
        expected[pb][arm] = int(n)
    assert expected, "no exposure resolved: the horizon never passed"
    assert {pb: {"treated": t, "control": c} for pb, t, c in stored} == expected
    for pb, counts in expected.items():
        row = loop.rows[pb]
        assert (row.treated, row.control) == (counts["treated"], counts["control"])
        assert row.true_uplift is not None  # the truth over the same exposures
