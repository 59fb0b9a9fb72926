"""``churnwatch task …`` and ``churnwatch agents …``: working save-team tasks from a terminal.

Thin commands over `churnwatch_alerts.worktasks` and `churnwatch_alerts.agents`, mounted by
``churnwatch_runtime.cli`` (``app`` as ``task``, ``agents_app`` as ``agents``). The database is
``DATABASE_URL`` (the shared settings). The actor written on audit rows is ``--actor``, else
``CW_ACTOR``, else the login name. A refused action (unknown task or agent, a move the
lifecycle does not allow, an agent at ``max_open``) prints ``error: …`` and exits with 1.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.errors import ChurnError
from churnwatch_alerts import agents as ag
from churnwatch_alerts import worktasks as wt
from churnwatch_alerts.backlog import Backlog, assign_backlog
from churnwatch_runtime.db import make_engine
from churnwatch_runtime.settings import CommonSettings

__all__ = ["agents_app", "app"]

app = typer.Typer(no_args_is_help=True, help="Work a save-team task.")
agents_app = typer.Typer(no_args_is_help=True, help="The agents who work the tasks.")
T = TypeVar("T")

Actor = Annotated[
    str | None, typer.Option(help="Who acts (audit rows); default $CW_ACTOR or the login name.")
]
TaskId = Annotated[str, typer.Argument(help="The task id.")]


def _actor(given: str | None) -> str:
    return given or os.environ.get("CW_ACTOR") or getpass.getuser()


def _run(call: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run one service call on a fresh engine; a refused action exits with 1."""

    async def go() -> T:
        engine = make_engine(CommonSettings().database_url, pool_size=1)
        try:
            return await call(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except (ChurnError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _at(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _line(t: wt.TaskView) -> str:
    return (
        f"{t.task_id}  {t.state.value:<11} {t.customer_id}  {t.playbook_id}  {t.tier}"
        f"  at risk {t.value_at_risk:,.0f}  due {_at(t.sla_due_at)}  {t.assignee or '-'}"
    )


@app.command("show")
def show(task_id: TaskId) -> None:
    """A task, its reasons and talking points, and its audit trail."""
    t = _run(lambda e: wt.get_task(e, task_id))
    sla = {None: "not contacted", True: "met", False: "missed"}[t.in_sla]
    for key, value in (
        ("task", t.task_id), ("customer", t.customer_id),
        ("playbook", f"{t.playbook_id} v{t.playbook_version} ({t.action_type})"),
        ("state", t.state.value), ("outcome", t.outcome or "-"), ("team", t.team),
        ("assignee", t.assignee or "-"), ("tier", t.tier), ("priority", f"{t.priority:,.2f}"),
        ("churn", f"{t.churn_probability:.2f}"), ("at risk", f"{t.value_at_risk:,.0f}"),
        ("created", _at(t.created_at)), ("SLA due", _at(t.sla_due_at)),
        ("first contact", f"{_at(t.first_contact_at)} (SLA {sla})"),
        ("closed", _at(t.closed_at)),
    ):  # fmt: skip
        typer.echo(f"{key:>14}: {value}")
    for reason in t.reasons:
        text = reason.get("text", reason) if isinstance(reason, dict) else reason
        typer.echo(f"{'why':>14}: {text}")
    for point in t.talking_points:
        typer.echo(f"{'say':>14}: {point}")
    for a in t.audit:
        note = f'  "{a.note}"' if a.note else ""
        who = f" -> {a.assignee}" if a.assignee and a.to_state == "assigned" else ""
        typer.echo(
            f"{_at(a.at)}  {a.from_state or 'created'} → {a.to_state}{who}  by {a.actor}{note}"
        )


@app.command("list")
def list_(
    state: Annotated[
        str | None, typer.Option(help="Only this state (default: unfinished).")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    mine: Annotated[str | None, typer.Option("--mine", help="Only this agent's tasks.")] = None,
    limit: Annotated[int, typer.Option(help="How many tasks.")] = 50,
) -> None:
    """Tasks in queue order: priority, then SLA due time."""
    tasks = _run(lambda e: wt.list_tasks(e, state=state, team=team, assignee=mine, limit=limit))
    for t in tasks:
        typer.echo(_line(t))
    if not tasks:
        typer.echo("no tasks")


@app.command("assign")
def assign(
    task_id: TaskId,
    agent: Annotated[str, typer.Argument(help="The agent id.")],
    actor: Actor = None,
) -> None:
    """Give a task to an agent (or move it to another one)."""
    typer.echo(_line(_run(lambda e: wt.assign(e, task_id, agent, actor=_actor(actor)))))


@app.command("release")
def release(task_id: TaskId, actor: Actor = None) -> None:
    """Put an assigned task back in the queue."""
    typer.echo(_line(_run(lambda e: wt.release(e, task_id, actor=_actor(actor)))))


@app.command("start")
def start(task_id: TaskId, actor: Actor = None) -> None:
    """The first contact with the customer (counts for the SLA)."""
    typer.echo(_line(_run(lambda e: wt.start(e, task_id, actor=_actor(actor)))))


@app.command("close")
def close(
    task_id: TaskId,
    outcome: Annotated[str, typer.Option(help="won, lost or no_contact.")],
    note: Annotated[str | None, typer.Option(help="What happened (kept on the audit row).")] = None,
    actor: Actor = None,
) -> None:
    """Close a task with its outcome."""
    done = _run(lambda e: wt.close(e, task_id, outcome, actor=_actor(actor), note=note))
    typer.echo(_line(done))


def _agent_line(a: ag.AgentView) -> str:
    kind = "senior" if a.senior else "standard"
    status = "active" if a.active else "inactive"
    return f"{a.agent_id}  {a.team}  {kind}  {status}  load {a.load}/{a.max_open}"


@agents_app.command("add")
def agents_add(
    agent: Annotated[str, typer.Argument(help="The agent id.")],
    team: Annotated[str, typer.Option(help="The team whose tasks the agent works.")],
    senior: Annotated[bool, typer.Option(help="Takes platinum and gold customers first.")] = False,
    max_open: Annotated[int, typer.Option(help="Most tasks assigned or in progress.")] = 20,
) -> None:
    """Add an active agent; the team's unassigned open tasks are given out at once (the
    alerts assignment policy), so tasks created before the agent existed do not wait."""

    async def add(engine: AsyncEngine) -> tuple[ag.AgentView, Backlog]:
        made = await ag.add_agent(engine, agent, team, senior=senior, max_open=max_open)
        return made, await assign_backlog(engine, actor=_actor(None), team=team)

    made, backlog = _run(add)
    typer.echo(_agent_line(made))
    mine = [t for t, a in backlog.assigned if a == agent]
    if backlog.assigned:
        typer.echo(f"assigned {len(backlog.assigned)} waiting task(s), {len(mine)} to {agent}")


@agents_app.command("update")
def agents_update(
    agent: Annotated[str, typer.Argument(help="The agent id.")],
    team: Annotated[str | None, typer.Option(help="Move to this team.")] = None,
    senior: Annotated[bool | None, typer.Option("--senior/--standard", show_default=False)] = None,
    max_open: Annotated[int | None, typer.Option(help="Most open tasks.")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", show_default=False)] = None,
) -> None:
    """Change an agent (what is not given stays)."""
    done = _run(
        lambda e: ag.update_agent(
            e, agent, team=team, senior=senior, max_open=max_open, active=active
        )
    )
    typer.echo(_agent_line(done))


@agents_app.command("deactivate")
def agents_deactivate(
    agent: Annotated[str, typer.Argument(help="The agent id.")], actor: Actor = None
) -> None:
    """Deactivate an agent; their assigned (not started) tasks go back to the queue."""
    done, released = _run(lambda e: ag.deactivate_agent(e, agent, actor=_actor(actor)))
    typer.echo(_agent_line(done))
    typer.echo(f"released {len(released)} task(s){': ' if released else ''}{', '.join(released)}")


@agents_app.command("list")
def agents_list(
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Inactive agents too.")] = False,
) -> None:
    """Agents with their load."""
    found = _run(lambda e: ag.list_agents(e, team=team, include_inactive=all_))
    for a in found:
        typer.echo(_agent_line(a))
    if not found:
        typer.echo("no agents")
