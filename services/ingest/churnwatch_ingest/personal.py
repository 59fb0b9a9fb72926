"""Seal personal attributes before an event reaches ``cw.events``: the per-customer data keys.

Each customer with personal data gets one AES-256 key in ``customer_keys``, created the first
time an event of theirs carries a personal value (docs/privacy.md). The keys are fetched or
created in one statement per request (only for events that carry personal data), committed
before anything sealed under them is published, and never cached: an erasure deletes the key,
and the next event must not be sealed under a key the database has forgotten. An erased
customer gets no new key: their personal attributes are dropped (published as null).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from churnwatch.events import Event, event_to_json
from churnwatch.privacy import customer_hash, has_personal_data, new_key, seal_event

__all__ = ["KeyStore", "seal_events"]

# One round trip: insert the missing keys (none for an erased customer), return all of them.
# The SELECT's snapshot predates the INSERT, so ``ins`` and the table never return a key twice.
_KEYS = (
    "WITH ins AS ("
    " INSERT INTO customer_keys (customer_id, dek)"
    " SELECT c, k FROM unnest($1::text[], $2::bytea[], $3::text[]) AS t(c, k, h)"
    " WHERE NOT EXISTS (SELECT 1 FROM erasures x WHERE x.customer_hash = t.h)"
    " ORDER BY c ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id, dek)"
    " SELECT customer_id, dek FROM ins"
    " UNION ALL SELECT customer_id, dek FROM customer_keys WHERE customer_id = ANY($1::text[])"
)
_EXISTING = "SELECT customer_id, dek FROM customer_keys WHERE customer_id = ANY($1::text[])"


class KeyStore:
    """Get-or-create data keys over an asyncpg pool (the idempotency store's)."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def keys_for(self, customer_ids: Sequence[str]) -> dict[str, bytes]:
        """The key of every customer in ``customer_ids`` except erased ones (autocommitted)."""
        ids = sorted(set(customer_ids))
        if not ids:
            return {}
        fresh = [new_key() for _ in ids]
        hashes = [customer_hash(c) for c in ids]
        async with self._pool.acquire() as conn:
            keys = {r[0]: bytes(r[1]) for r in await conn.fetch(_KEYS, ids, fresh, hashes)}
            missing = [c for c in ids if c not in keys]
            if missing:  # created concurrently by another request after our snapshot
                keys.update({r[0]: bytes(r[1]) for r in await conn.fetch(_EXISTING, missing)})
        return keys


async def seal_events(keys: KeyStore | None, events: Sequence[Event]) -> list[bytes]:
    """The canonical JSON of each event, personal attributes sealed under the customer's key.

    Without a key store (the raw path run without a database) personal attributes are dropped:
    nothing personal reaches ``cw.events`` in clear.
    """
    docs = [event_to_json(e) for e in events]
    needed = [e.customer_id for e in events if has_personal_data(e.event_type, e.attributes)]
    if not needed:
        return docs
    found = await keys.keys_for(needed) if keys is not None else {}
    return [seal_event(doc, found.get(e.customer_id)) for doc, e in zip(docs, events, strict=True)]
