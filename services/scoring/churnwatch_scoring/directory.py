"""The customer directory's writer: contact details and erasures, in the scoring batch.

Called once per batch from the processor, in the batch's transaction, so a directory row commits
exactly when the offsets of the event that carried it do (a replayed batch writes nothing twice).
Per batch: pick the ``customer_profile`` and ``customer_erased`` records out by a byte search
(most records are neither and are not parsed here); erase first (`churnwatch_runtime.privacy`);
load the data keys of the customers with sealed fields (one SELECT); open the contact fields and
upsert one row per customer (one statement). An erased customer is never written again: the
profile is a tombstone from its erasure on, and the directory follows it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.privacy import (
    Contact,
    customer_hash,
    is_sealed,
    merge_contact,
    open_fields,
    personal_fields,
)
from churnwatch_runtime.privacy import erase
from churnwatch_runtime.worker import Batch

log = logging.getLogger(__name__)

_PROFILE, _ERASED = "customer_profile", "customer_erased"
_WANTED = (b'"customer_profile"', b'"customer_erased"')

_KEYS = text("SELECT customer_id, dek FROM customer_keys WHERE customer_id = ANY(:ids)")
_UPSERT = text(
    "INSERT INTO customer_directory AS d (customer_id, name, email, phone, updated_at)"
    " SELECT u.c, u.n, u.e, u.p, u.t FROM unnest(CAST(:c AS text[]), CAST(:n AS text[]),"
    " CAST(:e AS text[]), CAST(:p AS text[]), CAST(:t AS timestamptz[]), CAST(:h AS text[]))"
    " AS u(c, n, e, p, t, h)"
    " WHERE NOT EXISTS (SELECT 1 FROM erasures x WHERE x.customer_hash = u.h)"
    " ON CONFLICT (customer_id) DO UPDATE SET"
    + ",".join(
        f" {f} = CASE WHEN EXCLUDED.updated_at >= d.updated_at"
        f" THEN COALESCE(EXCLUDED.{f}, d.{f}) ELSE COALESCE(d.{f}, EXCLUDED.{f}) END"
        for f in ("name", "email", "phone")
    )
    + ", updated_at = GREATEST(d.updated_at, EXCLUDED.updated_at), written_at = now()"
)


@dataclass
class _Scan:
    """The batch's profile and erasure events, in partition order."""

    profiles: list[tuple[str, datetime, dict[str, object]]] = field(default_factory=list)
    erased: dict[str, str] = field(default_factory=dict)  # customer → the event's source


async def absorb(conn: AsyncConnection, batch: Batch) -> None:
    """Write the batch's contact details and carry out its erasures (see the module doc)."""
    scan = _scan(rec.value for records in batch.by_partition.values() for rec in records)
    for customer_id, source in scan.erased.items():
        done = await erase(conn, customer_id, actor=source, via="event")
        log.info("customer erased", extra={"via": "event", "removed": done.removed})
    wanted = [p for p in scan.profiles if p[0] not in scan.erased]
    if not wanted:
        return
    sealed = {c for c, _, attrs in wanted if any(is_sealed(v) for v in attrs.values())}
    keys: dict[str, bytes] = {}
    if sealed:
        rows = await conn.execute(_KEYS, {"ids": sorted(sealed)})
        keys = {r[0]: bytes(r[1]) for r in rows}
    contacts: dict[str, Contact] = {}
    for customer_id, at, attrs in wanted:
        fields = open_fields(customer_id, _PROFILE, attrs, keys.get(customer_id))
        if any(v is not None for v in fields.values()):
            contacts[customer_id] = merge_contact(contacts.get(customer_id), fields, at)
    if contacts:
        await _write(conn, contacts)


async def _write(conn: AsyncConnection, contacts: dict[str, Contact]) -> None:
    ids = sorted(contacts)  # a fixed lock order: two workers never deadlock on the same rows
    rows = [contacts[c] for c in ids]
    await conn.execute(
        _UPSERT,
        {
            "c": ids,
            "n": [r.name for r in rows],
            "e": [r.email for r in rows],
            "p": [r.phone for r in rows],
            "t": [r.at for r in rows],
            "h": [customer_hash(c) for c in ids],
        },
    )


def _scan(values: Iterable[bytes | None]) -> _Scan:
    scan = _Scan()
    for value in values:
        if not value or not any(marker in value for marker in _WANTED):
            continue
        try:
            doc = orjson.loads(value)
            customer_id, event_type = str(doc["customer_id"]), doc["event_type"]
            if event_type == _ERASED:
                scan.erased.setdefault(customer_id, str(doc["source"]))
            elif event_type == _PROFILE:
                at = datetime.fromisoformat(doc["occurred_at"])
                attrs = doc["attributes"]
                scan.profiles.append(
                    (customer_id, at, {f: attrs.get(f) for f in personal_fields(_PROFILE)})
                )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            continue  # not a valid event: the processor sends it to the dead-letter topic
    return scan
