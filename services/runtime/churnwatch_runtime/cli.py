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
from typing import Annotated

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


@app.command("at-risk")
def at_risk(limit: Annotated[int, typer.Option(help="How many customers.")] = 20) -> None:
    """Customers at high or critical churn risk, most value at risk first, with the reasons.

    CLV is the expected value (risk priced in); "if kept" is the value if the customer stays,
    which tiers and value at risk rank (docs/scoring.md "Value basis")."""
    from rich.console import Console
    from rich.table import Table

    from churnwatch_runtime.views import AT_RISK, fetch, reason_text

    table = Table(
        "customer", "band", "p(churn)", "tier", "stage", "CLV", "if kept", "at risk", "why"
    )  # fmt: skip
    for r in fetch(CommonSettings().database_url, AT_RISK, limit=limit):
        kept = r["value_if_retained"]
        table.add_row(
            r["customer_id"], r["band"], f"{r['churn_probability']:.2f}", r["tier"],
            r["lifecycle_stage"], f"{r['clv']:,.0f}", "" if kept is None else f"{kept:,.0f}",
            f"{r['value_at_risk']:,.0f}", reason_text(r["reasons"]),
        )  # fmt: skip
    Console().print(table)


@app.command("tasks")
def tasks(limit: Annotated[int, typer.Option(help="How many tasks.")] = 20) -> None:
    """The save team's open task queue, highest priority first."""
    from rich.console import Console
    from rich.table import Table

    from churnwatch_runtime.views import TASKS, fetch, reason_text

    table = Table("customer", "playbook", "state", "tier", "at risk", "SLA due", "why")
    for r in fetch(CommonSettings().database_url, TASKS, limit=limit):
        table.add_row(
            r["customer_id"], r["playbook_id"], r["state"], r["tier"],
            f"{r['value_at_risk']:,.0f}", f"{r['sla_due_at']:%Y-%m-%d %H:%M}",
            reason_text(r["reasons"]),
        )  # fmt: skip
    Console().print(table)


@app.command("schema")
def schema(
    out: Annotated[Path | None, typer.Option(help="File to write; stdout if absent.")] = None,
) -> None:
    """The JSON Schema of the event contract."""
    from churnwatch.events import event_json_schema

    text = json.dumps(event_json_schema(), indent=2)
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
) -> None:
    """Start everything: infra, topics, services, and simulated customers flowing through."""
    from churnwatch_runtime.demo import run_demo

    raise typer.Exit(
        run_demo(rate=rate, customers=customers, seconds=seconds, history_days=history_days)
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
