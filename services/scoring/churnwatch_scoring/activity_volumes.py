"""How often each activity name is used: what the learner picks the activity vocabulary from.

The worker adds each batch's ``feature_use`` uses per (event day, name) to ``activity_volumes``
in the batch's own transaction, so a replayed batch does not count twice (docs/model.md
"Activity vocabulary"). Bounded per batch: only its `PER_BATCH` largest names are written, so a
source sending a new name with every event cannot grow the table by a batch's size each time.
Duplicates that the profile later ignores are counted too: volumes only rank names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date

from churnwatch.events import Event, FeatureUseEvent
from churnwatch_runtime.db import Pg

__all__ = ["PER_BATCH", "add", "batch_volumes"]

PER_BATCH = 64
"""Names written per batch, the largest by uses (ties: by name)."""


def batch_volumes(events: Iterable[Event]) -> dict[tuple[date, str], int]:
    """Uses per (UTC event day, activity name) of the ``feature_use`` events, at most
    `PER_BATCH` names.

    >>> from datetime import datetime
    >>> from churnwatch.events import EXAMPLES, EventType, parse_event
    >>> use = parse_event(EXAMPLES[EventType.FEATURE_USE], now=datetime(2100, 1, 1, tzinfo=UTC))
    >>> {(d.isoformat(), n): k for (d, n), k in batch_volumes([use, use]).items()}  # 3 uses each
    {('2026-03-01', 'wishlist'): 6}
    """
    uses: defaultdict[tuple[date, str], int] = defaultdict(int)
    per_name: defaultdict[str, int] = defaultdict(int)
    for ev in events:
        if isinstance(ev, FeatureUseEvent):
            name, count = ev.attributes.feature, ev.attributes.count
            uses[(ev.occurred_at.astimezone(UTC).date(), name)] += count
            per_name[name] += count
    if len(per_name) > PER_BATCH:
        kept = set(sorted(per_name, key=lambda n: (-per_name[n], n))[:PER_BATCH])
        return {key: n for key, n in uses.items() if key[1] in kept}
    return dict(uses)


async def add(pg: Pg, volumes: dict[tuple[date, str], int]) -> None:
    """Add a batch's volumes (one statement; nothing for none)."""
    if not volumes:
        return
    keys = sorted(volumes)  # a fixed order: concurrent workers lock the rows in the same order
    await pg.execute(
        "INSERT INTO activity_volumes (day, name, uses)"
        " SELECT u.d, u.n, u.k FROM unnest($1::date[], $2::text[], $3::bigint[]) AS u(d, n, k)"
        " ON CONFLICT (day, name) DO UPDATE SET uses = activity_volumes.uses + EXCLUDED.uses",
        [d for d, _ in keys],
        [n for _, n in keys],
        [volumes[k] for k in keys],
    )
