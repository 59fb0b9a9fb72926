"""``churnwatch tasks``: the save team's queue in a terminal, in the queue's one order.

The same function as the API's ``GET /v1/tasks`` and the dashboard (`worktasks.queue`, order
`worktasks.QUEUE_ORDER`); mounted by ``churnwatch_runtime.cli`` through the ``churnwatch.cli``
entry point (the runtime imports no service). Ids are never shortened, in a pipe too;
``--json`` / ``--csv`` export the rows.

``--contact`` adds the customer's name, phone and e-mail from the customer directory. The
command line runs as the operator, who holds the database's credentials and could read the
table directly, so no scope is asked for; but each read is audited like the API's: one
``api_audit`` row (``pii.queue``, target the customer id, no key id) per customer shown, naming
``--actor``, else ``$CW_ACTOR``, else the login name.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from churnwatch_alerts import worktasks as wt
from churnwatch_runtime.db import make_engine
from churnwatch_runtime.settings import CommonSettings
from churnwatch_runtime.views import export, reason_text

__all__ = ["app", "rows_of"]

app = typer.Typer()  # one command: the callback (its docstring is the help)


def _overdue(t: wt.TaskView, now: datetime) -> bool:
    """Still waiting for the first contact (open or assigned) past the SLA due time."""
    return t.state.value in ("open", "assigned") and t.first_contact_at is None \
        and now > t.sla_due_at  # fmt: skip


def rows_of(page: wt.QueuePage, now: datetime, *, contact: bool = False) -> list[dict[str, Any]]:
    """The queue's rows as the table and the exports show them (contact columns if asked)."""
    rows = []
    for t in page.tasks:
        row: dict[str, Any] = {
            "task_id": t.task_id, "customer_id": t.customer_id, "playbook_id": t.playbook_id,
            "state": t.state.value, "tier": t.tier, "priority": t.priority,
            "value_at_risk": t.value_at_risk, "sla_due_at": t.sla_due_at,
            "overdue": _overdue(t, now), "created_at": t.created_at, "assignee": t.assignee,
            "reasons": t.reasons,
        }  # fmt: skip
        if contact:
            found = (page.contacts or {}).get(t.customer_id)
            row["name"] = found.name if found else None
            row["phone"] = found.phone if found else None
            row["email"] = found.email if found else None
        rows.append(row)
    return rows


@app.callback(invoke_without_command=True)
def tasks(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many tasks.")] = 20,
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    mine: Annotated[str | None, typer.Option("--mine", help="Only this agent's tasks.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only the tasks past their SLA, not contacted.")
    ] = False,
    contact: Annotated[
        bool,
        typer.Option("--contact", help="Add name, phone and e-mail (each read is audited)."),
    ] = False,
    actor: Annotated[
        str | None, typer.Option(help="Who reads the contacts (audit); default $CW_ACTOR.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array (for scripts).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header.")] = False,
) -> None:
    """The save team's open tasks: highest priority first; equal priority, the most overdue
    first, then the oldest. OVERDUE: still waiting for the first contact after the SLA due
    time."""
    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv")
    now = datetime.now(UTC)
    f = wt.QueueFilter(team=team, assignee=mine, overdue=True if overdue else None)
    who = actor or os.environ.get("CW_ACTOR") or getpass.getuser()
    reader = wt.ContactReader(who) if contact else None

    async def read() -> wt.QueuePage:
        engine = make_engine(CommonSettings().database_url, pool_size=1)
        try:
            return await wt.queue(engine, f, now=now, limit=limit, contacts_for=reader)
        finally:
            await engine.dispose()

    rows = rows_of(asyncio.run(read()), now, contact=contact)
    if as_json or as_csv:
        typer.echo(export(rows, "json" if as_json else "csv"), nl=as_json)
        return
    _table(rows, contact)


def _table(rows: list[dict[str, Any]], contact: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for name, key in (("task", "task_id"), ("customer", "customer_id")):  # ids: never cut
        width = max([len(name), *(len(r[key]) for r in rows)])
        table.add_column(name, no_wrap=True, min_width=width)
    extra = ("name", "phone", "email") if contact else ()
    for name in (*extra, "playbook", "state", "tier", "at risk", "SLA due", "assignee", "why"):
        table.add_column(name, no_wrap=name in ("phone", "email"))
    for r in rows:
        due = f"{r['sla_due_at']:%Y-%m-%d %H:%M}" + (" OVERDUE" if r["overdue"] else "")
        table.add_row(
            r["task_id"], r["customer_id"], *(r[k] or "-" for k in extra), r["playbook_id"],
            r["state"], r["tier"], f"{r['value_at_risk']:,.0f}", due, r["assignee"] or "-",
            reason_text(r["reasons"]),
        )  # fmt: skip
    # the terminal's width, or 250 columns in a pipe (rich's 80 would squeeze the columns)
    Console(width=None if sys.stdout.isatty() else 250).print(table)
    if not rows:
        typer.echo("no tasks")
