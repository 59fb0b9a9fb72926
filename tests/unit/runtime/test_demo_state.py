"""A second demo resumes the simulated history in var/ or starts fresh — never mixes two."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from churnwatch_runtime.demo_state import (
    DemoConflict,
    DemoState,
    Plan,
    load,
    plan_history,
    save,
    state_file,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def plan(saved: DemoState | None, **kw: object) -> Plan:
    args: dict[str, object] = {
        "fresh": False, "customers": 2000, "history_days": 120, "now": NOW, "dedup_window": WEEK,
    }  # fmt: skip
    args.update(kw)
    return plan_history(saved, **args)  # type: ignore[arg-type]


def test_a_first_demo_starts_a_new_history_ending_today() -> None:
    first = plan(None)
    assert first.kind == "new"
    assert first.state.start == date(2025, 11, 10)
    assert (first.state.seed, first.state.customers, first.history_days) == (7, 2000, 120)


def test_a_second_demo_resumes_the_same_seed_and_first_day() -> None:
    saved = DemoState(seed=7, start=date(2025, 11, 10), customers=2000, last_seen=NOW)
    two_days_on = NOW + timedelta(days=2)
    again = plan(saved, now=two_days_on, history_days=30)  # a new --history-days is ignored
    assert again.kind == "resume"
    assert (again.state.seed, again.state.start) == (7, date(2025, 11, 10))
    assert again.history_days == 122  # up to today: picks up where it stopped
    assert again.state.last_seen == two_days_on


def test_fresh_starts_over_whatever_was_saved() -> None:
    saved = DemoState(seed=7, start=date(2025, 1, 1), customers=500, last_seen=NOW)
    fresh = plan(saved, fresh=True)
    assert fresh.kind == "new"
    assert fresh.state.start == date(2025, 11, 10)
    assert fresh.state.customers == 2000


def test_another_population_is_refused_not_mixed_in() -> None:
    saved = DemoState(seed=7, start=date(2025, 11, 10), customers=500, last_seen=NOW)
    with pytest.raises(DemoConflict, match=r"500 customers, not 2,000.*--fresh"):
        plan(saved)


def test_a_history_older_than_the_idempotency_window_is_refused() -> None:
    saved = DemoState(seed=7, start=date(2025, 11, 10), customers=2000, last_seen=NOW)
    assert plan(saved, now=NOW + WEEK).kind == "resume"
    with pytest.raises(DemoConflict, match=r"7 days.*twice.*--fresh"):
        plan(saved, now=NOW + WEEK + timedelta(minutes=1))


def test_the_state_round_trips_through_its_file(tmp_path: Path) -> None:
    assert load(tmp_path) is None
    state = DemoState(seed=3, start=date(2026, 1, 2), customers=10)
    save(tmp_path, state)
    assert load(tmp_path) == state
    save(tmp_path, replace(state, last_seen=NOW))
    assert load(tmp_path) == replace(state, last_seen=NOW)
    state_file(tmp_path).write_text("{not json")
    with pytest.raises(DemoConflict, match="--fresh"):
        load(tmp_path)
