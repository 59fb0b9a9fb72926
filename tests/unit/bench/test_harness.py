"""The benchmark harness's own logic: merging results, rendering BENCHMARKS.md, running."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import bench.__main__ as cli
from bench.harness import (
    Benchmark,
    Context,
    Metric,
    Reference,
    Target,
    discover,
    entries,
    format_value,
    machine_description,
    merge_results,
    parse_cpuinfo,
    parse_meminfo,
    render_markdown,
    run_measured,
)


def entry(value: float, **extra: Any) -> dict[str, Any]:
    return {"value": value, "unit": "events/s", "command": f"run {value}", **extra}


def test_merge_keeps_metrics_not_rerun_and_replaces_rerun_ones() -> None:
    existing = {"b": entry(1), "a": entry(2, peer={"name": "x", "value": 1, "unit": "u"})}
    new = {"b": entry(3), "c": entry(4)}
    merged = merge_results(existing, new)
    assert list(merged) == sorted({*existing, *new})
    assert merged["a"] == existing["a"]
    assert merged["b"] == new["b"]
    assert merged["c"] == new["c"]
    merged["a"]["value"] = -1
    assert existing["a"]["value"] == 2  # the inputs are not mutated


def test_metric_entry_carries_references_and_target() -> None:
    metric = Metric(
        "sim_memory_mib_1m_customers",
        1500.0,
        "MiB",
        "cmd",
        peer=Reference("peer", 10.0, "MiB"),
        ceiling=Reference("ceil", 20.0, "MiB"),
        target=Target("<=", 2048),
        notes="n",
    )
    ((name, got),) = entries([metric], machine="M", measured_at="T", quick=True).items()
    assert name == metric.name
    assert got == {
        "value": metric.value,
        "unit": metric.unit,
        "command": metric.command,
        "peer": {"name": "peer", "value": 10.0, "unit": "MiB"},
        "ceiling": {"name": "ceil", "value": 20.0, "unit": "MiB"},
        "target": {"op": "<=", "value": 2048, "met": True},
        "notes": "n",
        "measured_at": "T",
        "machine": "M",
        "quick": True,
    }
    missed = Metric("m", 3000.0, "MiB", "cmd", target=Target("<=", 2048))
    assert missed.entry(machine="M", measured_at="T", quick=False)["target"]["met"] is False


def test_markdown_table_has_a_row_per_metric_and_labels_machines() -> None:
    results = {
        "a_per_s": entry(250_000, machine="CPU one", measured_at="2026-01-02T03:04:05+00:00",
                         target={"op": ">=", "value": 200_000, "met": True}),
        "b_mib": {**entry(3000, machine="CPU two", quick=True), "unit": "MiB",
                  "target": {"op": "<=", "value": 2048, "met": False}},
        "c_pipe": entry(0.5, machine="CPU one", command="a | b",
                        peer={"name": "peer|x", "value": 0.25, "unit": "s"}, notes="why"),
    }  # fmt: skip
    text = render_markdown(results, intro="How to run.")
    lines = text.splitlines()
    rows = [line for line in lines if line.startswith("| `")]
    assert [row.split("|")[1].strip() for row in rows] == [f"`{n}`" for n in results]
    assert "- **M1**: CPU one" in lines
    assert "- **M2**: CPU two" in lines
    assert rows[0].endswith("| 2026-01-02 | M1 |")
    assert rows[1].endswith("| M2 |")
    assert f"**{format_value(250_000, 'events/s')}**" in rows[0]
    assert "≥ 200,000 ✅" in rows[0]
    assert "≤ 2,048 ❌" in rows[1]
    assert "(quick)" in rows[1]
    assert "(quick)" not in rows[0]
    assert "peer: peer\\|x 0.25 s" in rows[2]
    assert "`a \\| b`" in rows[2]
    assert all(row.count(" | ") == 6 for row in rows)  # escaped pipes keep 7 cells
    assert "- `c_pipe`: why" in lines
    assert "How to run." in lines


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1234567.8, "events/s", "1,234,568 events/s"),
        (999.95, "MiB", "1e+03 MiB"),
        (12.0, "MiB", "12 MiB"),
        (0.000123, "s", "0.000123 s"),
        (float("nan"), "", "nan"),
    ],
)
def test_format_value(value: float, unit: str, expected: str) -> None:
    assert format_value(value, unit) == expected


def test_machine_from_proc(tmp_path: Path) -> None:
    (tmp_path / "cpuinfo").write_text("processor : 0\nmodel name : Fancy  CPU @ 3GHz\n")
    (tmp_path / "meminfo").write_text("MemTotal:        2097152 kB\n")
    assert parse_cpuinfo((tmp_path / "cpuinfo").read_text()) == "Fancy CPU @ 3GHz"
    assert parse_meminfo((tmp_path / "meminfo").read_text()) == 2.0
    description = machine_description(tmp_path)
    assert description.startswith("Fancy CPU @ 3GHz, ")
    assert "2.0 GiB RAM" in description


def test_run_measured_reports_the_childs_own_peak_rss() -> None:
    mib = 64
    big = run_measured([sys.executable, "-c", f"b = b'x' * ({mib} << 20)"])
    assert big.returncode == 0, big.stderr
    assert big.max_rss_mib >= mib
    small = run_measured([sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"])
    assert (small.returncode, small.stdout) == (3, "hi\n")
    assert small.max_rss_mib < big.max_rss_mib  # not the maximum over all children so far
    assert small.wall_s > 0


def test_discover_finds_the_bench_modules() -> None:
    names = [b.name for b in discover()]
    assert "cdnow_replay_events_per_s" in names
    assert len(names) == len(set(names))


def _fake(name: str, value: float, reason: str | None = None, fail: bool = False) -> Benchmark:
    def run(ctx: Context) -> list[Metric]:
        assert ctx.workdir.is_dir()
        if fail:
            raise RuntimeError("boom")
        return [Metric(f"{name}_metric", value, "x/s", f"cmd {name}", target=Target(">=", 10))]

    return Benchmark(name=name, run=run, available=lambda: reason)


def test_main_merges_into_results_and_regenerates_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results, markdown = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    old = {"kept_metric": entry(7, machine="old box"), "fast_metric": entry(1, machine="old box")}
    results.write_text(json.dumps(old))
    fakes = [_fake("fast", 50), _fake("slow", 5), _fake("absent", 1, reason="not built yet")]
    monkeypatch.setattr(cli, "discover", lambda: fakes)
    paths = ["--results", str(results), "--markdown", str(markdown)]

    assert cli.main(["--only", "fast", "--only", "absent", *paths]) == 0
    written = json.loads(results.read_text())
    assert set(written) == {"kept_metric", "fast_metric"}
    assert written["kept_metric"] == old["kept_metric"]
    assert written["fast_metric"]["value"] == 50
    assert written["fast_metric"]["machine"] == machine_description()
    assert "skipped: not built yet" in capsys.readouterr().out
    assert "`fast_metric`" in markdown.read_text()

    assert cli.main([*paths, "--quick"]) == 0  # "slow" misses its target: reported only
    assert cli.main([*paths, "--strict"]) == 1
    assert json.loads(results.read_text())["slow_metric"]["target"]["met"] is False
    assert cli.main(["--only", "nope", *paths]) == 2


def test_main_reports_a_failing_benchmark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "discover", lambda: [_fake("bad", 1, fail=True), _fake("ok", 20)])
    results = tmp_path / "results.json"
    code = cli.main(["--results", str(results), "--markdown", str(tmp_path / "B.md")])
    assert code == 1
    assert list(json.loads(results.read_text())) == ["ok_metric"]


def test_run_measured_kills_at_timeout() -> None:
    run = run_measured(["sleep", "30"], timeout=0.2)
    assert run.returncode < 0
    assert run.wall_s < 10
