"""Long suite (``make test-long``): a simulated history through the whole pipeline, once clean
and once while processes are SIGKILLed, the broker and PostgreSQL restart, a second scoring
worker joins and leaves and the webhook receiver times out and fails (`bench.faults`).

``CW_FAULTS_EVENTS`` sizes the history (default 200,000; ``20000`` for a quick development run);
the printed table is the one ``python -m bench --only faults`` records. The model is pinned to
the prior (the learner runs, learns and is killed, but never activates a model or fits CLV), so
scores of the two runs are comparable whatever checkpoint a restarted worker would have loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.faults_report import compare_runs, config_for, table

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = int(os.environ.get("CW_FAULTS_EVENTS", "200000"))


@pytest.mark.timeout(4 * 3600)
def test_no_event_lost_or_doubled_and_no_task_twice_under_faults(tmp_path: Path) -> None:
    c = compare_runs(config_for(EVENTS), tmp_path)
    report = table(c)
    print(report)
    assert len(c.faults) == 12, report  # every fault fired
    assert c.accepted >= EVENTS * 0.9, report
    # the promise: nothing accepted is lost or counted twice, no task is given twice
    assert (c.lost, c.doubled, c.duplicate_tasks) == (0, 0, 0), report
    assert c.action_dup_ids == 0, report
    assert all(c.lag_faults[k] == 0 for k in ("raw", "scoring", "alerts")), report
    assert c.lag_faults["outbox"] == c.lag_faults["webhooks_pending"] == 0, report
    assert c.lag_faults["labels_seen"] == c.lag_clean["labels_seen"], report
    # the same end state as the clean run
    assert c.equal, report
