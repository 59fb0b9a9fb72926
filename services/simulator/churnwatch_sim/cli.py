"""``churnwatch simulate``: simulated customers with known truth, to a file, HTTP or Kafka.

Examples::

    churnwatch simulate run --customers 100000 --days 365 --seed 7 --out events.jsonl \\
        --truth-dir truth/
    churnwatch simulate run --clock live --rate 1000 --to http://127.0.0.1:8001 \\
        --actions-from kafka://127.0.0.1:9092
    churnwatch simulate run --clock live --history-days 120 --to http://127.0.0.1:8001
        # the last 120 days replayed (ending today), then the same customers live
    churnwatch simulate config > sim.yaml      # every parameter, to edit and pass as --config

``python -m churnwatch_sim.cli --customers …`` (no command) means ``run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from churnwatch_sim.actions import ActionSource, FileActionSource, KafkaActionReader
from churnwatch_sim.config import SimConfig, history_start, load_config
from churnwatch_sim.engine import Simulator
from churnwatch_sim.runner import Clock, History, RunSummary, run
from churnwatch_sim.sinks import SinkError, open_sink
from churnwatch_sim.truth import TruthWriter

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
err = Console(stderr=True)
LIVE_DAYS = 100_000


@app.command("run")
def run_command(
    customers: Annotated[int | None, typer.Option(help="population size")] = None,
    days: Annotated[int | None, typer.Option(help="simulated days (live: unbounded)")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    retail_share: Annotated[float | None, typer.Option(help="share of retail customers")] = None,
    start: Annotated[str | None, typer.Option(help="first simulated date, YYYY-MM-DD")] = None,
    config: Annotated[Path | None, typer.Option(help="JSON/YAML config file")] = None,
    out: Annotated[str | None, typer.Option(help="JSON-lines file ('-' = stdout)")] = None,
    to: Annotated[str | None, typer.Option(help="http(s)://ingest or kafka://host:port")] = None,
    truth_dir: Annotated[Path | None, typer.Option(help="write the truth files here")] = None,
    clock: Annotated[str, typer.Option(help="replay | live")] = "replay",
    rate: Annotated[float, typer.Option(help="live clock: events per second")] = 1000.0,
    history_days: Annotated[
        int, typer.Option(min=0, help="live clock: first replay this many days ending today")
    ] = 0,
    actions_from: Annotated[
        str | None, typer.Option(help="kafka://host:port (optionally /topic) or a JSON-lines file")
    ] = None,
    hazard_every: Annotated[int | None, typer.Option(help="days between hazard snapshots")] = None,
    chunk: Annotated[int, typer.Option(help="events per sink call")] = 50_000,
    summary_json: Annotated[Path | None, typer.Option(help="also write the summary here")] = None,
    progress: Annotated[bool, typer.Option(help="progress bar on stderr")] = True,
) -> None:
    """Simulate customers and send their events to a file, the ingest API or Kafka."""
    if clock not in ("replay", "live"):
        raise typer.BadParameter("--clock must be 'replay' or 'live'")
    if out is not None and to is not None:
        raise typer.BadParameter("give --out or --to, not both")
    if history_days and clock != "live":
        raise typer.BadParameter("--history-days needs --clock live")
    first = _first_day(start, history_days)
    if clock == "live":  # --days counts the live days after the history
        days = LIVE_DAYS if days is None else history_days + days
    given = {
        "seed": seed,
        "days": days,
        "start": first,
        "hazard_every": hazard_every,
        "population.customers": customers,
        "population.retail_share": retail_share,
    }
    cfg = load_config(config).with_overrides(**{k: v for k, v in given.items() if v is not None})
    target = to or out or "-"
    shown = progress and target != "-" and err.is_terminal
    mode: Clock = "live" if clock == "live" else "replay"
    try:
        summary = asyncio.run(
            _run(cfg, target, truth_dir, mode, rate, history_days, actions_from, chunk, shown)
        )
    except SinkError as exc:
        err.print(f"[red]sink failed:[/red] {exc}")
        raise typer.Exit(1) from None
    _print_summary(summary, target, truth_dir)
    if summary_json is not None:
        summary_json.write_bytes(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2))


@app.command("config")
def config_command(
    config: Annotated[Path | None, typer.Option(help="start from this file")] = None,
    fmt: Annotated[str, typer.Option("--format", help="yaml | json")] = "yaml",
) -> None:
    """Print the full configuration (defaults, or a file's values completed with them)."""
    data = load_config(config).model_dump(mode="json")
    if fmt == "json":
        typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False).rstrip())


async def _run(
    cfg: SimConfig,
    target: str,
    truth_dir: Path | None,
    clock: Clock,
    rate: float,
    history_days: int,
    actions_from: str | None,
    chunk: int,
    shown: bool,
) -> RunSummary:
    sim = Simulator(cfg, truth=TruthWriter(truth_dir) if truth_dir else None)
    sink = open_sink(target)
    source = _action_source(actions_from)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    bar = _progress(cfg.days if clock == "replay" else None) if shown else None

    def history_done(history: History) -> None:
        err.print(history.describe(), highlight=False, soft_wrap=True)

    options: dict[str, Any] = {
        "clock": clock, "history_days": history_days, "rate": rate, "chunk": chunk,
        "actions": source, "stop": stop, "on_history": history_done,
    }  # fmt: skip
    try:
        if source is not None:
            await source.start()
        if bar is None:
            return await run(sim, sink, **options)
        with bar:
            task = bar.add_task("simulating", total=cfg.days if clock == "replay" else None,
                                events=0, rate=0.0)  # fmt: skip
            began, sent = time.perf_counter(), 0

            def tick(day: int, n: int) -> None:
                nonlocal sent
                sent += n
                speed = sent / max(time.perf_counter() - began, 1e-9)
                bar.update(task, completed=day, events=sent, rate=speed)

            return await run(sim, sink, progress=tick, **options)
    finally:
        await sink.close()
        if source is not None:
            await source.stop()


def _first_day(start: str | None, history_days: int) -> date | None:
    """``--start``, or today − ``history_days`` (UTC) when a history is asked for without one."""
    today = datetime.now(UTC).date()
    first = date.fromisoformat(start) if start else None
    if not history_days:
        return first
    if first is None:
        return history_start(history_days, today)
    if first + timedelta(days=history_days) > today:
        raise typer.BadParameter("--start + --history-days would end the history after today")
    return first


def _action_source(spec: str | None) -> ActionSource | None:
    if spec is None:
        return None
    if spec.startswith("kafka://"):
        bootstrap, _, topic = spec.removeprefix("kafka://").partition("/")
        return KafkaActionReader(bootstrap, topic=topic or "cw.actions")
    return FileActionSource(Path(spec))


def _progress(total: int | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if total else TextColumn("day {task.completed}"),
        TextColumn("{task.fields[events]:>12,} events"),
        TextColumn("{task.fields[rate]:>10,.0f} events/s"),
        TimeElapsedColumn(),
        console=err,
        refresh_per_second=4,
    )


def _print_summary(s: RunSummary, target: str, truth_dir: Path | None) -> None:
    table = Table(title="simulation summary", show_header=False, title_justify="left")
    rows: list[tuple[str, Any]] = [
        ("target", target),
        ("clock", s.clock + (" (stopped early)" if s.stopped_early else "")),
        ("days", s.days),
        ("events", f"{s.events:,} in {s.seconds:.1f} s = {s.events_per_s:,.0f} events/s"),
        ("by type", ", ".join(f"{k} {v:,}" for k, v in s.events_by_type.most_common())),
        ("churns by cause", ", ".join(f"{k} {v:,}" for k, v in sorted(s.churns_by_cause.items()))),
        ("sink", ", ".join(f"{k} {v:,}" for k, v in s.sink.items())),
    ]
    if s.history is not None:
        rows.append(("history", s.history.describe().removeprefix("history done: ")))
    if s.actions:
        rows.append(("actions", ", ".join(f"{k} {v:,}" for k, v in sorted(s.actions.items()))))
    if truth_dir is not None:
        rows.append(("truth", str(truth_dir)))
    for key, value in rows:
        table.add_row(key, str(value))
    if s.sink.get("rejected"):
        table.add_row("[red]rejected[/red]", f"[red]{s.sink['rejected']:,} events[/red]")
        for report in s.rejections[:5]:
            table.add_row("", orjson.dumps(report).decode()[:300])
    err.print(table)


def main(argv: list[str] | None = None) -> None:
    """Entry point for ``python -m churnwatch_sim.cli``: options without a command mean ``run``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0].startswith("-") and args[0] not in ("--help", "-h"):
        args = ["run", *args]
    app(args=args, prog_name="churnwatch simulate")


if __name__ == "__main__":
    main()
