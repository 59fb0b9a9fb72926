"""Contact details from the customer directory (scope ``pii:read``): every read is audited.

``customer_directory`` is the one table holding name, e-mail and phone in clear (written by the
scoring worker, emptied by erasure: `churnwatch_runtime.privacy`). Each read writes one
``api_audit`` row per customer whose details were returned (action ``pii.read`` or
``pii.search``, target the customer id) in the caller's transaction — call these inside
``engine.begin()``. The search text itself is never logged: it is personal data too.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.auth import Principal
from churnwatch_api.store import audit

__all__ = ["MIN_QUERY", "ContactDetails", "escape_like", "get_contact", "search_contacts"]

MIN_QUERY = 3
"""Shortest search text: the trigram indexes need three characters to narrow anything down."""

_COLUMNS = "customer_id, name, email, phone, updated_at"
_GET = text(f"SELECT {_COLUMNS} FROM customer_directory WHERE customer_id = :c")
# lower(...) LIKE matches the trigram indexes on lower(name) and lower(email) (migration 0031)
_SEARCH = text(
    f"SELECT {_COLUMNS} FROM customer_directory"
    " WHERE lower(name) LIKE :p ESCAPE '\\' OR lower(email) LIKE :p ESCAPE '\\'"
    " ORDER BY customer_id LIMIT :n"
)

_AUDIT_MANY = text(  # one api_audit row per customer returned (see `audit.record`)
    "INSERT INTO api_audit (key_id, actor, action, target)"
    " SELECT :k, :a, 'pii.search', t FROM unnest(CAST(:t AS text[])) AS t"
)


class ContactDetails(BaseModel):
    """A customer's contact details (personal data: ``pii:read`` only)."""

    customer_id: str = Field(examples=["C-1042"])
    name: str | None = Field(examples=["Jana Novák"])
    email: str | None = Field(examples=["jana.novak@example.com"])
    phone: str | None = Field(examples=["+49 30 1234567"])
    updated_at: datetime = Field(description="event time of the newest profile event applied")


def escape_like(q: str) -> str:
    r"""``q`` with LIKE's wildcards escaped, so a search for ``50%`` means the characters.

    >>> escape_like("a_b%c\\")
    'a\\_b\\%c\\\\'
    """
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def get_contact(
    conn: AsyncConnection,
    customer_id: str,
    *,
    who: Principal | None = None,
    actor: str = "cli",
) -> ContactDetails | None:
    """The customer's contact details, or None (unknown, no details, or erased); audited."""
    row = (await conn.execute(_GET, {"c": customer_id})).mappings().first()
    if row is None:
        return None
    await audit.record(conn, "pii.read", customer_id, who=who, actor=actor)
    return ContactDetails(**row)


async def search_contacts(
    conn: AsyncConnection,
    q: str,
    limit: int = 20,
    *,
    who: Principal | None = None,
    actor: str = "cli",
) -> list[ContactDetails]:
    """Customers whose name or e-mail contains ``q`` (case-insensitive), by id; audited.

    Raises ValueError for a ``q`` shorter than `MIN_QUERY` characters or a ``limit`` outside
    1-100 (the route answers 422).
    """
    needle = q.strip().lower()
    if len(needle) < MIN_QUERY:
        raise ValueError(f"search for at least {MIN_QUERY} characters")
    if not 1 <= limit <= 100:
        raise ValueError("limit must be between 1 and 100")
    rows = (
        (await conn.execute(_SEARCH, {"p": f"%{escape_like(needle)}%", "n": limit}))
        .mappings()
        .all()
    )
    found = [ContactDetails(**r) for r in rows]
    if found:
        params = {
            "k": who.key_id if who else None,
            "a": who.actor if who else actor,
            "t": [c.customer_id for c in found],
        }
        await conn.execute(_AUDIT_MANY, params)
    return found
