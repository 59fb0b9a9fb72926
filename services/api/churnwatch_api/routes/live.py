"""The live stream (scope ``read``): server-sent events of band changes and task steps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse

from churnwatch.auth import Principal
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.live import LiveHub, parse_event_id
from churnwatch_api.problems import problem_responses

router = APIRouter(tags=["live"], responses=problem_responses(401, 403, 429))
Reader = Annotated[Principal, Depends(require("read"))]

_DESCRIPTION = """\
`text/event-stream`, one event per change, so the queue and at-risk pages update without reload:

- `event: band_change` — `{id, customer_id, band, previous_band, churn_probability,
  value_at_risk, event_time}` (a score changed band, or a first score entered high/critical);
- `event: task` — `{id, task_id, customer_id, playbook_id, team, from_state, to_state, assignee,
  actor, at}` (a task was created, assigned, started, closed, expired…).

Each event's `id` is a resume point: reconnect with `Last-Event-ID` (browsers' EventSource does
it by itself) to receive what was missed. A comment line every 15 s keeps the connection open.
Changes are polled from PostgreSQL about once a second.
"""


def hub_of(request: Request, engine: EngineDep) -> LiveHub:
    """The process's one hub (created on first use)."""
    hub: LiveHub | None = getattr(request.app.state, "live_hub", None)
    if hub is None:
        hub = request.app.state.live_hub = LiveHub(engine)
    return hub


@router.get(
    "/v1/live",
    summary="Server-sent events: band changes and task steps",
    description=_DESCRIPTION,
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the stream"}},
)
async def live(
    _: Reader,
    hub: Annotated[LiveHub, Depends(hub_of)],
    last_event_id: Annotated[str | None, Header(max_length=100)] = None,
) -> StreamingResponse:
    return StreamingResponse(
        hub.stream(parse_event_id(last_event_id)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
