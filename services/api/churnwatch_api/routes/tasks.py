"""Save-team tasks: the queue (``read``), working a task (``tasks:write``), the backlog (``admin``).

Thin over `churnwatch_alerts.worktasks` (the functions behind ``churnwatch task …``): every
step is one transaction that writes the task, its audit row and — when closed — the outcome on
the treatment. The audit row names the caller's `Principal.actor` (the agent id of a key bound
to an agent, else the key's name); a body never chooses the actor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from churnwatch.alerts import InvalidTransition
from churnwatch.auth import Principal
from churnwatch_alerts import worktasks as wt
from churnwatch_alerts.backlog import assign_backlog
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.paging import BadCursor, decode_cursor, encode_cursor, parse_time
from churnwatch_api.problems import Problem, problem_responses
from churnwatch_api.routes._shapes import TaskOut, bad_cursor
from churnwatch_api.store.tasks import fetch_page

router = APIRouter(tags=["tasks"], responses=problem_responses(401, 403, 422, 429))
Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("tasks:write"))]
Admin = Annotated[Principal, Depends(require("admin"))]
TaskId = Annotated[str, Path(min_length=1, max_length=200, examples=["a3f9c2e41b7d"])]
State = Literal["open", "assigned", "in_progress", "won", "lost", "no_contact", "expired",
                "recovered", "churned"]  # fmt: skip
WORK_ERRORS = problem_responses(404, 409)


class Contact(BaseModel):
    """Whom to call: the customer directory's details (personal data)."""

    name: str | None = Field(examples=["Jana Novák"])
    email: str | None = Field(examples=["jana.novak@example.com"])
    phone: str | None = Field(examples=["+49 30 1234567"])


class QueueTask(TaskOut):
    """A task in the queue; ``contact`` only for a key with ``pii:read``."""

    contact: Contact | None = Field(
        None,
        description="only with pii:read (absent without it; each read audited as pii.queue);"
        " null when the directory holds nothing for the customer (never given, or erased)",
    )


class TaskPage(BaseModel):
    items: list[QueueTask]
    next_cursor: str | None


def problem(exc: Exception) -> Problem:
    """A refused step as problem details: unknown → 404, not allowed now → 409."""
    if isinstance(exc, wt.TaskNotFound | wt.AgentNotFound):
        return Problem(404, detail=str(exc))
    return Problem(409, detail=str(exc))


@router.get(
    "/v1/tasks",
    summary="The queue: per team, per agent, by state, overdue or not",
    description="In queue order: priority descending (the playbook's priority fact, value at"
    " risk by default), then the SLA due time (the most overdue first), then the creation time"
    " (the oldest first), then the id. With pii:read every task carries its customer's"
    " `contact` (name, email, phone; audited); without it the field is absent.",
    response_model_exclude_unset=True,  # `contact` is left unset without pii:read
)
async def list_tasks(
    engine: EngineDep,
    who: Reader,
    team: Annotated[str | None, Query(max_length=100, examples=["save"])] = None,
    agent: Annotated[str | None, Query(max_length=100, examples=["A-1"])] = None,
    state: Annotated[list[State] | None, Query(description="default: unfinished")] = None,
    overdue: Annotated[
        bool | None, Query(description="waiting for first contact past the SLA due time")
    ] = None,
    customer: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TaskPage:
    after = None
    if cursor:
        try:
            prio, due, created, task_id = decode_cursor(cursor, "tasks", 4)
            after = (float(prio), parse_time(due), parse_time(created), str(task_id))
        except (BadCursor, TypeError, ValueError) as exc:
            raise bad_cursor(BadCursor(str(exc))) from None
    now = datetime.now(UTC)
    f = wt.QueueFilter(team, agent, tuple(state or ()), overdue, customer)
    page = await fetch_page(engine, f, who=who, now=now, after=after, limit=limit)
    token = None
    if page.more and page.tasks:
        token = encode_cursor("tasks", *wt.cursor_of(page.tasks[-1]))
    items = []
    for view in page.tasks:
        item = QueueTask.of(view, now)
        if page.contacts is not None:
            found = page.contacts.get(view.customer_id)
            item.contact = (
                None
                if found is None
                else Contact(name=found.name, email=found.email, phone=found.phone)
            )  # assigned: marked set, so it is sent (null too)
        items.append(item)
    return TaskPage(items=items, next_cursor=token)


@router.get("/v1/tasks/{task_id}", summary="A task with its audit steps", responses=WORK_ERRORS)
async def get_task(task_id: TaskId, engine: EngineDep, _: Reader) -> TaskOut:
    try:
        return TaskOut.of(await wt.get_task(engine, task_id))
    except wt.TaskWorkError as exc:
        raise problem(exc) from None


class AssignBody(BaseModel):
    agent_id: str = Field(min_length=1, max_length=100, examples=["A-1"])


class CloseBody(BaseModel):
    outcome: Literal["won", "lost", "no_contact"] = Field(examples=["won"])
    note: str | None = Field(None, max_length=2000, examples=["agreed a 3-month discount"])


async def _step(
    engine: EngineDep, task_id: str, call: str, who: Principal, **kw: str | None
) -> TaskOut:
    try:
        if call == "assign":
            view = await wt.assign(engine, task_id, str(kw["agent_id"]), actor=who.actor)
        elif call == "release":
            view = await wt.release(engine, task_id, actor=who.actor)
        elif call == "start":
            view = await wt.start(engine, task_id, actor=who.actor)
        else:
            view = await wt.close(engine, task_id, str(kw["outcome"]), actor=who.actor,
                                  note=kw.get("note"))  # fmt: skip
    except (wt.TaskWorkError, InvalidTransition) as exc:
        raise problem(exc) from None
    return TaskOut.of(view)


@router.post("/v1/tasks/{task_id}/assign", summary="Give the task to an agent",
             responses=WORK_ERRORS)  # fmt: skip
async def assign(task_id: TaskId, body: AssignBody, engine: EngineDep, who: Writer) -> TaskOut:
    """The agent must be active, in the task's team and below its ``max_open``."""
    return await _step(engine, task_id, "assign", who, agent_id=body.agent_id)


@router.post("/v1/tasks/{task_id}/claim", summary="Take the task yourself",
             responses=WORK_ERRORS)  # fmt: skip
async def claim(task_id: TaskId, engine: EngineDep, who: Writer) -> TaskOut:
    """Assign to the agent the caller's key is bound to (403 for a key without an agent)."""
    if who.agent_id is None:
        raise Problem(403, detail="claiming needs a key bound to an agent"
                      " (churnwatch keys create --agent-id …); use assign instead")  # fmt: skip
    return await _step(engine, task_id, "assign", who, agent_id=who.agent_id)


@router.post("/v1/tasks/{task_id}/release", summary="Give the task back to the queue",
             responses=WORK_ERRORS)  # fmt: skip
async def release(task_id: TaskId, engine: EngineDep, who: Writer) -> TaskOut:
    return await _step(engine, task_id, "release", who)


@router.post("/v1/tasks/{task_id}/start", summary="First contact with the customer",
             responses=WORK_ERRORS)  # fmt: skip
async def start(task_id: TaskId, engine: EngineDep, who: Writer) -> TaskOut:
    """Records the first contact, which SLA attainment compares with the due time."""
    return await _step(engine, task_id, "start", who)


@router.post("/v1/tasks/{task_id}/close", summary="Close with an outcome and a note",
             responses=WORK_ERRORS)  # fmt: skip
async def close(task_id: TaskId, body: CloseBody, engine: EngineDep, who: Writer) -> TaskOut:
    """``won``/``lost`` from in progress, ``no_contact`` from assigned or in progress; the
    outcome flows back to the learner through the treatment row."""
    return await _step(engine, task_id, "close", who, outcome=body.outcome, note=body.note)


class Assignment(BaseModel):
    task_id: str = Field(examples=["a3f9c2e41b7d"])
    agent_id: str = Field(examples=["A-1"])


class BacklogOut(BaseModel):
    assigned: list[Assignment]
    left_open: int = Field(description="tasks no active agent of their team had room for")


@router.post(
    "/v1/tasks/assign-unassigned",
    summary="Assign open tasks nobody has (the alerts assignment policy)",
)
async def assign_unassigned(
    engine: EngineDep,
    who: Admin,
    team: Annotated[str | None, Query(max_length=100)] = None,
) -> BacklogOut:
    done = await assign_backlog(engine, actor=who.actor, team=team)
    return BacklogOut(
        assigned=[Assignment(task_id=t, agent_id=a) for t, a in done.assigned],
        left_open=done.left,
    )
