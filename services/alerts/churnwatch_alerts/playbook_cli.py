"""``churnwatch playbooks …`` and ``churnwatch uplift``: manage playbooks, read honest uplift.

Thin: each command opens one transaction and calls `churnwatch_alerts.catalog` (or
`churnwatch_alerts.uplift_view`); errors are printed as the domain words them, with exit code 1.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.alerts import PlaybookError
from churnwatch.errors import ChurnError
from churnwatch_alerts import catalog
from churnwatch_alerts.uplift_view import EarlyCount, early_counts, latest_reports
from churnwatch_runtime.db import make_engine
from churnwatch_runtime.settings import CommonSettings

app = typer.Typer(no_args_is_help=True, help="Playbooks: list, show, validate, apply, enable.")
uplift_app = typer.Typer(help="Honest uplift per playbook (the newest uplift job run).")
T = TypeVar("T")


def _run(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = make_engine(CommonSettings().database_url)
        try:
            async with engine.begin() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except PlaybookError as exc:
        for issue in exc.issues:
            typer.echo(f"error: {issue}", err=True)
        raise typer.Exit(1) from None
    except ChurnError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _read(path: Path) -> str:
    return path.read_text() if str(path) != "-" else typer.get_text_stream("stdin").read()


@app.command("list")
def list_(
    all_versions: Annotated[bool, typer.Option("--all", help="Every stored version.")] = False,
) -> None:
    """Stored playbooks (enabled ones unless --all)."""
    rows = _run(lambda c: catalog.list_playbooks(c, all_versions=all_versions))
    table = Table("id", "v", "enabled", "trigger", "action", "holdout", "name", "loaded")
    for r in rows:
        table.add_row(
            r.id, str(r.version), "yes" if r.enabled else "no", r.trigger, r.action,
            f"{r.holdout:.0%}", r.name, f"{r.loaded_at:%Y-%m-%d %H:%M}",
        )  # fmt: skip
    Console().print(table)


@app.command("show")
def show(playbook_id: Annotated[str | None, typer.Argument()] = None) -> None:
    """The enabled playbooks (or one) as YAML: edit, bump `version`, then `apply`."""
    typer.echo(_run(lambda c: catalog.export_document(c, playbook_id)), nl=False)


@app.command("validate")
def validate(path: Annotated[Path, typer.Argument(help="A YAML file, or - for stdin.")]) -> None:
    """Check a playbook document without storing it; every problem with its path."""
    try:
        playbooks = catalog.check_document(_read(path))
    except PlaybookError as exc:
        for issue in exc.issues:
            typer.echo(f"error: {issue}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"ok: {', '.join(f'{pb.id} v{pb.version}' for pb in playbooks)}")


@app.command("apply")
def apply(path: Annotated[Path, typer.Argument(help="A YAML file, or - for stdin.")]) -> None:
    """Store the document's playbooks (new versions replace the enabled ones, all or nothing);
    the alerts service picks them up within its playbook poll (10 s)."""
    document = _read(path)
    for a in _run(lambda c: catalog.apply_document(c, document)):
        extra = f" (disabled v{', v'.join(map(str, a.disabled))})" if a.disabled else ""
        typer.echo(f"{a.id} v{a.version}: {a.status}{extra}")


@app.command("enable")
def enable(
    playbook_id: str,
    version: Annotated[int | None, typer.Option(help="Default: the newest.")] = None,
) -> None:
    """Enable a stored version (the others of the id are disabled)."""
    enabled = _run(lambda c: catalog.set_enabled(c, playbook_id, True, version))
    typer.echo(f"{playbook_id} v{enabled}: enabled")


@app.command("disable")
def disable(playbook_id: str) -> None:
    """Disable every version of a playbook: it stops matching; its history stays."""
    _run(lambda c: catalog.set_enabled(c, playbook_id, False))
    typer.echo(f"{playbook_id}: disabled")


def _pct(value: Any, low: Any = None, high: Any = None) -> str:
    if value is None:
        return "n/a"
    out = f"{value:+.1%}"
    return out if low is None or high is None else f"{out} [{low:+.1%}, {high:+.1%}]"


@uplift_app.callback(invoke_without_command=True)
def uplift(
    playbook: Annotated[str | None, typer.Option(help="One playbook only.")] = None,
) -> None:
    """Treated vs control churn, the honest save rate with its 95% interval, customers and
    value saved, raw save rate and SLA attainment, per playbook and tier."""

    rows = _run(lambda c: latest_reports(c, playbook))
    if not rows:
        _so_far(_run(lambda c: early_counts(c, playbook)))
        return
    table = Table(
        "playbook", "segment", "treated", "control", "churn T", "churn C",
        "honest save rate [95%]", "saved", "value saved", "raw save", "SLA",
        title=f"uplift over {rows[0]['horizon_days']:.0f} days, judged at "
        f"{rows[0]['watermark']:%Y-%m-%d %H:%M} (event time)",
    )  # fmt: skip
    for r in rows:
        table.add_row(
            r["playbook_id"], r["segment"], str(r["treated"]), str(r["control"]),
            _share(r["churn_treated"]), _share(r["churn_control"]),
            _pct(r["uplift"], r["uplift_low"], r["uplift_high"]),
            _num(r["customers_saved"]), _num(r["value_saved"]),
            _share(r["raw_save_rate"]), _share(r["sla_attainment"]),
        )  # fmt: skip
    Console().print(table)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def _so_far(counts: list[EarlyCount]) -> None:
    """Before the job's first report: the experiment log's counts from the first exposure on."""
    typer.echo("no uplift report yet (the alerts service's uplift job writes one hourly and"
               " judges an exposure once its horizon has passed); so far:")  # fmt: skip
    if not counts:
        typer.echo("no exposure yet")
        return
    table = Table("playbook", "segment", "treated", "control", "resolved T", "resolved C",
                  "churned T", "churned C", "since")  # fmt: skip
    for c in counts:
        since = "-" if c.first_exposed_at is None else f"{c.first_exposed_at:%Y-%m-%d %H:%M}"
        table.add_row(
            c.playbook_id, c.segment, str(c.treated), str(c.control), str(c.resolved_treated),
            str(c.resolved_control), str(c.churned_treated), str(c.churned_control), since,
        )  # fmt: skip
    Console(width=None if sys.stdout.isatty() else 250).print(table)  # pipes: ids whole
