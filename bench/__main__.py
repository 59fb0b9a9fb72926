"""``python -m bench``: run the benchmarks of every component that exists, record, render.

Usage::

    python -m bench                 # everything available on this checkout
    python -m bench --only sim      # the benchmarks named sim or sim_* (repeatable)
    python -m bench --quick         # smaller sizes, for a smoke run (figures marked "quick")
    python -m bench --list          # what exists and why some cannot run

Exit status: 0 done, 1 a benchmark failed (or, with ``--strict``, missed its target), 2 usage.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import (
    ROOT,
    Benchmark,
    Context,
    Metric,
    discover,
    entries,
    format_value,
    machine_description,
    merge_results,
    render_markdown,
)

INTRO = """\
Figures measured by `python -m bench` (also `make bench`, `churnwatch bench`), which runs the
benchmarks of every component present in the checkout, merges the figures into
`bench/results.json` (metric → value, unit, command, and the peer or ceiling figure measured in
the same run) and regenerates this file. Metrics not re-run keep their last figure, with the
date and machine they were measured on.

- `python -m bench --list` shows the benchmarks and why some cannot run yet;
- `python -m bench --only NAME` runs benchmark NAME and every `NAME_*` one (repeatable);
  `--quick` runs smaller sizes (figures marked "quick");
- `--strict` exits 1 when a figure misses its target.

A component adds its benchmarks in `bench/bench_<area>.py` as `BENCHMARKS: list[Benchmark]`
(see `bench/harness.py`). Throughputs are wall-clock figures of the whole command, start-up
included; peak memory is the child process's own maximum RSS (`wait4`)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    benchmarks = discover()
    names = [b.name for b in benchmarks]
    unknown = [only for only in args.only or () if not any(_matches(n, only) for n in names)]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {names}", file=sys.stderr)
        return 2
    selected = [
        b for b in benchmarks if not args.only or any(_matches(b.name, o) for o in args.only)
    ]
    if args.list:
        for bench in selected:
            reason = bench.available()
            print(f"{bench.name:28} {'ready' if reason is None else 'skip: ' + reason}")
            if bench.description:
                print(f"{'':28} {bench.description}")
        return 0
    metrics, failed = _run_all(selected, quick=args.quick)
    results_path: Path = args.results
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    new = entries(metrics, machine=machine_description(), measured_at=now, quick=args.quick)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    with results_path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # concurrent runs: no lost update
        handle.seek(0)
        text = handle.read()
        merged = merge_results(json.loads(text) if text.strip() else {}, new)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
        args.markdown.write_text(render_markdown(merged, intro=INTRO))
    print(f"wrote {len(new)} metric(s) to {results_path} and {args.markdown}")
    missed = [m.name for m in metrics if m.target is not None and not m.target.met(m.value)]
    if missed:
        print(f"missed target: {', '.join(missed)}", file=sys.stderr)
    return 1 if failed or (args.strict and missed) else 0


def _matches(name: str, only: str) -> bool:
    """``--only sim`` selects ``sim`` and every ``sim_*`` benchmark.

    >>> _matches("sim_events_per_s", "sim"), _matches("sim_events_per_s", "si")
    (True, False)
    """
    return name == only or name.startswith(only + "_")


def _run_all(selected: list[Benchmark], *, quick: bool) -> tuple[list[Metric], bool]:
    metrics: list[Metric] = []
    failed = False
    for bench in selected:
        reason = bench.available()
        if reason is not None:
            print(f"[{bench.name}] skipped: {reason}")
            continue
        print(f"[{bench.name}] running{' (quick)' if quick else ''} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"cw-bench-{bench.name}-") as scratch:
            ctx = Context(root=ROOT, workdir=Path(scratch), quick=quick, python=sys.executable)
            try:
                produced = bench.run(ctx)
            except Exception:
                failed = True
                print(f"[{bench.name}] FAILED\n{traceback.format_exc()}", file=sys.stderr)
                continue
        for metric in produced:
            if any(m.name == metric.name for m in metrics):
                raise ValueError(f"metric {metric.name!r} produced twice")
            metrics.append(metric)
            print(f"  {metric.name} = {format_value(metric.value, metric.unit)}{_refs(metric)}")
    return metrics, failed


def _refs(metric: Metric) -> str:
    parts: list[Any] = []
    if metric.target is not None:
        parts.append(
            f"target {metric.target} {'met' if metric.target.met(metric.value) else 'MISSED'}"
        )
    for ref in (metric.peer, metric.ceiling):
        if ref is not None:
            parts.append(f"{ref.name} {format_value(ref.value, ref.unit)}")
    return f"  ({'; '.join(parts)})" if parts else ""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this benchmark")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    parser.add_argument("--list", action="store_true", help="list benchmarks and exit")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md")
    return parser


if __name__ == "__main__":
    sys.exit(main())
