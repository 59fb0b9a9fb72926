"""Same seed and config → byte-identical events and truth; another seed → another run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson

from churnwatch_sim import FileActionSource, JsonlSink, SimConfig, Simulator, TruthWriter, run
from tests.unit.sim.conftest import small_config


async def _run_to(directory: Path, config: SimConfig, *, chunk: int, actions: Path | None) -> None:
    sim = Simulator(config, truth=TruthWriter(directory / "truth"))
    sink = JsonlSink(directory / "events.jsonl")
    source = FileActionSource(actions) if actions else None
    if source is not None:
        await source.start()
    await run(sim, sink, chunk=chunk, actions=source)
    await sink.close()


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _actions_file(path: Path, config: SimConfig) -> Path:
    start = config.start
    rows = [
        {"action_id": f"A-{i}", "customer_id": f"C-{i * 37:06d}", "action_type": kind,
         "issued_at": f"{start + timedelta(days=5 + i % 20)}T10:00:00Z",
         "params": {"discount_pct": 25}}
        for i, kind in enumerate(["offer", "save_call", "win_back", "repeat_nudge"] * 15)
    ]  # fmt: skip
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    return path


async def test_same_seed_gives_byte_identical_events_and_truth(tmp_path: Path) -> None:
    config = small_config(days=30, **{"population.customers": 800})
    actions = _actions_file(tmp_path / "actions.jsonl", config)
    await _run_to(tmp_path / "a", config, chunk=50_000, actions=actions)
    await _run_to(tmp_path / "b", config, chunk=777, actions=actions)  # other chunking too
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert set(first) >= {"events.jsonl", "truth/customers.csv", "truth/daily.csv",
                          "truth/churns.csv", "truth/actions.csv", "truth/hazard.csv"}  # fmt: skip
    assert len(first["events.jsonl"]) > 100_000
    assert first == second


async def test_another_seed_gives_another_run(tmp_path: Path) -> None:
    config = small_config(days=5, **{"population.customers": 300})
    await _run_to(tmp_path / "a", config, chunk=50_000, actions=None)
    await _run_to(tmp_path / "b", config.with_overrides(seed=12), chunk=50_000, actions=None)
    one = (tmp_path / "a" / "events.jsonl").read_bytes()
    other = (tmp_path / "b" / "events.jsonl").read_bytes()
    assert one != other
    assert config.run_tag != config.with_overrides(seed=12).run_tag


def test_event_ids_differ_between_configs_with_the_same_seed() -> None:
    a = Simulator(small_config(days=2, **{"population.customers": 50}))
    b = Simulator(small_config(days=2, **{"population.customers": 60}))
    line_a, line_b = next(a.step().chunks(1))[0], next(b.step().chunks(1))[0]
    assert (
        orjson.loads(line_a)["event_id"].split("-")[0]
        != orjson.loads(line_b)["event_id"].split("-")[0]
    )
