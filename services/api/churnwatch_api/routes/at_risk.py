"""The at-risk list (scope ``read``): filter, sort, page with a cursor, export as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from churnwatch.alerts import BANDS, RFM_SEGMENTS, STAGES, TIERS
from churnwatch.auth import Principal
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.paging import BadCursor, decode_cursor, encode_cursor, parse_time
from churnwatch_api.problems import problem_responses
from churnwatch_api.routes._shapes import Reason, bad_cursor, reasons_of
from churnwatch_api.store import at_risk as store

router = APIRouter(tags=["at-risk"], responses=problem_responses(401, 403, 422, 429))
Reader = Annotated[Principal, Depends(require("read"))]

Band = Literal["low", "medium", "high", "critical"]
Tier = Literal["bronze", "silver", "gold", "platinum"]
Segment = Literal[
    "champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
    "about_to_sleep", "at_risk", "cannot_lose_them", "hibernating", "lost",
]  # fmt: skip
Stage = Literal["none", "new", "active", "repeat", "at_risk", "lapsed", "churned", "reactivated"]
# the domain's values, spelled out for the OpenAPI document
assert (get_args(Band), get_args(Tier)) == (BANDS, TIERS)
assert (get_args(Segment), get_args(Stage)) == (RFM_SEGMENTS, STAGES)
SortKey = Literal["value_at_risk", "churn_probability", "clv", "event_time"]


class AtRiskItem(BaseModel):
    """One customer: what scoring last said about them."""

    customer_id: str = Field(examples=["C-1042"])
    band: str = Field(examples=["critical"])
    churn_probability: float = Field(examples=[0.74])
    tier: str = Field(examples=["platinum"])
    lifecycle_stage: str = Field(examples=["at_risk"])
    rfm_segment: str | None = Field(examples=["cannot_lose_them"])
    clv: float = Field(examples=[1480.0], description="expected value, risk priced in")
    clv_low: float | None = Field(examples=[1120.0])
    clv_high: float | None = Field(examples=[1910.0])
    value_if_retained: float | None = Field(examples=[2210.0])
    value_at_risk: float = Field(examples=[1635.4])
    reasons: list[Reason]
    event_time: datetime = Field(description="event time of the last score change")
    has_open_task: bool


class AtRiskPage(BaseModel):
    items: list[AtRiskItem]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: last")


class Filters:
    """The list's filters as query parameters (shared by the page and the CSV export)."""

    def __init__(
        self,
        band: Annotated[list[Band] | None, Query(description="default: high and critical")] = None,
        tier: Annotated[list[Tier] | None, Query()] = None,
        segment: Annotated[list[Segment] | None, Query(description="RFM segment")] = None,
        stage: Annotated[list[Stage] | None, Query(description="lifecycle stage")] = None,
        playbook: Annotated[
            str | None, Query(max_length=100, description="customers this playbook matched")
        ] = None,
        has_open_task: bool | None = None,
        sort: SortKey = "value_at_risk",
        order: Literal["desc", "asc"] = "desc",
    ) -> None:
        self.filter = store.AtRiskFilter(
            bands=tuple(band or ()), tiers=tuple(tier or ()), segments=tuple(segment or ()),
            stages=tuple(stage or ()), playbook=playbook, has_open_task=has_open_task,
        )  # fmt: skip
        self.sort, self.order = sort, order

    @property
    def kind(self) -> str:
        return f"at-risk:{self.sort}:{self.order}"


def item(r: store.AtRiskRow) -> AtRiskItem:
    values: dict[str, Any] = {k: getattr(r, k) for k in store.AtRiskRow.__slots__}
    values["reasons"] = reasons_of(r.reasons)
    return AtRiskItem(**values)


@router.get(
    "/v1/at-risk",
    summary="Customers at risk, filtered and sorted (most value at risk first by default)",
)
async def at_risk(
    engine: EngineDep,
    _: Reader,
    filters: Annotated[Filters, Depends()],
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AtRiskPage:
    """Keyset-paged by (sort value, customer id): stable while scores change."""
    after = None
    if cursor:
        try:
            after = decode_cursor(cursor, filters.kind, 2)
            if filters.sort == "event_time":
                after[0] = parse_time(after[0])
        except BadCursor as exc:
            raise bad_cursor(exc) from None
    rows, more = await store.fetch_page(
        engine, filters.filter, sort=filters.sort, order=filters.order, after=after, limit=limit
    )
    token = None
    if more and rows:
        last = rows[-1]
        token = encode_cursor(filters.kind, getattr(last, filters.sort), last.customer_id)
    return AtRiskPage(items=[item(r) for r in rows], next_cursor=token)


CSV_COLUMNS = ("customer_id", "band", "churn_probability", "tier", "lifecycle_stage",
               "rfm_segment", "clv", "clv_low", "clv_high", "value_if_retained",
               "value_at_risk", "event_time", "has_open_task", "reasons")  # fmt: skip


def csv_lines(rows: list[store.AtRiskRow], header: bool) -> str:
    """Rows as CSV text (reasons joined with "; "); ids are written whole."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([
            r.customer_id, r.band, f"{r.churn_probability:.4f}", r.tier, r.lifecycle_stage,
            r.rfm_segment or "", f"{r.clv:.2f}", _num(r.clv_low), _num(r.clv_high),
            _num(r.value_if_retained), f"{r.value_at_risk:.2f}", r.event_time.isoformat(),
            "yes" if r.has_open_task else "no", "; ".join(x.text for x in reasons_of(r.reasons)),
        ])  # fmt: skip
    return out.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


@router.get(
    "/v1/at-risk.csv",
    summary="The filtered at-risk list as CSV (every row, streamed)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "the list; filters in the name"}},
)
async def at_risk_csv(
    engine: EngineDep, _: Reader, filters: Annotated[Filters, Depends()]
) -> StreamingResponse:
    async def body() -> AsyncIterator[str]:
        first = True
        async for chunk in store.stream_rows(
            engine, filters.filter, sort=filters.sort, order=filters.order
        ):
            yield csv_lines(chunk, first)
            first = False
        if first:
            yield csv_lines([], True)

    name = f"at-risk_{filters.filter.slug()}_sort-{filters.sort}-{filters.order}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
