"""Agents who work the save-team tasks: add, update, deactivate, list (table ``agents``, 0022).

The alerts batch reads the active agents of a task's team when it assigns new tasks
(docs/alerts.md "Assignment"); these functions are how people maintain that list. Deactivating
an agent gives their ``assigned`` tasks back to the queue (``assigned → open``, one audit row
each) so nothing waits for someone who left; tasks already ``in_progress`` stay with them (a
conversation is under way; reassign by hand with ``churnwatch task assign``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import TaskState
from churnwatch_alerts.store.agents import fetch_agent, fetch_agents, insert_agent, update_agent_row
from churnwatch_alerts.store.tasks import assigned_tasks
from churnwatch_alerts.worktasks import AgentNotFound, TaskWorkError, apply_transition, wall_clock
from churnwatch_runtime.db import Pg, raw_connection

__all__ = [
    "AgentExists",
    "AgentView",
    "add_agent",
    "deactivate_agent",
    "list_agents",
    "update_agent",
]


class AgentExists(TaskWorkError):
    """An agent with this id is already there (use `update_agent`)."""


@dataclass(frozen=True, slots=True)
class AgentView:
    """An agent and its ``load``: tasks assigned to it or in progress."""

    agent_id: str
    team: str
    senior: bool
    max_open: int
    active: bool
    load: int = 0


def _check(agent_id: str | None, team: str | None, max_open: int | None) -> None:
    if agent_id is not None and not agent_id.strip():
        raise ValueError("an agent id cannot be empty")
    if team is not None and not team.strip():
        raise ValueError("a team cannot be empty")
    if max_open is not None and max_open < 0:
        raise ValueError("max_open must be at least 0")


async def _one(pg: Pg, agent_id: str) -> AgentView:
    return AgentView(**await fetch_agent(pg, agent_id))


async def add_agent(
    engine: AsyncEngine, agent_id: str, team: str, *, senior: bool = False, max_open: int = 20
) -> AgentView:
    """A new active agent of ``team`` (`AgentExists` if the id is taken)."""
    _check(agent_id, team, max_open)
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        seniority = "senior" if senior else "standard"
        if not await insert_agent(pg, agent_id, team, seniority, max_open):
            raise AgentExists(f"agent {agent_id!r} exists")
        return await _one(pg, agent_id)


async def update_agent(
    engine: AsyncEngine, agent_id: str, *, team: str | None = None, senior: bool | None = None,
    max_open: int | None = None, active: bool | None = None,
) -> AgentView:  # fmt: skip
    """Change what is given (None: unchanged). Lowering ``max_open`` below the agent's load
    takes nothing away: they get no new task until below it. Reactivate with ``active=True``;
    deactivate with `deactivate_agent` (which also releases their assigned tasks)."""
    _check(None, team, max_open)
    seniority = None if senior is None else ("senior" if senior else "standard")
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        found = await update_agent_row(
            pg, agent_id, team=team, seniority=seniority, max_open=max_open, active=active
        )
        if not found:
            raise AgentNotFound(f"no agent {agent_id!r}")
        return await _one(pg, agent_id)


async def deactivate_agent(
    engine: AsyncEngine, agent_id: str, *, actor: str, now: datetime | None = None
) -> tuple[AgentView, list[str]]:
    """Deactivate the agent and release their ``assigned`` tasks to the queue; the agent and
    the released task ids. Their tasks are locked before the agent row (the lock order of
    `churnwatch_alerts.worktasks`)."""
    at = wall_clock(now)
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        views = await assigned_tasks(pg, agent_id)
        found = await update_agent_row(
            pg, agent_id, team=None, seniority=None, max_open=None, active=False
        )
        if not found:
            raise AgentNotFound(f"no agent {agent_id!r}")
        released: list[str] = []
        for view in views:
            await apply_transition(
                pg, view, TaskState.OPEN, at=max(at, view.created_at), actor=actor
            )
            released.append(view.task_id)
        return await _one(pg, agent_id), released


async def list_agents(
    engine: AsyncEngine, *, team: str | None = None, include_inactive: bool = False
) -> list[AgentView]:
    """Agents by team and id, with their loads."""
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await fetch_agents(pg, team=team, include_inactive=include_inactive)
    return [AgentView(**r) for r in rows]
