"""Model quality (scope ``read``): champion and challenger, prequential AUC / log loss / Brier
and the calibration curve over time, drift alarms, promotions, the prior → learned switch.

Read from what the learner records (docs/model.md, "Quality, live"): the newest checkpoint's
quality report, one ``quality`` record per checkpoint, and its decision records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from churnwatch.auth import Principal
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.problems import problem_responses
from churnwatch_api.store import model as store

router = APIRouter(tags=["model"], responses=problem_responses(401, 403, 422, 429))
Reader = Annotated[Principal, Depends(require("read"))]
DECISIONS = ("switched_to_learned", "fell_back_to_prior", "promoted", "drift", "vocabulary_changed")


class Metrics(BaseModel):
    """Prequential metrics over the last labels (each scored before it was learned)."""

    name: str | None = Field(examples=["sgd"])
    count: int = 0
    positives: int = 0
    auc: float | None = None
    log_loss: float | None = None
    brier: float | None = None
    calibration: list[dict[str, Any]] = Field(
        default_factory=list, description="10 equal-count bins: range, count, mean predicted,"
        " observed rate",
    )  # fmt: skip


class QualityPoint(BaseModel):
    at: datetime
    model_version: str | None
    labels: int | None
    champion: Metrics
    challenger: Metrics | None
    prior: Metrics


class Decision(BaseModel):
    kind: str = Field(
        examples=["promoted"],
        description="switched_to_learned | fell_back_to_prior | promoted | drift |"
        " vocabulary_changed (the activity names the model reads); the detail holds the paired"
        " test's 95% interval of the AUC difference (auc_low, auc_high)",
    )
    at: datetime
    detail: dict[str, Any]


class ModelReport(BaseModel):
    serving: str | None = Field(examples=["sgd.g2.n41234"], description="null: the rule prior")
    checkpoint: int | None
    checkpoint_at: datetime | None
    labels_seen: int
    current: QualityPoint | None
    history: list[QualityPoint]
    decisions: list[Decision]
    switched_to_learned_at: datetime | None = Field(
        description="the latest prior → learned switch; null while the prior serves (cold"
        " start, or after a fall-back to it)"
    )


def _metrics(doc: dict[str, Any], key: str, name: str | None) -> Metrics:
    m = doc.get(key) or {}
    return Metrics(
        name=name, count=m.get("count", 0), positives=m.get("positives", 0), auc=m.get("auc"),
        log_loss=m.get("log_loss"), brier=m.get("brier"), calibration=m.get("calibration", []),
    )  # fmt: skip


def _point(at: datetime, doc: dict[str, Any]) -> QualityPoint:
    challenger = None
    if doc.get("challenger") is not None:
        challenger = _metrics(doc, "challenger", doc.get("challenger_name"))
    return QualityPoint(
        at=at, model_version=doc.get("version"), labels=doc.get("labels"),
        champion=_metrics(doc, "champion", doc.get("champion_name")), challenger=challenger,
        prior=_metrics(doc, "prior", "prior"),
    )  # fmt: skip


@router.get("/v1/model", summary="Model quality over time and the learner's decisions")
async def model(
    engine: EngineDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=1000, description="history points")] = 200,
) -> ModelReport:
    latest = await store.latest(engine)
    history = [_point(r.at, r.detail) for r in await store.records(engine, ("quality",), limit)]
    decisions = await store.records(engine, DECISIONS, 500)
    changes = [d for d in decisions if d.kind in ("switched_to_learned", "fell_back_to_prior")]
    switched = changes[-1].at if changes and changes[-1].kind == "switched_to_learned" else None
    current = None if latest is None else _point(latest.created_at, latest.quality)
    serving = None
    if latest is not None and latest.quality.get("serving") not in (None, "prior"):
        serving = latest.model_version
    return ModelReport(
        serving=serving, checkpoint=latest.version if latest else None,
        checkpoint_at=latest.created_at if latest else None,
        labels_seen=latest.labels_seen if latest else 0, current=current, history=history,
        decisions=[Decision(kind=d.kind, at=d.at, detail=d.detail) for d in decisions],
        switched_to_learned_at=switched,
    )  # fmt: skip
