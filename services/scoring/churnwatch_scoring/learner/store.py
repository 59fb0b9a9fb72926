"""The learner's SQL (tables of migration 0010); every function takes the open connection.

Only queries live here: what they mean for labels and checkpoints is in ``service``.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import Text

from churnwatch.storage import decode_features
from churnwatch.value import RetailStats
from churnwatch_runtime.db import json_object

__all__ = [
    "CheckpointRow",
    "DueRow",
    "activity_volumes",
    "customer_actions",
    "drop_activity_volumes",
    "due_snapshots",
    "global_watermark",
    "insert_checkpoint",
    "insert_clv_params",
    "insert_records",
    "latest_checkpoint",
    "mark_deferred",
    "mark_resolved",
    "mark_skipped",
    "retail_customers",
    "retail_stats_chunks",
    "try_lock",
    "unlock",
]


@dataclass(frozen=True, slots=True)
class DueRow:
    """An open snapshot whose ``label_due_at`` has passed, with its customer's evidence."""

    customer_id: str
    day: date
    taken_at: datetime
    features: dict[str, Any]
    business_model: str
    profile: bytes | None
    returned_at: datetime | None


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    version: int
    state: bytes
    labels_seen: int


async def try_lock(conn: AsyncConnection, key: int) -> bool:
    """Session-level advisory lock on this connection (kept across its transactions)."""
    got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
    await conn.commit()
    return bool(got)


async def unlock(conn: AsyncConnection, key: int) -> None:
    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    await conn.commit()


async def global_watermark(conn: AsyncConnection, group_id: str) -> datetime | None:
    """The slowest partition's watermark: every event at or before it has been seen."""
    return await conn.scalar(  # type: ignore[no-any-return]
        text("SELECT min(watermark) FROM partition_watermarks WHERE group_id = :g"),
        {"g": group_id},
    )


_LAST_ACTIVITY = (  # the column (0034); the JSON feature of a snapshot written before it
    "coalesce(s2.last_activity_at, s2.taken_at - make_interval(secs =>"
    " (s2.features->>'activity_recency_days')::float8 * 86400))"
)
_DUE = text(f"""
SELECT s.customer_id, s.day, s.taken_at, s.features, s.business_model, p.state,
       r.returned_at, f.names, s.vector
FROM label_snapshots s
LEFT JOIN label_feature_sets f ON f.id = s.feature_set
LEFT JOIN customer_profiles p ON p.customer_id = s.customer_id
LEFT JOIN LATERAL (
    SELECT min({_LAST_ACTIVITY}) AS returned_at
    FROM label_snapshots s2
    WHERE s.business_model = 'retail' AND s2.customer_id = s.customer_id AND s2.day > s.day
      AND {_LAST_ACTIVITY} > s.taken_at
) r ON true
WHERE s.label IS NULL AND s.resolved_at IS NULL AND s.label_due_at <= :w
ORDER BY s.taken_at, s.customer_id
LIMIT :n
""")


async def due_snapshots(conn: AsyncConnection, watermark: datetime, limit: int) -> list[DueRow]:
    """The oldest open snapshots due at ``watermark`` (taken_at order), with later evidence."""
    rows = await conn.execute(_DUE, {"w": watermark, "n": limit})
    return [
        DueRow(
            r[0],
            r[1],
            r[2],
            json_object(r[3]) if r[8] is None else decode_features(r[7], bytes(r[8])),
            r[4],
            None if r[5] is None else bytes(r[5]),
            r[6],
        )
        for r in rows
    ]


_ACTIONS = text(
    "SELECT customer_id, issued_at FROM treatments "
    "WHERE customer_id = ANY(:ids) AND issued_at >= :since"
).bindparams(bindparam("ids", type_=ARRAY(Text)))


async def customer_actions(
    conn: AsyncConnection, customer_ids: Sequence[str], since: datetime
) -> dict[str, list[datetime]]:
    """Retention actions issued since ``since``, per customer."""
    found: dict[str, list[datetime]] = defaultdict(list)
    for customer_id, issued_at in await conn.execute(
        _ACTIONS, {"ids": list(customer_ids), "since": since}
    ):
        found[customer_id].append(issued_at)
    return found


async def mark_resolved(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """``rows``: customer_id, day, label (0/1), treated, resolved_at."""
    if rows:
        await conn.execute(
            text(
                "UPDATE label_snapshots SET label = :label, treated = :treated, "
                "resolved_at = :resolved_at WHERE customer_id = :customer_id AND day = :day"
            ),
            list(rows),
        )


async def mark_skipped(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Closed without a label (``resolved_at`` set, ``label`` NULL); rows: customer_id, day, at."""
    if rows:
        await conn.execute(
            text(
                "UPDATE label_snapshots SET resolved_at = :at "
                "WHERE customer_id = :customer_id AND day = :day"
            ),
            list(rows),
        )


async def mark_deferred(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Re-index not-yet-certain snapshots; rows: customer_id, day, due_at."""
    if rows:
        await conn.execute(
            text(
                "UPDATE label_snapshots SET label_due_at = :due_at "
                "WHERE customer_id = :customer_id AND day = :day"
            ),
            list(rows),
        )


async def latest_checkpoint(conn: AsyncConnection) -> CheckpointRow | None:
    row = (
        await conn.execute(
            text(
                "SELECT version, state, labels_seen FROM model_checkpoints "
                "ORDER BY version DESC LIMIT 1"
            )
        )
    ).first()
    return None if row is None else CheckpointRow(row[0], bytes(row[1]), row[2])


_CHECKPOINT = text(
    "INSERT INTO model_checkpoints "
    "(model_version, created_at, state, serving, labels_seen, quality) "
    "VALUES (:model_version, :created_at, :state, :serving, :labels_seen, :quality) "
    "RETURNING version"
).bindparams(bindparam("quality", type_=JSONB))


async def insert_checkpoint(conn: AsyncConnection, *, keep: int, **values: Any) -> int:
    """Insert a checkpoint and drop all but the newest ``keep``; returns its version."""
    version = int(await conn.scalar(_CHECKPOINT, values) or 0)
    await conn.execute(
        text("DELETE FROM model_checkpoints WHERE version <= :v"), {"v": version - keep}
    )
    return version


async def insert_records(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """``model_records`` rows: kind, at, detail (JSON)."""
    if rows:
        stmt = text(
            "INSERT INTO model_records (kind, at, detail) VALUES (:kind, :at, :detail)"
        ).bindparams(bindparam("detail", type_=JSONB))
        await conn.execute(stmt, list(rows))


async def retail_customers(conn: AsyncConnection) -> int:
    count = await conn.scalar(
        text("SELECT count(*) FROM customer_profiles WHERE retail_stats IS NOT NULL")
    )
    return int(count or 0)


async def retail_stats_chunks(
    conn: AsyncConnection, chunk: int
) -> AsyncIterator[list[RetailStats]]:
    """Every customer's `RetailStats`, ``chunk`` at a time (keyset pagination).

    The blobs are pickles the scoring workers wrote (trusted, like the model checkpoints).
    """
    after = ""
    query = text(
        "SELECT customer_id, retail_stats FROM customer_profiles "
        "WHERE retail_stats IS NOT NULL AND customer_id > :after ORDER BY customer_id LIMIT :n"
    )
    while True:
        rows = (await conn.execute(query, {"after": after, "n": chunk})).all()
        if not rows:
            return
        after = rows[-1][0]
        yield [pickle.loads(bytes(r[1])) for r in rows]  # our own workers wrote these


async def insert_clv_params(conn: AsyncConnection, **values: Any) -> int:
    stmt = text(
        "INSERT INTO clv_params (fitted_at, customers, bgnbd, gamma_gamma) "
        "VALUES (:fitted_at, :customers, :bgnbd, :gamma_gamma) RETURNING id"
    ).bindparams(bindparam("bgnbd", type_=JSONB), bindparam("gamma_gamma", type_=JSONB))
    return int(await conn.scalar(stmt, values) or 0)


async def activity_volumes(conn: AsyncConnection, since: date) -> dict[str, float]:
    """Uses per activity name on the event days from ``since`` on."""
    rows = await conn.execute(
        text("SELECT name, sum(uses) FROM activity_volumes WHERE day >= :since GROUP BY name"),
        {"since": since},
    )
    return {str(name): float(uses) for name, uses in rows}


async def drop_activity_volumes(conn: AsyncConnection, before: date) -> int:
    """Delete the volumes of event days before ``before``; rows deleted."""
    result = await conn.execute(
        text("DELETE FROM activity_volumes WHERE day < :before"), {"before": before}
    )
    return int(result.rowcount or 0)
