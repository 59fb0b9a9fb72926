"""Data quality per source (scope ``read``): accepted, rejected by reason, duplicates, late
events, DLQ records — counted where they happen (ingest's HTTP and raw paths, scoring) into
``quality_daily`` by the day they were received (UTC wall clock)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from churnwatch.auth import Principal
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.problems import Problem, problem_responses
from churnwatch_api.store import quality as store

router = APIRouter(tags=["data quality"], responses=problem_responses(401, 403, 422, 429))
Reader = Annotated[Principal, Depends(require("read"))]
OUTCOMES = ("accepted", "duplicate", "rejected", "dlq", "late")


class Day(BaseModel):
    day: date
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    dlq: int = 0
    late: int = 0


class SourceQuality(BaseModel):
    source: str = Field(examples=["shop-web"], description="the events' source field")
    accepted: int = 0
    duplicate: int = Field(0, description="same event_id seen before")
    rejected: int = 0
    dlq: int = Field(0, description="records of cw.events.raw sent to cw.events.dlq")
    late: int = Field(0, description="event time behind scoring's watermark (allowed lateness)")
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    dlq_by_reason: dict[str, int] = Field(default_factory=dict)
    days: list[Day]


class QualityReport(BaseModel):
    from_: date = Field(alias="from")
    to: date
    sources: list[SourceQuality]


@router.get("/v1/quality", summary="Data quality per source and day")
async def quality(
    engine: EngineDep,
    _: Reader,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> QualityReport:
    last = to or date.today()
    first = from_ or last - timedelta(days=29)
    if first > last or (last - first).days > 366:
        raise Problem(
            422, "Invalid request", "query.from: after `to` or more than 366 days before it",
            errors=[{"field": "query.from", "message": "after `to` or > 366 days before it"}],
        )  # fmt: skip
    by_source: dict[str, SourceQuality] = {}
    days: dict[tuple[str, date], Day] = {}
    for day, source, outcome, reason, n in await store.counts(engine, first, last):
        s = by_source.setdefault(source, SourceQuality(source=source, days=[]))
        d = days.get((source, day))
        if d is None:
            d = days[(source, day)] = Day(day=day)
            s.days.append(d)
        if outcome in OUTCOMES:
            setattr(s, outcome, getattr(s, outcome) + n)
            setattr(d, outcome, getattr(d, outcome) + n)
        if outcome == "rejected":
            s.rejected_by_reason[reason] = s.rejected_by_reason.get(reason, 0) + n
        elif outcome == "dlq":
            s.dlq_by_reason[reason] = s.dlq_by_reason.get(reason, 0) + n
    return QualityReport.model_validate(
        {"from": first, "to": last, "sources": sorted(by_source.values(), key=lambda s: s.source)}
    )
