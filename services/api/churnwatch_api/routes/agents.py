"""Agents who work the tasks: list (``read``); add, change, deactivate (``admin``).

Thin over `churnwatch_alerts.agents` (behind ``churnwatch agents …``). Adding an agent, or
making one active again, also hands them the team's unassigned backlog
(`churnwatch_alerts.backlog.assign_backlog`, the alerts assignment policy): tasks created while
the team had nobody no longer wait for the next new task to be noticed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from churnwatch.auth import Principal
from churnwatch_alerts import agents as ag
from churnwatch_alerts import worktasks as wt
from churnwatch_alerts.backlog import assign_backlog
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.problems import Problem, problem_responses

router = APIRouter(tags=["agents"], responses=problem_responses(401, 403, 422, 429))
Reader = Annotated[Principal, Depends(require("read"))]
Admin = Annotated[Principal, Depends(require("admin"))]
AgentId = Annotated[str, Path(min_length=1, max_length=100, examples=["A-1"])]
# No blank and no control character: str.strip() (the agents layer's emptiness check) removes
# \x1c-\x1f too, which a bare \S lets through.
NAME = r"^[^\s\x00-\x1f\x7f]+$"


class AgentOut(BaseModel):
    agent_id: str = Field(examples=["A-1"])
    team: str = Field(examples=["save"])
    senior: bool
    max_open: int = Field(examples=[20], description="most tasks assigned or in progress")
    active: bool
    load: int = Field(examples=[3], description="tasks assigned to it or in progress now")

    @classmethod
    def of(cls, a: ag.AgentView) -> AgentOut:
        return cls(agent_id=a.agent_id, team=a.team, senior=a.senior, max_open=a.max_open,
                   active=a.active, load=a.load)  # fmt: skip


class AgentCreate(BaseModel):
    agent_id: str = Field(min_length=1, max_length=100, pattern=NAME, examples=["A-7"])
    team: str = Field(min_length=1, max_length=100, pattern=NAME, examples=["save"])
    senior: bool = False
    max_open: int = Field(20, ge=0, le=10_000)


class AgentPatch(BaseModel):
    team: str | None = Field(None, min_length=1, max_length=100, pattern=NAME)
    senior: bool | None = None
    max_open: int | None = Field(None, ge=0, le=10_000)
    active: bool | None = Field(None, description="true reactivates; false = deactivate")


class AgentChanged(AgentOut):
    assigned_tasks: list[str] = Field(
        default_factory=list, description="backlog tasks given to the agent by this change"
    )
    released_tasks: list[str] = Field(
        default_factory=list, description="assigned tasks given back to the queue (deactivate)"
    )


@router.get("/v1/agents", summary="Agents with their current load")
async def list_agents(
    engine: EngineDep,
    _: Reader,
    team: Annotated[str | None, Query(max_length=100)] = None,
    include_inactive: bool = False,
) -> list[AgentOut]:
    views = await ag.list_agents(engine, team=team, include_inactive=include_inactive)
    return [AgentOut.of(a) for a in views]


async def _backlog(engine: EngineDep, view: ag.AgentView, who: Principal) -> AgentChanged:
    """The agent after giving its team's unassigned backlog out (to it and its teammates)."""
    done = await assign_backlog(engine, actor=who.actor, team=view.team)
    mine = [t for t, a in done.assigned if a == view.agent_id]
    (fresh,) = [a for a in await ag.list_agents(engine, team=view.team, include_inactive=True)
                if a.agent_id == view.agent_id]  # fmt: skip
    return AgentChanged(**AgentOut.of(fresh).model_dump(), assigned_tasks=mine)


@router.post(
    "/v1/agents",
    summary="Add an agent (and give it the team's unassigned tasks)",
    status_code=201,
    responses=problem_responses(409),
)
async def add_agent(body: AgentCreate, engine: EngineDep, who: Admin) -> AgentChanged:
    try:
        view = await ag.add_agent(
            engine, body.agent_id, body.team, senior=body.senior, max_open=body.max_open
        )
    except ag.AgentExists as exc:
        raise Problem(409, detail=str(exc)) from None
    return await _backlog(engine, view, who)


@router.patch(
    "/v1/agents/{agent_id}",
    summary="Change team, seniority, max_open or active",
    responses=problem_responses(404),
)
async def patch_agent(
    agent_id: AgentId, body: AgentPatch, engine: EngineDep, who: Admin
) -> AgentChanged:
    """``active: false`` deactivates as ``POST …/deactivate`` does; ``active: true`` (or more
    room) hands the agent's team its unassigned backlog."""
    if body.active is False:
        return await deactivate(agent_id, engine, who)
    try:
        view = await ag.update_agent(
            engine, agent_id, team=body.team, senior=body.senior, max_open=body.max_open,
            active=body.active,
        )  # fmt: skip
    except wt.AgentNotFound as exc:
        raise Problem(404, detail=str(exc)) from None
    if view.active:
        return await _backlog(engine, view, who)
    return AgentChanged(**AgentOut.of(view).model_dump())


@router.post(
    "/v1/agents/{agent_id}/deactivate",
    summary="Deactivate; its assigned (not started) tasks go back to the queue",
    responses=problem_responses(404),
)
async def deactivate(agent_id: AgentId, engine: EngineDep, who: Admin) -> AgentChanged:
    try:
        view, released = await ag.deactivate_agent(engine, agent_id, actor=who.actor)
    except wt.AgentNotFound as exc:
        raise Problem(404, detail=str(exc)) from None
    return AgentChanged(**AgentOut.of(view).model_dump(), released_tasks=released)
