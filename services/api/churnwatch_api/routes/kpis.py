"""KPIs over time (scope ``read``): daily series in event time, cut by tier, segment, source or
playbook, each with its definition and unit; the tiers, the RFM grid and the lifecycle funnel.

Read from the incremental aggregates (docs/kpis-as-built.md); definitions: shared kpis.md.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.auth import Principal
from churnwatch.kpis import BY_NAME, CONVERSION_DAYS, KPIS, KpiDef, days_between, levels, series
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.problems import Problem, problem_responses
from churnwatch_api.store import kpis as store

router = APIRouter(tags=["kpis"], responses=problem_responses(401, 403, 422, 429))
Reader = Annotated[Principal, Depends(require("read"))]
Cut = Literal["all", "tier", "segment", "source", "playbook"]
MAX_DAYS = 366
DEFAULT_DAYS = 30
LEVEL_METRICS = ("customers", "value", "buyers", "repeaters", "subscribers", "active_retail",
                 "mrr")  # fmt: skip
_LEVELS = frozenset((*LEVEL_METRICS, "value_at_risk"))
"""The snapshot metrics whose end-of-day levels `churnwatch.kpis.series` reads."""


class Point(BaseModel):
    day: date
    value: float | None = Field(description="null: undefined that day (denominator 0)")
    low: float | None = Field(None, description="95% interval (honest save rate)")
    high: float | None = None
    numerator: int | None = Field(None, description="task KPIs: the counts behind the rate")
    denominator: int | None = None


class Series(BaseModel):
    cut_value: str = Field(examples=["gold"])
    points: list[Point]


class Kpi(BaseModel):
    name: str = Field(examples=["repeat_customer_base"])
    title: str
    definition: str
    unit: str = Field(examples=["share"])
    series: list[Series]


class NotAvailable(BaseModel):
    name: str
    reason: str


class KpiReport(BaseModel):
    cut: Cut
    from_: date = Field(alias="from")
    to: date
    settings: dict[str, float] = Field(examples=[{"conversion_days": 90, "lapse_days": 90}])
    kpis: list[Kpi]
    not_available: list[NotAvailable]


def _window(first: date | None, last: date | None, newest: date | None) -> tuple[date, date]:
    to = last or newest or date.today()
    since = first or to - timedelta(days=DEFAULT_DAYS - 1)
    if since > to:
        raise _bad_from("must not be after `to`")
    if (to - since).days >= MAX_DAYS:
        raise _bad_from(f"the window is at most {MAX_DAYS} days")
    return since, to


def _bad_from(message: str) -> Problem:
    return Problem(
        422, "Invalid request", f"query.from: {message}",
        errors=[{"field": "query.from", "message": message}],
    )  # fmt: skip


def _kpi(k: KpiDef, series_: list[Series]) -> Kpi:
    return Kpi(name=k.name, title=k.title, definition=k.definition, unit=k.unit, series=series_)


FromQ = Annotated[date | None, Query(alias="from", description="first day (UTC, event time)")]
ToQ = Annotated[date | None, Query(description="last day; default: the newest day with data")]


@router.get(
    "/v1/kpis", summary="Daily KPI series with their definitions", response_model_by_alias=True
)
async def kpis(
    engine: EngineDep, _: Reader, from_: FromQ = None, to: ToQ = None, cut: Cut = "all"
) -> KpiReport:
    """Every KPI available for ``cut``, one point per day; the others are listed with why not."""
    first, last = _window(from_, to, None if to else await store.last_day(engine))
    days = days_between(first, last)
    out: list[Kpi] = []
    # the task counts on a second pooled connection meanwhile (latency: the longer of the two)
    counts = None
    if cut in ("all", "tier", "playbook"):
        counts = asyncio.create_task(store.task_counts(engine, cut, first, last))
    try:
        if cut != "playbook":
            agg = await store.aggregates(engine, cut, first - timedelta(days=1))
            # levels of the snapshot metrics the KPIs read only (a tenth of the keys: -20 ms)
            lv = levels(
                {k: v for k, v in agg.totals.items() if k[1] in _LEVELS},
                {k: v for k, v in agg.daily.items() if k[2] in _LEVELS},
                [first - timedelta(days=1), *days],
            )
            for k, per_value in series(cut, agg.cut_values, days, agg.daily, lv):
                out.append(_kpi(k, [_points(cv, days, vs) for cv, vs in per_value.items()]))
    except BaseException:
        if counts is not None:
            counts.cancel()
        raise
    if counts is not None:
        saves, sla = await counts
        for name, tally in (("save_rate_raw", saves), ("sla_attainment", sla)):
            out.append(_kpi(BY_NAME[name], _task_series(tally, days)))
    if cut == "playbook":
        out.append(_kpi(BY_NAME["honest_save_rate"], await _honest(engine, first, last)))
    have = {k.name for k in out}
    missing = [
        NotAvailable(name=k.name, reason=f"not kept by {cut}; cuts: {', '.join(sorted(k.cuts))}")
        for k in KPIS
        if k.name not in have
    ]
    return KpiReport.model_validate({
        "cut": cut, "from": first, "to": last, "kpis": out, "not_available": missing,
        "settings": {"conversion_days": CONVERSION_DAYS, "lapse_days": 90},
    })  # fmt: skip


def _points(cut_value: str, days: list[date], values: list[float | None]) -> Series:
    # ~1,400 points a 90-day report, built from typed values: not validated again (-2 ms)
    points = [Point.model_construct(day=d, value=v) for d, v in zip(days, values, strict=True)]
    return Series(cut_value=cut_value, points=points)


def _task_series(counts: store.TaskCounts, days: list[date]) -> list[Series]:
    values = sorted({cv for _, cv in counts})
    return [
        Series(cut_value=cv, points=[
            Point(day=d, value=(n / m if m else None), numerator=n, denominator=m)
            for d in days for n, m in [counts.get((d, cv), (0, 0))]
        ])
        for cv in values
    ]  # fmt: skip


async def _honest(engine: AsyncEngine, first: date, last: date) -> list[Series]:
    by_pb: dict[str, list[Point]] = {}
    for p in await store.uplift_points(engine, first, last):
        by_pb.setdefault(p.playbook_id, []).append(
            Point(day=p.day, value=p.uplift, low=p.low, high=p.high, numerator=p.treated,
                  denominator=p.control)
        )  # fmt: skip
    return [Series(cut_value=pb, points=pts) for pb, pts in sorted(by_pb.items())]


# -- snapshots: tiers, RFM grid, lifecycle funnel ------------------------------------------------


class TierRow(BaseModel):
    tier: str = Field(examples=["gold"])
    customers: int
    share: float | None = Field(description="of all scored customers")
    value: float = Field(description="Σ value if retained")
    value_at_risk: float


class Tiers(BaseModel):
    tiers: list[TierRow]
    definition: str


TIERS = ("platinum", "gold", "silver", "bronze")


@router.get("/v1/kpis/tiers", summary="Customers, value and value at risk by value tier, now")
async def tiers(engine: EngineDep, _: Reader) -> Tiers:
    agg = await store.totals(engine, "tier")
    total = sum(agg.get((t, "customers"), 0.0) for t in TIERS)
    rows = [
        TierRow(
            tier=t, customers=round(agg.get((t, "customers"), 0.0)),
            share=agg.get((t, "customers"), 0.0) / total if total else None,
            value=agg.get((t, "value"), 0.0), value_at_risk=agg.get((t, "value_at_risk"), 0.0),
        )
        for t in TIERS
    ]  # fmt: skip
    return Tiers(
        tiers=rows,
        definition="platinum / gold / silver / bronze = top 5% / next 15% / next 30% / rest by"
        " value if retained among live customers; counts kept incrementally by scoring.",
    )


class RfmCell(BaseModel):
    recency: int = Field(ge=1, le=5, description="5: most recent")
    frequency: int = Field(ge=1, le=5, description="5: most frequent")
    customers: int


class RfmSegmentRow(BaseModel):
    segment: str = Field(examples=["cannot_lose_them"])
    customers: int
    value: float
    value_at_risk: float


class Rfm(BaseModel):
    grid: list[RfmCell] = Field(description="recency × frequency quintile scores, 25 cells")
    segments: list[RfmSegmentRow]
    definition: str


@router.get("/v1/kpis/rfm", summary="The RFM grid and its named segments, now")
async def rfm(engine: EngineDep, _: Reader) -> Rfm:
    cells = await store.totals(engine, "all", "rf:")
    grid = [
        RfmCell(recency=r, frequency=f, customers=round(cells.get(("all", f"rf:{r}:{f}"), 0.0)))
        for r in range(5, 0, -1)
        for f in range(1, 6)
    ]
    seg = await store.totals(engine, "segment")
    names = sorted({cv for cv, _ in seg})
    segments = [
        RfmSegmentRow(
            segment=n, customers=round(seg.get((n, "customers"), 0.0)),
            value=seg.get((n, "value"), 0.0), value_at_risk=seg.get((n, "value_at_risk"), 0.0),
        )
        for n in names
    ]  # fmt: skip
    return Rfm(
        grid=grid,
        segments=segments,
        definition="Recency, frequency and monetary scores 1-5 by quintile against the live"
        " population, named by the usual RFM grid; 'none': no purchase yet.",
    )


class StageRow(BaseModel):
    stage: str = Field(examples=["at_risk"])
    customers_now: int
    entered: int = Field(description="transitions into the stage in the window")


class ExitReason(BaseModel):
    reason: str = Field(examples=["price"])
    cancellations: int


class Funnel(BaseModel):
    from_: date = Field(alias="from")
    to: date
    stages: list[StageRow]
    exit_reasons: list[ExitReason]
    definition: str


STAGES = ("new", "active", "repeat", "at_risk", "lapsed", "churned", "reactivated")


@router.get(
    "/v1/kpis/funnel", summary="Lifecycle funnel and exit reasons", response_model_by_alias=True
)
async def funnel(engine: EngineDep, _: Reader, from_: FromQ = None, to: ToQ = None) -> Funnel:
    first, last = _window(from_, to, None if to else await store.last_day(engine))
    now = await store.totals(engine, "all", "stage:")
    flows = await store.flows(engine, "all", first, last, ("entered:", "exit:"))
    stages = [
        StageRow(stage=s, customers_now=round(now.get(("all", f"stage:{s}"), 0.0)),
                 entered=round(flows.get(f"entered:{s}", 0.0)))
        for s in STAGES
    ]  # fmt: skip
    exits = sorted(
        (ExitReason(reason=m.removeprefix("exit:"), cancellations=round(v))
         for m, v in flows.items() if m.startswith("exit:")),
        key=lambda e: -e.cancellations,
    )  # fmt: skip
    return Funnel.model_validate({
        "from": first, "to": last, "stages": stages, "exit_reasons": exits,
        "definition": "new → active → repeat → at risk → lapsed (retail) or churned"
        " (subscription) → reactivated; customers in each stage now, and transitions into it"
        " in the window (event time). Exit reasons: the cancellations' exit_reason.",
    })  # fmt: skip
