"""Reads of the model's records: the newest checkpoint's quality, the quality history (one
``model_records`` row of kind ``quality`` per checkpoint) and the learner's decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db import json_object, raw_connection


@dataclass(frozen=True, slots=True)
class Checkpoint:
    version: int
    model_version: str
    created_at: datetime
    labels_seen: int
    quality: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordRow:
    kind: str
    at: datetime
    detail: dict[str, Any]


async def latest(engine: AsyncEngine) -> Checkpoint | None:
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        r = await pg.fetchrow(
            "SELECT version, model_version, created_at, labels_seen, quality"
            " FROM model_checkpoints ORDER BY version DESC LIMIT 1"
        )
    if r is None:
        return None
    return Checkpoint(int(r[0]), r[1], r[2], int(r[3]), json_object(r[4]))


async def records(
    engine: AsyncEngine, kinds: tuple[str, ...], limit: int, exclude: bool = False
) -> list[RecordRow]:
    """The newest ``limit`` records of ``kinds`` (or of every other kind), oldest first."""
    op = "<> ALL" if exclude else "= ANY"
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = await pg.fetch(
            f"SELECT kind, at, detail FROM model_records WHERE kind {op}($1::text[])"
            " ORDER BY at DESC, id DESC LIMIT $2",
            list(kinds), limit,
        )  # fmt: skip
    return [RecordRow(r[0], r[1], json_object(r[2])) for r in reversed(rows)]
