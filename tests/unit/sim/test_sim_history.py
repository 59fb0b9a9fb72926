"""A live run with a replayed history: one simulator, two clocks, a seamless switch.

The history goes out in simulated (event) time ending today, then the same customers carry on
stamped with the wall clock; downstream services work in event time, so event times must never
go backwards at the switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pandas as pd
import pytest
from typer.testing import CliRunner

from churnwatch_runtime.demo import HISTORY_ENV, history_days_from, simulator_args
from churnwatch_sim import SimConfig, Simulator, TruthWriter, run
from churnwatch_sim.cli import app
from churnwatch_sim.config import history_start
from churnwatch_sim.runner import History
from churnwatch_sim.sinks import EventLike, SinkStats
from tests.unit.sim.conftest import small_config

FAST = 1_000_000.0  # events/s: the live pacer never waits


class Recorder:
    """A sink that keeps every line, in the order sent."""

    def __init__(self) -> None:
        self.stats = SinkStats()
        self.lines: list[str] = []

    async def send(self, batch: Sequence[EventLike]) -> None:
        self.lines += [str(line) for line in batch]
        self.stats.sent += len(batch)
        self.stats.accepted += len(batch)

    async def close(self) -> None:
        return None


def _config(history: int, live: int, start: date, customers: int = 150) -> SimConfig:
    return small_config(days=history + live, start=start, **{"population.customers": customers})


def _times(lines: list[str]) -> list[str]:
    return [orjson.loads(line)["occurred_at"] for line in lines]


def _today() -> date:
    return datetime.now(UTC).date()


async def test_history_ends_today_and_event_times_never_go_back_at_the_switch() -> None:
    today = _today()
    sink, heard = Recorder(), []

    def on_history(history: History) -> None:
        heard.append((history, len(sink.lines)))

    began = datetime.now(UTC)
    sim = Simulator(_config(5, 2, history_start(5, today)))
    summary = await run(sim, sink, clock="live", history_days=5, rate=FAST, on_history=on_history)
    stamps = _times(sink.lines)
    assert stamps == sorted(stamps)
    assert len(heard) == 1
    history, sent_then = heard[0]
    assert summary.history == history
    assert (history.days, history.first, history.events) == (5, today - timedelta(5), sent_then)
    assert history.end == f"{today.isoformat()}T00:00:00.000Z"
    past, live = stamps[:sent_then], stamps[sent_then:]
    assert past[0] >= f"{(today - timedelta(5)).isoformat()}T00:00:00.000Z"
    assert past[-1] < history.end <= live[0]  # the history ends at today's midnight
    assert {s[:10] for s in past} == {(today - timedelta(d)).isoformat() for d in range(1, 6)}
    assert live
    assert began.isoformat()[:19] <= live[0].replace("Z", "")[:19]  # the wall clock
    assert summary.days == 7
    assert not summary.stopped_early
    assert summary.as_dict()["history"]["events"] == sent_then


async def test_live_stamps_wait_for_a_history_that_ends_in_the_future() -> None:
    start = _today() + timedelta(days=10)
    sink = Recorder()
    summary = await run(Simulator(_config(2, 1, start)), sink, clock="live", history_days=2,
                        rate=FAST)  # fmt: skip
    assert summary.history is not None
    stamps = _times(sink.lines)
    assert stamps == sorted(stamps)
    live = stamps[summary.history.events :]
    assert live
    assert set(live) == {summary.history.end}


async def test_the_population_and_the_truth_carry_over_the_switch(tmp_path: Path) -> None:
    """Two phases give the very events of one replay (ids, order, content), only re-timed."""
    config = _config(6, 3, history_start(6, _today()), customers=300)
    replayed, switched = Recorder(), Recorder()
    await run(Simulator(config), replayed, clock="replay")
    sim = Simulator(config, truth=TruthWriter(tmp_path / "truth"))
    summary = await run(sim, switched, clock="live", history_days=6, rate=FAST)
    assert summary.history is not None
    cut = summary.history.events
    assert switched.lines[:cut] == replayed.lines[:cut]
    timeless = [{**orjson.loads(line), "occurred_at": None} for line in replayed.lines[cut:]]
    assert [{**orjson.loads(line), "occurred_at": None} for line in switched.lines[cut:]] == (
        timeless
    )
    assert len(switched.lines) > cut
    daily = pd.read_csv(tmp_path / "truth" / "daily.csv")
    assert daily["day"].tolist() == list(range(9))  # one truth file, both phases, no restart
    assert int(daily["events"].sum()) == len(switched.lines)
    assert len(pd.read_csv(tmp_path / "truth" / "customers.csv")) == 300


async def test_a_history_needs_the_live_clock() -> None:
    sim = Simulator(_config(2, 1, _today()))
    with pytest.raises(ValueError, match="live clock"):
        await run(sim, Recorder(), clock="replay", history_days=2)


def test_cli_history_days_replays_up_to_today_then_goes_live(tmp_path: Path) -> None:
    today = _today()
    out, truth, report = tmp_path / "e.jsonl", tmp_path / "truth", tmp_path / "s.json"
    result = CliRunner().invoke(
        app,
        ["run", "--clock", "live", "--history-days", "4", "--days", "1", "--rate", str(FAST),
         "--customers", "120", "--out", str(out), "--truth-dir", str(truth),
         "--summary-json", str(report), "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "history done: 4 days" in result.output
    summary = orjson.loads(report.read_bytes())
    assert summary["history"]["days"] == 4
    assert summary["history"]["first"] == (today - timedelta(days=4)).isoformat()
    assert summary["days"] == 5
    config = orjson.loads((truth / "config.json").read_bytes())
    assert (config["start"], config["days"]) == ((today - timedelta(days=4)).isoformat(), 5)
    stamps = _times(out.read_text().splitlines())
    assert stamps == sorted(stamps)
    assert len(stamps) == summary["events"]


@pytest.mark.parametrize(
    "args",
    [
        ["--history-days", "3", "--days", "5"],  # the replay clock has no history
        ["--clock", "live", "--history-days", "-1", "--days", "1"],
        ["--clock", "live", "--history-days", "3", "--days", "1", "--start", "2999-01-01"],
    ],
)
def test_cli_refuses_a_history_it_cannot_run(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", *args, "--out", str(tmp_path / "e.jsonl")])
    assert result.exit_code != 0
    assert not (tmp_path / "e.jsonl").exists()


def test_history_days_defaults_to_zero_so_live_runs_are_unchanged(tmp_path: Path) -> None:
    out, report = tmp_path / "e.jsonl", tmp_path / "s.json"
    result = CliRunner().invoke(
        app,
        ["run", "--clock", "live", "--days", "1", "--rate", str(FAST), "--customers", "50",
         "--out", str(out), "--summary-json", str(report), "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "history" not in orjson.loads(report.read_bytes())
    assert "history done" not in result.output


def test_the_demo_asks_for_a_history_and_closes_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HISTORY_ENV, raising=False)
    assert history_days_from(None) > 0
    monkeypatch.setenv(HISTORY_ENV, "7")
    assert (history_days_from(None), history_days_from(0)) == (7, 0)
    args = simulator_args(rate=50, customers=10, history_days=7, ingest=1, bootstrap="h:9")
    assert args[args.index("--history-days") + 1] == "7"
    assert args[args.index("--clock") + 1] == "live"
    assert args[args.index("--actions-from") + 1] == "kafka://h:9/cw.actions"
