"""What the live stream polls: band changes (``score_history``) and task steps (``task_audit``).

Both tables have increasing ids, so a poll asks for rows after the last id it saw. Ids are taken
when a transaction inserts, not when it commits: a slow transaction can make a lower id visible
after a higher one. Callers therefore re-read a window of recent ids and drop those already sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db import raw_connection

__all__ = ["LiveRow", "changes", "heads"]

_BANDS = """
SELECT id, customer_id, band, previous_band, churn_probability, value_at_risk, event_time
FROM score_history
WHERE id > $1 AND id <= $2
  AND (why = 'band_change' OR (why = 'first' AND band IN ('high', 'critical')))
ORDER BY id LIMIT $3
"""
_TASKS = """
SELECT a.id, a.task_id, t.customer_id, t.playbook_id, t.team, a.from_state, a.to_state,
       a.assignee, a.actor, a.at
FROM task_audit a JOIN tasks t ON t.task_id = a.task_id
WHERE a.id > $1 AND a.id <= $2
ORDER BY a.id LIMIT $3
"""


@dataclass(frozen=True, slots=True)
class LiveRow:
    """One change: ``source`` ``score`` (a band change) or ``task`` (a task step), its row id."""

    source: str
    id: int
    data: dict[str, Any]


def _plain(row: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in dict(row).items()}


async def heads(engine: AsyncEngine) -> tuple[int, int]:
    """The newest ids of both tables (where a stream without a resume point starts)."""
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        score = await pg.fetchval("SELECT coalesce(max(id), 0) FROM score_history")
        audit = await pg.fetchval("SELECT coalesce(max(id), 0) FROM task_audit")
    return int(score), int(audit)


async def changes(
    engine: AsyncEngine, after: tuple[int, int], upto: tuple[int, int] | None = None,
    limit: int = 1_000,
) -> list[LiveRow]:  # fmt: skip
    """Band changes and task steps with ids after ``after`` (score id, audit id) and at most
    ``upto`` (None: no bound), each source in id order, bands first."""
    big = 2**62
    hi = upto or (big, big)
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        bands = await pg.fetch(_BANDS, after[0], hi[0], limit)
        steps = await pg.fetch(_TASKS, after[1], hi[1], limit)
    out = [LiveRow("score", r["id"], _plain(r)) for r in bands]
    out += [LiveRow("task", r["id"], _plain(r)) for r in steps]
    return out
