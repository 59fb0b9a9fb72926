"""The SQL of the ``agents`` table (migration 0022), with each agent's load."""

from __future__ import annotations

from typing import Any

from churnwatch_alerts.taskrules import AgentNotFound
from churnwatch_runtime.db import Pg

_SELECT = (
    "SELECT a.agent_id, a.team, a.seniority = 'senior' AS senior, a.max_open, a.active,"
    " (SELECT count(*) FROM tasks t WHERE t.assignee = a.agent_id"
    "  AND t.state IN ('assigned', 'in_progress'))::int AS load FROM agents a"
)


async def fetch_agent(pg: Pg, agent_id: str) -> dict[str, Any]:
    """The agent's fields (``agent_id, team, senior, max_open, active, load``)."""
    row = await pg.fetchrow(_SELECT + " WHERE a.agent_id = $1", agent_id)
    if row is None:
        raise AgentNotFound(f"no agent {agent_id!r}")
    return dict(row)


async def insert_agent(pg: Pg, agent_id: str, team: str, seniority: str, max_open: int) -> bool:
    """A new active agent; False if the id is taken (nothing changed)."""
    inserted = await pg.fetchval(
        "INSERT INTO agents (agent_id, team, seniority, max_open) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (agent_id) DO NOTHING RETURNING agent_id",
        agent_id, team, seniority, max_open,
    )  # fmt: skip
    return inserted is not None


async def update_agent_row(
    pg: Pg, agent_id: str, *, team: str | None, seniority: str | None, max_open: int | None,
    active: bool | None,
) -> bool:  # fmt: skip
    """Change what is not None; False if there is no such agent."""
    found = await pg.fetchval(
        "UPDATE agents SET team = coalesce($2, team), seniority = coalesce($3, seniority),"
        " max_open = coalesce($4, max_open), active = coalesce($5, active)"
        " WHERE agent_id = $1 RETURNING agent_id",
        agent_id, team, seniority, max_open, active,
    )  # fmt: skip
    return found is not None


async def fetch_agents(pg: Pg, *, team: str | None, include_inactive: bool) -> list[dict[str, Any]]:
    """Agents by team and id."""
    rows = await pg.fetch(
        _SELECT + " WHERE ($1::text IS NULL OR a.team = $1) AND (a.active OR $2)"
        " ORDER BY a.team, a.agent_id",
        team, include_inactive,
    )  # fmt: skip
    return [dict(r) for r in rows]
