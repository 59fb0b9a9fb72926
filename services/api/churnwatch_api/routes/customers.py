"""Customers (scope ``read``): search, the single view, the timeline.

Contact details and search by name/email need ``pii:read``; they come from the customer
directory (`churnwatch_api.store.directory`), whose reads write an ``api_audit`` row per customer
returned in the same transaction. Without ``pii:read`` the directory is not touched at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from churnwatch.auth import Principal
from churnwatch.profile import contact_permissions
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.paging import BadCursor, decode_cursor, encode_cursor, parse_time
from churnwatch_api.problems import Problem, problem_responses
from churnwatch_api.routes._shapes import Reason, TaskOut, bad_cursor, reasons_of
from churnwatch_api.store import customers as store
from churnwatch_api.store import directory

router = APIRouter(tags=["customers"], responses=problem_responses(401, 403, 422, 429))
Reader = Annotated[Principal, Depends(require("read"))]
CustomerId = Annotated[str, Path(min_length=1, max_length=200, examples=["C-1042"])]


class CustomerSummary(BaseModel):
    customer_id: str = Field(examples=["C-1042"])
    band: str = Field(examples=["critical"])
    churn_probability: float = Field(examples=[0.74])
    tier: str = Field(examples=["platinum"])
    lifecycle_stage: str = Field(examples=["at_risk"])
    value_at_risk: float = Field(examples=[1635.4])


class SearchResult(BaseModel):
    items: list[CustomerSummary]
    searched: list[str] = Field(
        description="what was searched: `id` prefix, and `name_email` with pii:read (and a"
        " query of at least 3 characters)",
        examples=[["id"]],
    )


@router.get("/v1/customers", summary="Find customers by id prefix (name/email with pii:read)")
async def search(
    engine: EngineDep,
    who: Reader,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["C-104"])],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchResult:
    rows = await store.search_by_id(engine, q, limit)
    searched = ["id"]
    if who.allows("pii:read") and len(q.strip()) >= directory.MIN_QUERY:
        async with engine.begin() as conn:  # the audit rows commit with the read
            found = await directory.search_contacts(conn, q, limit, who=who)
        seen = {r["customer_id"] for r in rows}
        rows += await store.summaries(engine, [c.customer_id for c in found
                                               if c.customer_id not in seen])  # fmt: skip
        searched.append("name_email")
    return SearchResult(items=[CustomerSummary(**r) for r in rows[:limit]], searched=searched)


class Value(BaseModel):
    """What the customer is worth (docs/scoring.md "Value basis")."""

    clv: float = Field(examples=[1480.0], description="expected value, the churn risk priced in")
    clv_low: float | None = Field(examples=[1120.0], description="lower end of CLV's interval")
    clv_high: float | None = Field(examples=[1910.0])
    value_if_retained: float | None = Field(examples=[2210.0])
    value_at_risk: float = Field(examples=[1635.4])


class Score(BaseModel):
    band: str = Field(examples=["critical"])
    churn_probability: float = Field(examples=[0.74])
    reasons: list[Reason]
    model_version: str = Field(examples=["learned-v12"])
    business_model: str = Field(examples=["subscription"])
    event_time: datetime = Field(description="event time of the score")
    cause: str = Field(examples=["event"], description="an event, or the silence sweep")


class Action(BaseModel):
    """An action a playbook took (arm treated) or withheld (arm control: holdout)."""

    action_id: str
    playbook_id: str = Field(examples=["save_call_vip"])
    playbook_version: int
    arm: str = Field(examples=["treated"])
    action_type: str | None = Field(examples=["save_call"])
    exposed_at: datetime
    tier_at_exposure: str = Field(examples=["platinum"])
    outcome: str | None = Field(examples=["won"], description="of the task or offer, if any")
    outcome_at: datetime | None
    churned: bool | None = Field(description="judged after the uplift horizon (null: not yet)")


class Holdout(BaseModel):
    playbook_id: str
    since: datetime


class Customer(BaseModel):
    """The single view: why at risk, what it is worth, what was done."""

    customer_id: str = Field(examples=["C-1042"])
    score: Score | None
    value: Value | None
    tier: str | None = Field(examples=["platinum"])
    lifecycle_stage: str | None = Field(examples=["at_risk"])
    rfm_segment: str | None = Field(examples=["cannot_lose_them"])
    consent: dict[str, bool | None] = Field(
        examples=[{"email": True, "sms": None, "phone": True, "push": False}],
        description="per channel; null: never stated",
    )
    open_tasks: list[TaskOut]
    tasks: list[TaskOut] = Field(description="every task, newest first (up to 100)")
    actions: list[Action] = Field(description="newest first (up to 50)")
    holdout: list[Holdout] = Field(description="playbooks that hold this customer out")
    contact: dict[str, str | None] | None = Field(
        None, description="name, email, phone: only with pii:read (and audited)"
    )


def _customer(data: store.CustomerData, contact: dict[str, str | None] | None) -> Customer:
    s = data.score
    score = value = None
    if s is not None:
        score = Score(band=s["band"], churn_probability=s["churn_probability"],
                      reasons=reasons_of(s["reasons"]), model_version=s["model_version"],
                      business_model=s["business_model"], event_time=s["event_time"],
                      cause=s["cause"])  # fmt: skip
        value = Value(**{k: s[k] for k in Value.model_fields})
    tasks = [TaskOut.of(t) for t in data.tasks]
    holdout: dict[str, datetime] = {}
    for a in data.actions:
        if a.arm == "control":
            holdout[a.playbook_id] = min(a.exposed_at, holdout.get(a.playbook_id, a.exposed_at))
    empty: dict[str, bool | None] = dict.fromkeys(("email", "sms", "phone", "push"))
    return Customer(
        customer_id=data.customer_id, score=score, value=value,
        tier=s and s["tier"], lifecycle_stage=s and s["lifecycle_stage"],
        rfm_segment=s and s["rfm_segment"],
        consent=contact_permissions(data.profile) if data.profile else empty,
        open_tasks=[t for t in tasks if t.state in ("open", "assigned", "in_progress")],
        tasks=tasks,
        actions=[Action(action_id=a.action_id, playbook_id=a.playbook_id,
                        playbook_version=a.playbook_version, arm=a.arm,
                        action_type=a.action_type, exposed_at=a.exposed_at,
                        tier_at_exposure=a.segment, outcome=a.outcome, outcome_at=a.outcome_at,
                        churned=a.churned) for a in data.actions],
        holdout=[Holdout(playbook_id=p, since=t) for p, t in sorted(holdout.items())],
        contact=contact,
    )  # fmt: skip


@router.get(
    "/v1/customers/{customer_id}",
    summary="The customer single view",
    responses=problem_responses(404),
)
async def get_customer(customer_id: CustomerId, engine: EngineDep, who: Reader) -> Customer:
    data = await store.load_customer(engine, customer_id)
    if not data.known:
        raise Problem(404, detail=f"no customer {customer_id!r} has been scored")
    contact = None
    if who.allows("pii:read"):
        async with engine.begin() as conn:  # audited in the same transaction
            found = await directory.get_contact(conn, customer_id, who=who)
        if found is not None:
            contact = {"name": found.name, "email": found.email, "phone": found.phone}
    return _customer(data, contact)


class TimelineItem(BaseModel):
    at: datetime = Field(description="event time for scores, stages and actions; wall clock"
                         " for task steps")  # fmt: skip
    kind: str = Field(examples=["band_change"],
                      description="score | band_change | stage | action | task")  # fmt: skip
    detail: dict[str, Any] = Field(
        examples=[{"band": "critical", "previous_band": "high", "churn_probability": 0.74}]
    )


class TimelinePage(BaseModel):
    items: list[TimelineItem]
    next_cursor: str | None


@router.get(
    "/v1/customers/{customer_id}/timeline",
    summary="What changed for the customer, newest first (paged)",
    description="Score changes, band and lifecycle-stage transitions, actions (treated and"
    " holdout) and task steps, as stored in PostgreSQL. The customer's raw events are kept"
    " only on Kafka (`cw.events`), not here; each score change names its causing event id.",
)
async def get_timeline(
    customer_id: CustomerId,
    engine: EngineDep,
    _: Reader,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TimelinePage:
    after = None
    if cursor:
        try:
            at, kind, key = decode_cursor(cursor, "timeline:" + customer_id, 3)
            after = (parse_time(at), str(kind), str(key))
        except BadCursor as exc:
            raise bad_cursor(exc) from None
    entries, more = await store.timeline(engine, customer_id, after=after, limit=limit)
    token = None
    if more and entries:
        last = entries[-1]
        token = encode_cursor("timeline:" + customer_id, last.at, last.kind, last.key)
    return TimelinePage(
        items=[TimelineItem(at=e.at, kind=e.kind, detail=e.detail) for e in entries],
        next_cursor=token,
    )
