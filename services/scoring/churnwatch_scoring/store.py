"""The scoring worker's SQL: one statement per table per batch, arrays through ``unnest``.

Everything runs on the raw asyncpg connection of the worker's batch transaction (SQLAlchemy's
parameter processing costs more than the statements at these volumes). Tables: migration 0010.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch_runtime.db import raw_connection
from churnwatch_scoring.records import ScoreRecord, Why

Pg = Any  # asyncpg.Connection (asyncpg ships no type hints)


async def raw(conn: AsyncConnection) -> Pg:
    """The asyncpg connection under ``conn``, inside its transaction (see ``raw_connection``)."""
    return await raw_connection(conn)


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    customer_id: str
    state: bytes
    retail_stats: bytes | None
    last_score: tuple[float, str] | None  # (probability, band) of the last history entry
    last_snapshot: date | None


_LOAD = (
    "SELECT p.customer_id, p.state, p.retail_stats, h.churn_probability, h.band,"
    " (SELECT max(l.day) FROM label_snapshots l WHERE l.customer_id = p.customer_id)"
    " FROM customer_profiles p LEFT JOIN LATERAL (SELECT churn_probability, band"
    " FROM score_history WHERE customer_id = p.customer_id ORDER BY event_time DESC, id DESC"
    " LIMIT 1) h ON true WHERE p.customer_id = ANY($1::text[])"
)


async def load_customers(pg: Pg, ids: Sequence[str]) -> list[StoredCustomer]:
    if not ids:
        return []
    rows = await pg.fetch(_LOAD, list(ids))
    return [
        StoredCustomer(
            r[0],
            bytes(r[1]),
            None if r[2] is None else bytes(r[2]),
            None if r[3] is None else (float(r[3]), str(r[4])),
            r[5],
        )
        for r in rows
    ]


async def load_watermarks(
    pg: Pg, group: str, topic: str, parts: Sequence[int]
) -> dict[int, datetime]:
    rows = await pg.fetch(
        "SELECT partition, watermark FROM partition_watermarks"
        " WHERE group_id = $1 AND topic = $2 AND partition = ANY($3::int[])",
        group, topic, list(parts),
    )  # fmt: skip
    return {int(r[0]): r[1] for r in rows}


async def sample_values(pg: Pg, basis: str, limit: int) -> list[float]:
    """Up to ``limit`` stored values of the population, a random sample of ``latest_scores``:
    the value basis (``retained`` → ``value_if_retained``, ``clv``) tiers are ranked by."""
    column = {"retained": "value_if_retained", "clv": "clv"}[basis]
    rows = await pg.fetch(
        f"SELECT {column} FROM latest_scores WHERE {column} IS NOT NULL ORDER BY random() LIMIT $1",
        limit,
    )
    return [float(r[0]) for r in rows]


async def due_customers(
    pg: Pg, watermarks: dict[int, datetime], limit: int
) -> list[tuple[str, int]]:
    """Customers of each partition whose silence is due by its watermark, earliest first.

    One index range scan per partition on ``(partition, due_at)``: never a full scan.
    """
    if not watermarks:
        return []
    rows = await pg.fetch(
        "SELECT d.customer_id, d.partition FROM unnest($1::int[], $2::timestamptz[]) AS w(p, wm)"
        " CROSS JOIN LATERAL (SELECT customer_id, partition, due_at FROM silence_due"
        " WHERE partition = w.p AND due_at <= w.wm ORDER BY due_at LIMIT $3) d"
        " ORDER BY d.partition, d.due_at, d.customer_id",
        list(watermarks), list(watermarks.values()), limit,
    )  # fmt: skip
    return [(str(r[0]), int(r[1])) for r in rows]


async def write_profiles(
    pg: Pg, rows: Sequence[tuple[str, int, bytes, bytes | None]], now: datetime
) -> None:
    if not rows:
        return
    ids, parts, states, retail = zip(*rows, strict=True)
    await pg.execute(
        "INSERT INTO customer_profiles (customer_id, partition, state, retail_stats, updated_at)"
        " SELECT u.c, u.p, u.s, u.r, $5 FROM unnest($1::text[], $2::int[], $3::bytea[],"
        " $4::bytea[]) AS u(c, p, s, r) ON CONFLICT (customer_id) DO UPDATE SET"
        " partition = EXCLUDED.partition, state = EXCLUDED.state,"
        " retail_stats = EXCLUDED.retail_stats, updated_at = EXCLUDED.updated_at",
        list(ids), list(parts), list(states), list(retail), now,
    )  # fmt: skip


_LATEST_COLUMNS = (
    "customer_id, partition, churn_probability, band, reasons, clv, clv_low, clv_high, tier,"
    " lifecycle_stage, rfm_segment, value_at_risk, business_model, model_version, event_time,"
    " cause, cause_event_id, value_if_retained"
)
_LATEST_TYPES = (
    "text[]", "int[]", "float8[]", "text[]", "text[]", "float8[]", "float8[]", "float8[]",
    "text[]", "text[]", "text[]", "float8[]", "text[]", "text[]", "timestamptz[]", "text[]",
    "text[]", "float8[]",
)  # fmt: skip
_LATEST = (
    f"INSERT INTO latest_scores ({_LATEST_COLUMNS}, updated_at)"
    " SELECT c1, c2, c3, c4, CAST(c5 AS jsonb), c6, c7, c8, c9, c10, c11, c12, c13, c14, c15,"
    " c16, c17, c18, $19 FROM unnest("
    + ", ".join(f"${i + 1}::{t}" for i, t in enumerate(_LATEST_TYPES))
    + ") AS u("
    + ", ".join(f"c{i + 1}" for i in range(len(_LATEST_TYPES)))
    + ")"
    " ON CONFLICT (customer_id) DO UPDATE SET "
    + ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}" for c in _LATEST_COLUMNS.split(",")[1:])
    + ", updated_at = EXCLUDED.updated_at"
)


async def write_latest(pg: Pg, records: Sequence[ScoreRecord], now: datetime) -> None:
    if not records:
        return
    columns: list[list[Any]] = [[] for _ in _LATEST_TYPES]
    for r in records:
        values = (
            r.customer_id, r.partition, r.churn_probability, r.band,
            orjson.dumps(r.reasons_json()).decode(), r.clv, r.clv_low, r.clv_high, r.tier,
            r.lifecycle_stage, r.rfm_segment, r.value_at_risk, r.business_model,
            r.model_version, r.event_time, r.cause, r.cause_event_id, r.value_if_retained,
        )  # fmt: skip
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    await pg.execute(_LATEST, *columns, now)


async def insert_history(pg: Pg, rows: Sequence[tuple[ScoreRecord, str | None, Why]]) -> None:
    if not rows:
        return
    await pg.execute(
        "INSERT INTO score_history (customer_id, event_time, churn_probability, band,"
        " previous_band, clv, value_at_risk, model_version, cause_event_id, why)"
        " SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::text[],"
        " $5::text[], $6::float8[], $7::float8[], $8::text[], $9::text[], $10::text[])",
        [r.customer_id for r, _, _ in rows], [r.event_time for r, _, _ in rows],
        [r.churn_probability for r, _, _ in rows], [r.band for r, _, _ in rows],
        [prev for _, prev, _ in rows], [r.clv for r, _, _ in rows],
        [r.value_at_risk for r, _, _ in rows], [r.model_version for r, _, _ in rows],
        [r.cause_event_id for r, _, _ in rows], [why for _, _, why in rows],
    )  # fmt: skip


async def insert_transitions(pg: Pg, rows: Sequence[tuple[str, str, str | None, datetime]]) -> None:
    if not rows:
        return
    ids, stages, previous, times = zip(*rows, strict=True)
    await pg.execute(
        "INSERT INTO lifecycle_transitions (customer_id, stage, previous, event_time)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])",
        list(ids), list(stages), list(previous), list(times),
    )  # fmt: skip


async def write_due(pg: Pg, rows: Sequence[tuple[str, int, datetime | None]]) -> None:
    """Set each customer's next silence due time; ``None`` removes them from the index."""
    sets = [r for r in rows if r[2] is not None]
    gone = [r[0] for r in rows if r[2] is None]
    if sets:
        await pg.execute(
            "INSERT INTO silence_due (customer_id, partition, due_at)"
            " SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[])"
            " ON CONFLICT (customer_id) DO UPDATE SET partition = EXCLUDED.partition,"
            " due_at = EXCLUDED.due_at",
            [r[0] for r in sets], [r[1] for r in sets], [r[2] for r in sets],
        )  # fmt: skip
    if gone:
        await pg.execute("DELETE FROM silence_due WHERE customer_id = ANY($1::text[])", gone)


async def write_watermarks(pg: Pg, group: str, topic: str, marks: dict[int, datetime]) -> None:
    if not marks:
        return
    await pg.execute(
        "INSERT INTO partition_watermarks (group_id, topic, partition, watermark)"
        " SELECT $1, $2, u.p, u.w FROM unnest($3::int[], $4::timestamptz[]) AS u(p, w)"
        " ON CONFLICT (group_id, topic, partition) DO UPDATE SET watermark ="
        " GREATEST(partition_watermarks.watermark, EXCLUDED.watermark)",
        group, topic, list(marks), list(marks.values()),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    customer_id: str
    day: date
    partition: int
    taken_at: datetime
    features: dict[str, float]
    business_model: str
    label_due_at: datetime


async def insert_snapshots(pg: Pg, rows: Sequence[SnapshotRow]) -> None:
    """At most one per customer and day; a re-processed batch finds its rows already there."""
    if not rows:
        return
    await pg.execute(
        "INSERT INTO label_snapshots (customer_id, day, partition, taken_at, features,"
        " business_model, label_due_at) SELECT u.c, u.d, u.p, u.t, CAST(u.f AS jsonb), u.b, u.l"
        " FROM unnest($1::text[], $2::date[], $3::int[], $4::timestamptz[], $5::text[],"
        " $6::text[], $7::timestamptz[]) AS u(c, d, p, t, f, b, l)"
        " ON CONFLICT (customer_id, day) DO NOTHING",
        [r.customer_id for r in rows], [r.day for r in rows], [r.partition for r in rows],
        [r.taken_at for r in rows], [orjson.dumps(r.features).decode() for r in rows],
        [r.business_model for r in rows], [r.label_due_at for r in rows],
    )  # fmt: skip
