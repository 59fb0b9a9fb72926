"""The run loop and the CLI: replay and live clocks, stopping early, the summary."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import orjson
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from churnwatch_sim import JsonlSink, SimConfig, Simulator, TruthWriter, run
from churnwatch_sim import runner as runner_module
from churnwatch_sim.cli import app, main
from tests.unit.sim.conftest import small_config


class _TestClock:
    """Monotonic time that moves only when the runner sleeps: pacing checked without wall time."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await _real_sleep(0)


_real_sleep = asyncio.sleep


async def test_live_clock_paces_events_and_stamps_them_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _TestClock()
    fake_asyncio = SimpleNamespace(**{**vars(asyncio), "sleep": clock.sleep})
    fake_time = SimpleNamespace(monotonic=clock.monotonic, perf_counter=clock.monotonic)
    monkeypatch.setattr(runner_module, "asyncio", fake_asyncio)
    monkeypatch.setattr(runner_module, "time", fake_time)
    config = small_config(days=1, **{"population.customers": 150})
    sink = JsonlSink(tmp_path / "live.jsonl")
    rate = 4000.0
    sent: list[tuple[float, int]] = []  # (clock when the chunk went out, its size)

    def progress(day: int, events: int) -> None:
        if events:
            sent.append((clock.now, events))

    began = datetime.now(UTC)
    summary = await run(Simulator(config), sink, clock="live", rate=rate, progress=progress)
    await sink.close()
    n = summary.events
    assert n > 400
    assert sum(size for _, size in sent) == n
    assert max(size for _, size in sent) <= rate / 10  # small steps: a smooth rate
    before = 0
    for at, size in sent:  # each chunk waits until the ones before it fit the rate, no longer
        assert at == pytest.approx(before / rate)
        before += size
    stamps = [orjson.loads(line)["occurred_at"] for line in (tmp_path / "live.jsonl").open()]
    assert stamps == sorted(stamps)
    first = datetime.fromisoformat(stamps[0].replace("Z", "+00:00"))
    last = datetime.fromisoformat(stamps[-1].replace("Z", "+00:00"))
    assert began - timedelta(seconds=1) <= first <= last <= datetime.now(UTC)


async def test_stopping_early_still_writes_the_truth(tmp_path: Path) -> None:
    config = small_config(days=50, **{"population.customers": 200})
    stop = asyncio.Event()
    days_seen: list[int] = []

    def progress(day: int, events: int) -> None:
        days_seen.append(day)
        if day >= 3:
            stop.set()

    sim = Simulator(config, truth=TruthWriter(tmp_path / "truth"))
    sink = JsonlSink(tmp_path / "events.jsonl")
    summary = await run(sim, sink, stop=stop, progress=progress)
    await sink.close()
    assert summary.stopped_early
    assert summary.days == 3
    assert max(days_seen) == 3
    customers = pd.read_csv(tmp_path / "truth" / "customers.csv")
    assert len(customers) == 200
    assert len(pd.read_csv(tmp_path / "truth" / "daily.csv")) == 3


def test_cli_run_writes_events_truth_and_summary(tmp_path: Path) -> None:
    out, truth, summary = tmp_path / "e.jsonl", tmp_path / "truth", tmp_path / "s.json"
    result = CliRunner().invoke(
        app,
        ["run", "--customers", "300", "--days", "4", "--seed", "3", "--retail-share", "0.5",
         "--out", str(out), "--truth-dir", str(truth), "--summary-json", str(summary),
         "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = orjson.loads(summary.read_bytes())
    lines = out.read_text().splitlines()
    assert report["events"] == len(lines) == sum(report["events_by_type"].values())
    assert report["sink"]["rejected"] == 0
    config = orjson.loads((truth / "config.json").read_bytes())
    assert (config["seed"], config["days"], config["population"]["customers"]) == (3, 4, 300)
    assert config["population"]["retail_share"] == 0.5


def test_module_entry_point_treats_bare_options_as_run(tmp_path: Path) -> None:
    out = tmp_path / "e.jsonl"
    with pytest.raises(SystemExit) as done:
        main(["--customers", "50", "--days", "2", "--out", str(out), "--no-progress"])
    assert done.value.code in (0, None)
    assert out.stat().st_size > 0


def test_cli_config_round_trips(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "sim.yaml"
    path.write_text(result.output)
    assert SimConfig.model_validate(yaml.safe_load(path.read_text())) == SimConfig()
    changed = path.read_text().replace("customers: 10000", "customers: 77")
    path.write_text(changed)
    again = CliRunner().invoke(app, ["config", "--config", str(path), "--format", "json"])
    assert orjson.loads(again.output)["population"]["customers"] == 77


def test_cli_refuses_two_targets() -> None:
    result = CliRunner().invoke(app, ["run", "--out", "a", "--to", "http://x", "--days", "1"])
    assert result.exit_code != 0
