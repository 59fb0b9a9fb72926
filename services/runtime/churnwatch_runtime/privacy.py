"""Erasure: remove one customer's personal data everywhere churnwatch keeps it — one function.

Both ways in call `erase` in their own transaction: the API (``DELETE /v1/customers/{id}``) and
the scoring worker when it consumes a ``customer_erased`` event. What goes:

- the contact details (``customer_directory``);
- the customer's data key (``customer_keys``): every sealed copy of their personal attributes on
  ``cw.events`` is unreadable from then on (crypto-shredding, docs/privacy.md);
- the free-text notes of their tasks' audit rows (``task_audit.note`` becomes ``[erased]``): people
  type names and numbers into them.

What stays: scores, features and aggregates keyed by the pseudonymous customer id (the profile
itself becomes a tombstone when the ``customer_erased`` event reaches the scoring worker).
Every call writes an ``erasures`` row (the id's hash, when, who, what was removed), so a second
erase is audited too, and answers with the time of the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.events import CustomerErasedEvent, event_to_json
from churnwatch.privacy import ERASED, customer_hash

__all__ = ["Erasure", "erase", "erased_event", "first_erasure"]

Via = Literal["api", "event"]

_STEPS: tuple[tuple[str, str], ...] = (
    ("directory", "DELETE FROM customer_directory WHERE customer_id = :c"),
    ("keys", "DELETE FROM customer_keys WHERE customer_id = :c"),
    (
        "task_notes",
        "UPDATE task_audit SET note = :erased"
        " WHERE task_id IN (SELECT task_id FROM tasks WHERE customer_id = :c)"
        " AND note IS NOT NULL AND note <> :erased",
    ),
)
_LOG = text(
    "INSERT INTO erasures (customer_hash, at, actor, via, removed)"
    " VALUES (:h, :at, :actor, :via, CAST(:removed AS jsonb))"
)
_FIRST = text("SELECT min(at) FROM erasures WHERE customer_hash = :h")


@dataclass(frozen=True, slots=True)
class Erasure:
    """The answer to an erase: when the customer was first erased, and what this call removed."""

    customer_id: str
    erased_at: datetime
    removed: dict[str, int]


async def erase(
    conn: AsyncConnection,
    customer_id: str,
    *,
    actor: str,
    via: Via,
    now: datetime | None = None,
) -> Erasure:
    """Remove ``customer_id``'s personal data in the caller's transaction and log it.

    Idempotent: nothing is left to remove the second time (the counts are zero), and
    ``erased_at`` stays the first erasure's time. ``actor`` names who asked (an API key's actor,
    or the event's source), never the customer.
    """
    at = now or datetime.now(UTC)
    removed: dict[str, int] = {}
    for what, sql in _STEPS:
        result = await conn.execute(text(sql), {"c": customer_id, "erased": ERASED})
        removed[what] = max(int(result.rowcount or 0), 0)
    digest = customer_hash(customer_id)
    params = {
        "h": digest,
        "at": at,
        "actor": actor,
        "via": via,
        "removed": orjson.dumps(removed).decode(),
    }
    await conn.execute(_LOG, params)
    first = await first_erasure(conn, customer_id)
    return Erasure(customer_id, first or at, removed)


async def first_erasure(conn: AsyncConnection, customer_id: str) -> datetime | None:
    """When ``customer_id`` was first erased (None: never)."""
    first: datetime | None = (
        await conn.execute(_FIRST, {"h": customer_hash(customer_id)})
    ).scalar_one()
    return first


def erased_event(customer_id: str, *, at: datetime, source: str = "churnwatch-api") -> bytes:
    """The canonical ``customer_erased`` event the API publishes (through the outbox) after an
    erasure, so the scoring worker turns the profile into a tombstone and playbooks stop.

    The event id is derived from the customer: every API erasure of one customer is the same
    event, which the profile applies once.

    >>> doc = orjson.loads(erased_event("C-1", at=datetime(2026, 3, 1, tzinfo=UTC)))
    >>> doc["event_id"][:13], doc["event_type"], doc["attributes"]
    ('erasure-api-0', 'customer_erased', {'reason': 'request'})
    """
    event = CustomerErasedEvent.model_validate(
        {
            "event_id": f"erasure-api-{customer_hash(customer_id)[:32]}",
            "event_type": "customer_erased",
            "customer_id": customer_id,
            "occurred_at": at,
            "source": source,
            "schema_version": 1,
            "attributes": {"reason": "request"},
        }
    )
    return event_to_json(event)
