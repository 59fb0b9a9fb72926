"""Honest uplift per playbook and tier (scope ``read``).

The uplift job (hourly, in the alerts service) compares churn of treated customers with the
holdout's over the horizon: the honest save rate (retention treated − retention control) with its
95% interval, customers and value saved. Before its first report on a playbook, ``so_far`` shows
the experiment log's counts from the first exposure on (`churnwatch_alerts.uplift_view`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from churnwatch.auth import Principal
from churnwatch_alerts.uplift_view import EarlyCount, early_counts, latest_reports
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.problems import problem_responses

router = APIRouter(tags=["uplift"], responses=problem_responses(401, 403, 422, 429))
Reader = Annotated[Principal, Depends(require("read"))]


class Interval(BaseModel):
    value: float | None = Field(examples=[0.062])
    low: float | None = Field(examples=[0.018], description="95% interval")
    high: float | None = Field(examples=[0.104])


class SegmentReport(BaseModel):
    segment: str = Field(examples=["platinum"], description="tier at exposure, or `all`")
    treated: int = Field(examples=[412])
    control: int = Field(examples=[46])
    churn_treated: float | None = Field(examples=[0.21])
    churn_control: float | None = Field(examples=[0.27])
    honest_save_rate: Interval = Field(description="retention treated − retention control")
    customers_saved: Interval
    value_saved: Interval
    raw_save_rate: float | None = Field(description="tasks won ÷ tasks closed (not an effect)")
    tasks_won: int
    tasks_closed: int
    sla_attainment: float | None
    tasks_in_sla: int
    tasks_due: int


class Report(BaseModel):
    computed_at: datetime
    watermark: datetime = Field(description="event time the exposures were judged at")
    horizon_days: float = Field(examples=[30.0])
    segments: list[SegmentReport]


class SoFar(BaseModel):
    """Counts from the experiment log while no report exists (no rates claimed yet)."""

    segment: str = Field(examples=["all"])
    treated: int
    control: int
    resolved_treated: int = Field(description="exposures whose horizon has been judged")
    resolved_control: int
    churned_treated: int
    churned_control: int
    first_exposed_at: datetime | None
    last_exposed_at: datetime | None


class PlaybookUplift(BaseModel):
    playbook_id: str = Field(examples=["save_call_vip"])
    report: Report | None = Field(description="the newest uplift job run (null: none yet)")
    so_far: list[SoFar] = Field(description="filled while `report` is null")


def _segment(r: dict[str, Any]) -> SegmentReport:
    def iv(name: str, value: str) -> Interval:
        return Interval(value=r[value], low=r[f"{name}_low"], high=r[f"{name}_high"])

    return SegmentReport(
        segment=r["segment"], treated=r["treated"], control=r["control"],
        churn_treated=r["churn_treated"], churn_control=r["churn_control"],
        honest_save_rate=iv("uplift", "uplift"), customers_saved=iv("customers_saved",
        "customers_saved"), value_saved=iv("value_saved", "value_saved"),
        raw_save_rate=r["raw_save_rate"], tasks_won=r["tasks_won"],
        tasks_closed=r["tasks_closed"], sla_attainment=r["sla_attainment"],
        tasks_in_sla=r["tasks_in_sla"], tasks_due=r["tasks_due"],
    )  # fmt: skip


def _so_far(c: EarlyCount) -> SoFar:
    return SoFar(**{k: getattr(c, k) for k in SoFar.model_fields})


async def uplift_of(engine: EngineDep, playbook: str | None) -> list[PlaybookUplift]:
    """Reports of the newest run, and counts for playbooks it has none for."""
    async with engine.connect() as conn:
        rows = await latest_reports(conn, playbook)
        early = await early_counts(conn, playbook)
    reports: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        reports.setdefault(r["playbook_id"], []).append(r)
    out: dict[str, PlaybookUplift] = {}
    for pb, segs in reports.items():
        first = segs[0]
        out[pb] = PlaybookUplift(playbook_id=pb, so_far=[], report=Report(
            computed_at=first["computed_at"], watermark=first["watermark"],
            horizon_days=first["horizon_days"], segments=[_segment(s) for s in segs]))  # fmt: skip
    for c in early:
        if c.playbook_id not in reports:
            out.setdefault(c.playbook_id, PlaybookUplift(
                playbook_id=c.playbook_id, report=None, so_far=[]))  # fmt: skip
            out[c.playbook_id].so_far.append(_so_far(c))
    return [out[k] for k in sorted(out)]


@router.get("/v1/uplift", summary="Uplift of every playbook with exposures")
async def all_uplift(engine: EngineDep, _: Reader) -> list[PlaybookUplift]:
    return await uplift_of(engine, None)


@router.get(
    "/v1/playbooks/{playbook_id}/uplift",
    summary="A playbook's uplift by tier (or its counts so far)",
)
async def playbook_uplift(
    playbook_id: Annotated[str, Path(min_length=1, max_length=100)], engine: EngineDep, _: Reader
) -> PlaybookUplift:
    """Never 404: a playbook with no exposure yet answers an empty ``so_far``."""
    found = await uplift_of(engine, playbook_id)
    return found[0] if found else PlaybookUplift(playbook_id=playbook_id, report=None, so_far=[])
