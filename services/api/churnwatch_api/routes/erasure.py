"""``DELETE /v1/customers/{id}`` (scope ``admin``): erase a customer's personal data.

The erasure runs in one transaction: `churnwatch_runtime.privacy.erase` (the same function the
scoring worker runs for a ``customer_erased`` event) removes the contact details, the data key
(so every sealed copy on ``cw.events`` is unreadable) and the task notes, and logs the erasure;
the first erasure also queues a ``customer_erased`` event on ``cw.events`` (through the outbox,
relayed by any running worker) so the scoring worker turns the profile into a tombstone and no
playbook contacts the customer again. Idempotent: every call answers the first erasure's time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from churnwatch.auth import Principal
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.problems import problem_responses
from churnwatch_runtime.privacy import erase, erased_event, first_erasure
from churnwatch_runtime.worker.outbox import outbox

router = APIRouter(tags=["customers"], responses=problem_responses(401, 403, 429))
Admin = Annotated[Principal, Depends(require("admin"))]
CustomerIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:@-]+$",
        description="the customer id (the event contract's `customer_id`)",
        examples=["C-1042"],
    ),
]


class ErasureOut(BaseModel):
    """The same answer for every erase of one customer."""

    customer_id: str = Field(examples=["C-1042"])
    status: Literal["erased"] = "erased"
    erased_at: datetime = Field(description="when the customer's personal data was first erased")


@router.delete(
    "/v1/customers/{customer_id}",
    summary="Erase a customer's personal data (idempotent)",
    description=(
        "Removes the contact details, the customer's data key (every sealed copy of their"
        " personal data on Kafka becomes unreadable) and the notes of their tasks; anonymous"
        " aggregates stay. Answers the same for a customer already erased, or never seen."
    ),
    responses=problem_responses(422),
)
async def delete_customer(
    customer_id: CustomerIdPath, request: Request, engine: EngineDep, who: Admin
) -> ErasureOut:
    now = datetime.now(UTC)
    topic = request.app.state.settings.topics.events
    async with engine.begin() as conn:
        first = await first_erasure(conn, customer_id)
        done = await erase(conn, customer_id, actor=who.actor, via="api", now=now)
        if first is None:
            value = erased_event(customer_id, at=now)
            headers = [("cw-source", "api"), ("cw-event-type", "customer_erased")]
            await outbox.add(conn, topic, customer_id.encode(), value, headers)
    return ErasureOut(customer_id=customer_id, erased_at=done.erased_at)
