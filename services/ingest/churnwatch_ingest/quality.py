"""Data-quality counts of ingest into ``quality_daily`` (migration 0032; read by ``GET
/v1/quality``): accepted, duplicate, rejected (HTTP) and dead-lettered (raw path) events per
source, reason and day received.

Counted per request or fetched batch, never per event: a `Tally` adds up one request and is
written as one upsert (a row per source, outcome and reason) in the idempotency reservation's
transaction, after Kafka acknowledged — a request that fails rolls its counts back with its ids.
Concurrent requests would queue on the same hot rows (the lock is held until the commit), so each
database connection writes its own ``shard`` of rows (its backend pid modulo `SHARDS`);
readers sum over shards. Rows are upserted in key order, so two transactions sharing a shard
cannot deadlock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import orjson

from churnwatch_runtime.db import Pg

Path = Literal["http", "raw"]
Outcome = Literal["accepted", "duplicate", "rejected", "dlq"]
SHARDS = 16
UNKNOWN = "unknown"
"""The source of an item whose ``source`` field is missing or not a valid source."""

_SOURCE = re.compile(r"[^\x00-\x1f\x7f]{1,64}")  # the contract's Source (churnwatch.events)
_ADD = (
    "INSERT INTO quality_daily (day, source, outcome, reason, path, shard, count)"
    " SELECT $1, s, o, r, $2, $3, n FROM unnest($4::text[], $5::text[], $6::text[], $7::int8[])"
    " AS t(s, o, r, n)"
    " ON CONFLICT (day, source, outcome, reason, path, shard)"
    " DO UPDATE SET count = quality_daily.count + EXCLUDED.count"
)


def source_of(item: Any) -> str:
    """The ``source`` field of a (possibly invalid) event, or `UNKNOWN`.

    Only a value the contract would accept is kept, so a broken client cannot flood the table
    (or the dashboard) with arbitrary labels.

    >>> source_of({"source": "shop-web"}), source_of({"source": 3}), source_of(b"not json")
    ('shop-web', 'unknown', 'unknown')
    >>> source_of({"source": "x" * 65}), source_of({"source": "bad\\n"})
    ('unknown', 'unknown')
    """
    if isinstance(item, Mapping):
        value = item.get("source")
        if isinstance(value, str) and _SOURCE.fullmatch(value):
            return value
    return UNKNOWN


def source_of_bytes(value: bytes | None) -> str:
    """`source_of` a raw record's value (a dead letter: it may not even be JSON).

    >>> source_of_bytes(b'{"source": "billing", "amount": "x"}'), source_of_bytes(b"\\x00")
    ('billing', 'unknown')
    >>> source_of_bytes(None)
    'unknown'
    """
    if not value:
        return UNKNOWN
    try:
        return source_of(orjson.loads(value))
    except orjson.JSONDecodeError:
        return UNKNOWN


@dataclass
class Tally:
    """The counts of one request or batch, by (source, outcome, reason).

    >>> t = Tally(date(2026, 1, 5), "http")
    >>> t.add("shop-web", "accepted", n=2); t.add("shop-web", "rejected", "missing")
    >>> t.add("shop-web", "accepted"); t.add("app", "duplicate", n=0)
    >>> t.columns()
    (['shop-web', 'shop-web'], ['accepted', 'rejected'], ['', 'missing'], [3, 1])
    """

    day: date
    path: Path
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def add(self, source: str, outcome: Outcome, reason: str = "", n: int = 1) -> None:
        if n:
            key = (source, outcome, reason)
            self.counts[key] = self.counts.get(key, 0) + n

    def columns(self) -> tuple[list[str], list[str], list[str], list[int]]:
        """The rows in key order (no deadlock between two writers), as four arrays."""
        keys = sorted(self.counts)
        return (
            [k[0] for k in keys],
            [k[1] for k in keys],
            [k[2] for k in keys],
            [self.counts[k] for k in keys],
        )

    def __bool__(self) -> bool:
        return bool(self.counts)


async def write(conn: Pg, tally: Tally) -> None:
    """Add ``tally`` to ``quality_daily`` on ``conn`` (in its transaction, if one is open)."""
    if not tally:
        return
    shard = conn.get_server_pid() % SHARDS
    await conn.execute(_ADD, tally.day, tally.path, shard, *tally.columns())
