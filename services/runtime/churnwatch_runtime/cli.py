"""The ``churnwatch`` command line: the operations users need, each one a thin call.

Infrastructure (start/stop the local broker and database), topics, migrations, running a service,
producing sample events, the simulator and loaders, the demo and the benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from churnwatch_runtime import local, registry
from churnwatch_runtime.paths import PROJECT_ROOT
from churnwatch_runtime.settings import CommonSettings

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
infra_app = typer.Typer(no_args_is_help=True, help="The local Kafka broker and PostgreSQL.")
app.add_typer(infra_app, name="infra")


def _mount_registered() -> None:
    """Mount every command group the installed packages register (``churnwatch.cli``).

    A package that fails to import costs only its own commands (with a warning), so one broken
    service cannot take the whole command line down with it.
    """
    for name, ep in registry.cli_groups():
        try:
            sub = ep.load()
        except Exception as exc:
            print(f"churnwatch: `{name}` unavailable ({ep.value}: {exc!r})", file=sys.stderr)
            continue
        app.add_typer(sub, name=name)


_mount_registered()


@infra_app.command("up")
def infra_up() -> None:
    """Start Kafka and PostgreSQL (unless configured elsewhere), create topics, migrate."""
    env = local.start_infra(CommonSettings())
    for key, value in env.items():
        typer.echo(f"{key}={value}")


@infra_app.command("down")
def infra_down() -> None:
    """Stop the local broker and database (their data stays under var/)."""
    local.stop_infra()


@infra_app.command("status")
def infra_status() -> None:
    """Whether the local broker and database run, and where."""
    typer.echo(json.dumps(local.infra_status(), indent=2))


@app.command("topics")
def topics(
    partitions: Annotated[int, typer.Option(help="Partitions per topic.")] = 6,
) -> None:
    """Create the project's topics (existing topics are left as they are)."""
    settings = CommonSettings()
    created = asyncio.run(local.create_topics(settings, partitions=partitions))
    typer.echo(f"created: {', '.join(created) or 'none (all exist)'}")


@app.command("migrate")
def migrate() -> None:
    """Bring the database schema to the newest revision (Alembic)."""
    from churnwatch_runtime.db import upgrade

    upgrade(CommonSettings().database_url)
    typer.echo("schema up to date")


@app.command("run")
def run(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(registry.service_names())}")],
) -> None:
    """Run one service in the foreground (configured by environment variables)."""
    spec = registry.service(service)
    if spec is None:
        names = ", ".join(registry.service_names())
        raise typer.BadParameter(f"unknown service {service!r}; choose from {names}")
    os.execv(sys.executable, [sys.executable, *spec.argv()])


@app.command("produce")
def produce(
    count: Annotated[int, typer.Option(help="How many events.")] = 100,
    to: Annotated[str, typer.Option(help="http://host:port of ingest, or kafka")] = "kafka",
    customers: Annotated[int, typer.Option(help="Distinct customers.")] = 20,
) -> None:
    """Send sample events (one of every type, round-robin over customers) to ingest or Kafka.

    Over HTTP the key in ``$CW_INGEST_KEY`` (scope ``events:write``) is sent."""
    from churnwatch_runtime.samples import send_samples

    sent = asyncio.run(send_samples(CommonSettings(), count=count, to=to, customers=customers))
    typer.echo(f"sent {sent} events")


AsJson = Annotated[bool, typer.Option("--json", help="One JSON array (for scripts).")]
AsCsv = Annotated[bool, typer.Option("--csv", help="CSV with a header (for spreadsheets).")]


def _exported(rows: list[dict[str, Any]], as_json: bool, as_csv: bool) -> bool:
    """Print ``rows`` as JSON or CSV if asked (ids whole); False: print the table instead."""
    from churnwatch_runtime.views import export

    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv")
    if as_json or as_csv:
        typer.echo(export(rows, "json" if as_json else "csv"), nl=as_json)
    return as_json or as_csv


def _console() -> Any:
    """The terminal's width, or 250 columns in a pipe (rich's 80 would squeeze the columns)."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 250)


def _id_column(table: Any, name: str, rows: list[dict[str, Any]], key: str) -> None:
    """A column that is never cut: as wide as its longest id, even in a pipe."""
    table.add_column(name, no_wrap=True, min_width=max([len(name), *(len(r[key]) for r in rows)]))


@app.command("at-risk")
def at_risk(
    limit: Annotated[int, typer.Option(help="How many customers.")] = 20,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """Customers at high or critical churn risk, most value at risk first, with the reasons.

    CLV is the expected value (risk priced in); "if kept" is the value if the customer stays,
    which tiers and value at risk rank (docs/scoring.md "Value basis")."""
    from rich.table import Table

    from churnwatch_runtime.views import AT_RISK, fetch, reason_text

    rows = fetch(CommonSettings().database_url, AT_RISK, limit=limit)
    if _exported(rows, as_json, as_csv):
        return
    table = Table()
    _id_column(table, "customer", rows, "customer_id")
    for name in ("band", "p(churn)", "tier", "stage", "CLV", "if kept", "at risk", "why"):
        table.add_column(name)
    for r in rows:
        kept = r["value_if_retained"]
        table.add_row(
            r["customer_id"], r["band"], f"{r['churn_probability']:.2f}", r["tier"],
            r["lifecycle_stage"], f"{r['clv']:,.0f}", "" if kept is None else f"{kept:,.0f}",
            f"{r['value_at_risk']:,.0f}", reason_text(r["reasons"]),
        )  # fmt: skip
    _console().print(table)


@app.command("schema")
def schema(
    out: Annotated[Path | None, typer.Option(help="File to write; stdout if absent.")] = None,
    topic: Annotated[
        str, typer.Option(help="Whose messages: cw.events, cw.scores or cw.actions.")
    ] = "cw.events",
) -> None:
    """The JSON Schema of a topic's messages (docs/messages.md); the event contract by default."""
    from churnwatch.messages import TOPICS, topic_json_schema

    if topic not in TOPICS:
        raise typer.BadParameter(f"unknown topic {topic!r}; one of {', '.join(TOPICS)}")
    text = json.dumps(topic_json_schema(topic), indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")


@app.command("demo")
def demo(
    rate: Annotated[float, typer.Option(help="Simulated events per second.")] = 200.0,
    customers: Annotated[int, typer.Option(help="Simulated customers.")] = 2000,
    seconds: Annotated[float, typer.Option(help="Stop after this long (0 = until Ctrl-C).")] = 0.0,
    history_days: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Simulated days replayed before going live (default: $CW_DEMO_HISTORY_DAYS,"
            " else 120; 0 = live at once).",
        ),
    ] = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Wipe the local broker, database and demo state and start a new simulated"
            " history (default: resume the one in var/).",
        ),
    ] = False,
) -> None:
    """Start everything: infra, topics, services, and simulated customers flowing through."""
    from churnwatch_runtime.demo import run_demo

    raise typer.Exit(
        run_demo(
            rate=rate, customers=customers, seconds=seconds, history_days=history_days, fresh=fresh
        )
    )


@app.command("bench", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Run the benchmarks (bench/), writing bench/results.json and BENCHMARKS.md."""
    done = subprocess.run([sys.executable, "-m", "bench", *ctx.args], cwd=PROJECT_ROOT, check=False)
    raise typer.Exit(done.returncode)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
