"""The scoring worker's SQL: one statement per table per batch, arrays through ``unnest``.

Everything runs on the raw asyncpg connection of the worker's batch transaction (SQLAlchemy's
parameter processing costs more than the statements at these volumes). Tables: migration 0010.
The rows are the named ones of `records`; ``latest_scores``' columns are derived from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import orjson
from pydantic import AwareDatetime

from churnwatch.storage import encode_features, feature_set_id
from churnwatch_runtime.db import BulkInsert, raw_connection
from churnwatch_runtime.db import Pg as Pg  # re-exported for the scoring modules
from churnwatch_scoring.records import ScoreRecord, SnapshotRow, Why

raw = raw_connection  # the toolkit's: the processor calls ``store.raw``


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


async def due_until(pg: Pg, watermarks: dict[int, datetime]) -> list[tuple[str, int, datetime]]:
    """Every customer of each partition whose silence is due by that partition's watermark.

    One index range scan per partition on ``(partition, due_at)``; no limit: the processor
    rescores each at the record whose watermark crosses its due time, so a cap would make the
    rescores depend on batch boundaries.
    """
    if not watermarks:
        return []
    rows = await pg.fetch(
        "SELECT d.customer_id, d.partition, d.due_at FROM unnest($1::int[], $2::timestamptz[])"
        " AS w(p, wm) CROSS JOIN LATERAL (SELECT customer_id, partition, due_at FROM silence_due"
        " WHERE partition = w.p AND due_at <= w.wm) d",
        list(watermarks), list(watermarks.values()),
    )  # fmt: skip
    return [(str(r[0]), int(r[1]), r[2]) for r in rows]


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


def _pg_type(annotation: Any) -> str:
    """The PostgreSQL type of a message field's column (``T | None`` is ``T``'s)."""
    if get_origin(annotation) in (Union, UnionType):
        (annotation,) = (a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Literal:
        annotation = type(get_args(annotation)[0])
    if get_origin(annotation) is tuple:
        return "jsonb"
    return {str: "text", int: "int", float: "float8", AwareDatetime: "timestamptz"}[annotation]


_LATEST_TYPES: dict[str, str] = {
    name: _pg_type(field.annotation)
    for name, field in ScoreRecord.model_fields.items()
    if name != "schema_version"
}
"""``latest_scores``: one column per `ScoreRecord` field (the message's and the partition)."""
_LATEST = (
    f"INSERT INTO latest_scores ({', '.join(_LATEST_TYPES)}, updated_at) SELECT "
    + ", ".join(
        f"CAST(c{i} AS jsonb)" if t == "jsonb" else f"c{i}"
        for i, t in enumerate(_LATEST_TYPES.values(), 1)
    )
    + f", ${len(_LATEST_TYPES) + 1} FROM unnest("
    + ", ".join(
        f"${i}::{'text' if t == 'jsonb' else t}[]" for i, t in enumerate(_LATEST_TYPES.values(), 1)
    )
    + ") AS u("
    + ", ".join(f"c{i}" for i in range(1, len(_LATEST_TYPES) + 1))
    + ") ON CONFLICT (customer_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _LATEST_TYPES if c != "customer_id")
    + ", updated_at = EXCLUDED.updated_at"
)


def _latest_column(records: Sequence[ScoreRecord], name: str, pg_type: str) -> list[Any]:
    values = [r.__dict__[name] for r in records]
    if pg_type == "jsonb":  # dataclasses (reasons) as JSON text; jsonb orders the keys itself
        return [orjson.dumps(v).decode() for v in values]
    return values


async def write_latest(pg: Pg, records: Sequence[ScoreRecord], now: datetime) -> None:
    if not records:
        return
    columns = [_latest_column(records, name, t) for name, t in _LATEST_TYPES.items()]
    await pg.execute(_LATEST, *columns, now)


_HISTORY = BulkInsert(
    "score_history",
    (
        ("customer_id", "text"), ("event_time", "timestamptz"), ("churn_probability", "float8"),
        ("band", "text"), ("previous_band", "text"), ("clv", "float8"),
        ("value_at_risk", "float8"), ("model_version", "text"), ("cause_event_id", "text"),
        ("why", "text"),
    ),
)  # fmt: skip


async def insert_history(pg: Pg, rows: Sequence[tuple[ScoreRecord, str | None, Why]]) -> None:
    if not rows:
        return
    m = [r for r, _, _ in rows]
    await pg.execute(
        _HISTORY.sql,
        [x.customer_id for x in m],
        [x.event_time for x in m],
        [x.churn_probability for x in m],
        [x.band for x in m],
        [prev for _, prev, _ in rows],
        [x.clv for x in m],
        [x.value_at_risk for x in m],
        [x.model_version for x in m],
        [x.cause_event_id for x in m],
        [why for _, _, why in rows],
    )


_TRANSITIONS = BulkInsert(
    "lifecycle_transitions",
    (
        ("customer_id", "text"),
        ("stage", "text"),
        ("previous", "text"),
        ("event_time", "timestamptz"),
    ),
)


async def insert_transitions(pg: Pg, rows: Sequence[tuple[str, str, str | None, datetime]]) -> None:
    if not rows:
        return
    ids, stages, previous, times = zip(*rows, strict=True)
    await pg.execute(_TRANSITIONS.sql, list(ids), list(stages), list(previous), list(times))


_DUE = BulkInsert(
    "silence_due",
    (("customer_id", "text"), ("partition", "int"), ("due_at", "timestamptz")),
    conflict="ON CONFLICT (customer_id) DO UPDATE SET partition = EXCLUDED.partition,"
    " due_at = EXCLUDED.due_at",
)


async def write_due(pg: Pg, rows: Sequence[tuple[str, int, datetime | None]]) -> None:
    """Set each customer's next silence due time; ``None`` removes them from the index."""
    sets = [r for r in rows if r[2] is not None]
    gone = [r[0] for r in rows if r[2] is None]
    if sets:
        await pg.execute(_DUE.sql, [r[0] for r in sets], [r[1] for r in sets], [r[2] for r in sets])
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


_SNAPSHOTS = (
    "WITH fs AS (INSERT INTO label_feature_sets (id, names) VALUES ($8, $9::text[])"
    " ON CONFLICT (id) DO NOTHING)"
    " INSERT INTO label_snapshots (customer_id, day, partition, taken_at, feature_set, vector,"
    " business_model, label_due_at, last_activity_at)"
    " SELECT u.c, u.d, u.p, u.t, $8, u.v, u.b, u.l, u.a"
    " FROM unnest($1::text[], $2::date[], $3::int[], $4::timestamptz[], $5::bytea[],"
    " $6::text[], $7::timestamptz[], $10::timestamptz[]) AS u(c, d, p, t, v, b, l, a)"
    " ON CONFLICT (customer_id, day) DO NOTHING"
)


async def insert_snapshots(pg: Pg, rows: Sequence[SnapshotRow]) -> None:
    """At most one per customer and day; a re-processed batch finds its rows already there.

    Features are stored compact (`churnwatch.storage.encode_features`: float32 values, the name
    tuple once in ``label_feature_sets``): one statement per name set, in practice one.
    """
    if not rows:
        return
    groups: dict[tuple[str, ...], list[tuple[SnapshotRow, bytes]]] = {}
    for row in rows:
        names, vector = encode_features(row.features)
        groups.setdefault(names, []).append((row, vector))
    for names, group in groups.items():
        await pg.execute(
            _SNAPSHOTS,
            [r.customer_id for r, _ in group], [r.day for r, _ in group],
            [r.partition for r, _ in group], [r.taken_at for r, _ in group],
            [v for _, v in group], [r.business_model for r, _ in group],
            [r.label_due_at for r, _ in group], feature_set_id(names), list(names),
            [r.last_activity_at for r, _ in group],
        )  # fmt: skip
