"""A restart must not change a decision (issue 16): the simulator's history through real
``python -m churnwatch_scoring`` processes — two clean runs with different batch sizes, one with
SIGKILLs and one with a SIGTERM (each followed by a restart) — with the model (the prior), the
CLV parameters (the defaults) and the cut points (one row) pinned, the silence sweep on. Every
column of ``latest_scores``, the decoded profiles, the history tables, the silence index, the
watermarks and the set of
``cw.scores`` ids (with their values) must be equal: 0 customers differ.

Small scale (300 customers, 10 days, 2 partitions, two SIGKILLs, one SIGTERM); ``python -m
bench --only restart`` runs the issue's 5,000 customers, 30 days, three of each.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.support.infra import Broker, unique
from tests.support.restart import (
    Run,
    create_database,
    cuts_from_lines,
    diff,
    execute,
    pin_cuts,
    produce,
    simulate,
    snapshot,
)

pytestmark = pytest.mark.integration

CUSTOMERS, DAYS, SEED, PARTITIONS = 300, 10, 7, 2
# two SIGKILLs here (each costs the group's session timeout before the restart gets the
# partitions); the benchmark kills three times
KILLS = ((0.3, signal.SIGKILL), (0.7, signal.SIGKILL))
TERMS = ((0.5, signal.SIGTERM),)


async def test_restarts_and_batchings_decide_the_same(
    kafka: Broker, postgres_url: str, tmp_path: Path
) -> None:
    lines = simulate(CUSTOMERS, DAYS, SEED, tmp_path / "sim.jsonl")
    topic = unique("rs.events").replace("_", ".")
    await produce(kafka.bootstrap, topic, lines, PARTITIONS)
    total = len(lines)

    cuts = cuts_from_lines(lines)  # the version every run is pinned to (the bench calibrates)

    runs = [
        Run("clean", "", topic, total, max_records=500),
        Run("clean2", "", topic, total, max_records=97),  # other batch boundaries
        Run("killed", "", topic, total, KILLS, max_records=300),
        Run("termed", "", topic, total, TERMS, max_records=300),
    ]
    snaps = []
    for run in runs:
        run.url = create_database(postgres_url, unique("cw_rs"))
        await pin_cuts(run.url, cuts)
        await execute(run, kafka.bootstrap, tmp_path)
        snaps.append(await snapshot(run.url, kafka.bootstrap, run.scores_topic))
    print({r.name: round(r.seconds, 1) for r in runs})
    for run in runs[2:]:
        assert len(run.stopped_at) == len(run.stops)
        assert all(0 < at < total for at in run.stopped_at), run.stopped_at  # mid-stream

    clean = snaps[0]
    tiers = {row["tier"] for row in clean["latest_scores"].values()}
    assert len(tiers) >= 2  # the pinned cuts are in force: not everyone is bronze
    assert {row["cuts_version"] for row in clean["latest_scores"].values()} == {1}
    causes = {m["value"]["cause"] for m in clean["cw.scores"].values()}
    assert causes == {"event", "silence"}  # the sweep ran
    assert len(clean["latest_scores"]) == CUSTOMERS
    for run, snap in zip(runs[1:], snaps[1:], strict=True):
        assert diff(clean, snap) == {}, f"{run.name} decided differently"
