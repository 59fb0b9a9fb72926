"""The webhook dispatcher's SQL (tables ``webhook_deliveries``, ``webhook_endpoints``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from churnwatch_runtime.db import Pg, transpose

_DUE = (
    "SELECT d.id, d.action_id, d.attempts, d.body, e.url, e.secret FROM webhook_deliveries d"
    " JOIN webhook_endpoints e ON e.id = d.endpoint_id"
    " WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND e.enabled"
    " ORDER BY d.next_attempt_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED"
)
_RESULT = (
    "UPDATE webhook_deliveries AS d SET status = u.s, attempts = u.a,"
    " next_attempt_at = now() + u.w * interval '1 second', last_error = u.e,"
    " delivered_at = CASE WHEN u.s = 'delivered' THEN now() END"
    " FROM unnest($1::bigint[], $2::text[], $3::int[], $4::float8[], $5::text[])"
    " AS u(id, s, a, w, e) WHERE d.id = u.id"
)


async def due_deliveries(pg: Pg, limit: int) -> list[Any]:
    """Up to ``limit`` pending deliveries due now to enabled endpoints, oldest due first,
    locked ``FOR UPDATE SKIP LOCKED`` (another instance takes the others)."""
    rows: list[Any] = await pg.fetch(_DUE, limit)
    return rows


async def record_results(
    pg: Pg, results: Sequence[tuple[int, str, int, float, str | None]]
) -> None:
    """Each delivery's next state: ``(id, status, attempts, wait seconds, last error)``."""
    await pg.execute(_RESULT, *transpose(results, 5))
