"""The benchmark harness: what a benchmark is, how results are kept and shown.

A benchmark module ``bench/bench_<area>.py`` exposes ``BENCHMARKS: list[Benchmark]``. Each
benchmark says whether it can run here (``available()`` returns ``None`` or the reason it
cannot, e.g. a service not built yet) and, when run, returns :class:`Metric` figures, each
with the command a reader can run to reproduce it and, where there is one, a peer or ceiling
figure measured in the same run.

``bench/results.json`` maps metric name → entry (``value``, ``unit``, ``command`` and extra
keys); a run merges its entries into the file, so metrics not re-run are kept, and
``BENCHMARKS.md`` is regenerated from the merged file.
"""

from __future__ import annotations

import importlib
import math
import os
import pkgutil
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Benchmark",
    "Context",
    "Measured",
    "Metric",
    "Reference",
    "Target",
    "discover",
    "format_value",
    "machine_description",
    "merge_results",
    "parse_cpuinfo",
    "parse_meminfo",
    "render_markdown",
    "run_measured",
]

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Reference:
    """A peer or ceiling figure, measured in the same run as the metric it sits beside."""

    name: str
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class Target:
    """The figure the issue asks for: ``value`` is a floor (``>=``) or a cap (``<=``).

    >>> Target(">=", 200_000).met(215_000), Target("<=", 2048).met(2100)
    (True, False)
    >>> str(Target("<=", 2048))
    '≤ 2,048'
    """

    op: Literal[">=", "<="]
    value: float

    def met(self, value: float) -> bool:
        return value >= self.value if self.op == ">=" else value <= self.value

    def __str__(self) -> str:
        return f"{'≥' if self.op == '>=' else '≤'} {format_value(self.value)}"


@dataclass(frozen=True, slots=True)
class Metric:
    """One measured figure and how to reproduce it."""

    name: str
    value: float
    unit: str
    command: str
    peer: Reference | None = None
    ceiling: Reference | None = None
    target: Target | None = None
    notes: str = ""

    def entry(self, *, machine: str, measured_at: str, quick: bool) -> dict[str, Any]:
        """The ``results.json`` entry of this metric.

        >>> m = Metric("x_per_s", 12.5, "x/s", "python -m bench --only x", target=Target(">=", 10))
        >>> m.entry(machine="M", measured_at="2026-01-01", quick=False)["target"]
        {'op': '>=', 'value': 10, 'met': True}
        """
        entry: dict[str, Any] = {"value": self.value, "unit": self.unit, "command": self.command}
        for role in ("peer", "ceiling"):
            ref: Reference | None = getattr(self, role)
            if ref is not None:
                entry[role] = {"name": ref.name, "value": ref.value, "unit": ref.unit}
        if self.target is not None:
            met = self.target.met(self.value)
            entry["target"] = {"op": self.target.op, "value": self.target.value, "met": met}
        if self.notes:
            entry["notes"] = self.notes
        entry.update(measured_at=measured_at, machine=machine, quick=quick)
        return entry


@dataclass(frozen=True, slots=True)
class Context:
    """What a benchmark run gets: the repository root, a scratch directory, quick or full."""

    root: Path
    workdir: Path
    quick: bool = False
    python: str = "python"


@dataclass(frozen=True, slots=True)
class Benchmark:
    """A named group of measurements of one component."""

    name: str
    run: Callable[[Context], list[Metric]]
    available: Callable[[], str | None] = field(default=lambda: None)
    description: str = ""


@dataclass(frozen=True, slots=True)
class Measured:
    """A finished child process: wall time, its own peak RSS, exit status and output."""

    wall_s: float
    max_rss_mib: float
    returncode: int
    stdout: str
    stderr: str


# Linux keeps a process's peak RSS across execve, and a child starts with its parent's: a child
# spawned from this (possibly large) process would report at least our RSS. A tiny launcher
# (``python -I -S``, ~8 MiB) forks the real command and reports that grandchild's own peak.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(
    cmd: Sequence[str], *, cwd: Path | None = None, timeout: float = 1800.0
) -> Measured:
    """Run ``cmd``; measure its wall time and its own peak RSS (not inherited from us)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        rss_file = Path(scratch) / "maxrss"
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(rss_file), *cmd]
        started = time.perf_counter()
        proc = subprocess.Popen(launcher, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        killer = threading.Timer(timeout, os.killpg, (proc.pid, signal.SIGKILL))
        killer.start()
        try:
            returncode = proc.wait()
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        max_rss_kib = int(rss_file.read_text()) if rss_file.exists() else 0
        return Measured(
            wall_s=wall,
            max_rss_mib=max_rss_kib / 1024,  # Linux reports KiB
            returncode=returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def discover(package: str = "bench") -> list[Benchmark]:
    """The ``BENCHMARKS`` of every ``bench_*`` module of ``package``, in module order."""
    module = importlib.import_module(package)
    found: list[Benchmark] = []
    for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda i: i.name):
        if info.name.startswith("bench_"):
            found.extend(importlib.import_module(f"{package}.{info.name}").BENCHMARKS)
    return found


def merge_results(
    existing: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Existing entries updated by the new ones; metrics not re-run are kept. Sorted by name.

    >>> old, new = {"a": {"value": 1}, "b": {"value": 2}}, {"b": {"value": 3}, "c": {"value": 4}}
    >>> merge_results(old, new)
    {'a': {'value': 1}, 'b': {'value': 3}, 'c': {'value': 4}}
    """
    merged = {name: dict(entry) for name, entry in existing.items()}
    merged.update({name: dict(entry) for name, entry in new.items()})
    return dict(sorted(merged.items()))


def format_value(value: float, unit: str = "") -> str:
    """A figure for people: thousands separated, 3 significant digits below 1,000.

    >>> format_value(215432.7, "events/s"), format_value(812.4, "MiB"), format_value(0.01234, "s")
    ('215,433 events/s', '812 MiB', '0.0123 s')
    """
    if not math.isfinite(value):
        text = str(value)
    elif abs(value) >= 1000 or value == int(value):
        text = f"{value:,.0f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def parse_cpuinfo(text: str) -> str:
    """The CPU model named in ``/proc/cpuinfo``.

    >>> parse_cpuinfo("processor\\t: 0\\nmodel name\\t: AMD EPYC 7B13\\n")
    'AMD EPYC 7B13'
    """
    match = re.search(r"^(?:model name|Hardware|Processor)\s*:\s*(.+)$", text, re.MULTILINE)
    return " ".join(match.group(1).split()) if match else platform.processor() or "unknown CPU"


def parse_meminfo(text: str) -> float:
    """Total RAM in GiB from ``/proc/meminfo``.

    >>> parse_meminfo("MemTotal:       16384000 kB\\nMemFree: 1 kB\\n")
    15.625
    """
    match = re.search(r"^MemTotal:\s*(\d+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024**2 if match else float("nan")


def machine_description(proc: Path = Path("/proc")) -> str:
    """CPU model, usable cores, RAM, OS and Python of this machine, on one line."""
    cpu = parse_cpuinfo(_read(proc / "cpuinfo"))
    ram = parse_meminfo(_read(proc / "meminfo"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}, {cores} cores, {ram:.1f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def render_markdown(results: Mapping[str, Mapping[str, Any]], *, intro: str = "") -> str:
    """``BENCHMARKS.md``: the machines, then one table row per metric.

    >>> text = render_markdown({"sim_events_per_s": {
    ...     "value": 250000.0, "unit": "events/s", "command": "python -m bench --only sim",
    ...     "target": {"op": ">=", "value": 200000, "met": True},
    ...     "ceiling": {"name": "orjson write", "value": 1.2e6, "unit": "events/s"},
    ...     "measured_at": "2026-01-02T03:04:05+00:00", "machine": "Some CPU, 2 cores"}})
    >>> print(text.splitlines()[-1])  # doctest: +NORMALIZE_WHITESPACE
    | `sim_events_per_s` | **250,000 events/s** | ≥ 200,000 ✅ | ceiling: orjson write
      1,200,000 events/s | `python -m bench --only sim` | 2026-01-02 | M1 |
    """
    machines: dict[str, str] = {}
    rows = []
    for name, entry in results.items():
        machine = str(entry.get("machine", "unknown"))
        label = machines.setdefault(machine, f"M{len(machines) + 1}")
        unit = str(entry.get("unit", ""))
        figure = f"**{format_value(float(entry['value']), unit)}**"
        if entry.get("quick"):
            figure += " (quick)"
        target = ""
        if "target" in entry:
            t = entry["target"]
            target = f"{Target(t['op'], t['value'])} {'✅' if t.get('met') else '❌'}"
        refs = [
            f"{role}: {ref['name']} {format_value(float(ref['value']), str(ref['unit']))}"
            for role in ("peer", "ceiling")
            if (ref := entry.get(role))
        ]
        when = str(entry.get("measured_at", ""))[:10]
        cells = [f"`{name}`", figure, target, "; ".join(refs), f"`{entry['command']}`", when, label]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines = ["# Benchmarks", ""]
    if intro:
        lines += [intro.strip(), ""]
    lines += ["## Machines", ""]
    lines += [f"- **{label}**: {machine}" for machine, label in machines.items()]
    lines += [
        "",
        "## Results",
        "",
        "| metric | figure | target | peer / ceiling (same run) | command | measured | machine |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    notes = [(name, str(e["notes"])) for name, e in results.items() if e.get("notes")]
    if notes:
        lines += ["", "## Notes", ""] + [f"- `{name}`: {_cell(text)}" for name, text in notes]
    return "\n".join(lines) + "\n"


def entries(
    metrics: Iterable[Metric], *, machine: str, measured_at: str, quick: bool
) -> dict[str, dict[str, Any]]:
    """The ``results.json`` entries of a run's metrics, by name."""
    return {m.name: m.entry(machine=machine, measured_at=measured_at, quick=quick) for m in metrics}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
