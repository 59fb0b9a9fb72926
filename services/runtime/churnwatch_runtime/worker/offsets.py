"""Offsets in PostgreSQL: the source of truth for where a worker resumes.

``OffsetTracker`` is the in-memory bookkeeping (pure, unit-tested): which partitions this worker
owns, the next offset to process and the value last stored in PostgreSQL. ``store_offsets`` writes
a batch's offsets *conditionally* — only where the stored value is still the one this worker
loaded — so a worker that lost a partition without noticing (a "zombie") cannot commit over the
new owner: its whole transaction, state changes included, is rolled back.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch_runtime.worker.batch import Batch, Record


class StaleOffsets(Exception):
    """The stored offsets moved under us: another worker processed the partition meanwhile."""


@dataclass(frozen=True, slots=True)
class OffsetUpdate:
    """One partition's move in a batch: ``stored`` is None when PostgreSQL has no row yet."""

    tp: TopicPartition
    stored: int | None
    next_offset: int


class OffsetTracker:
    """Positions of the partitions this worker owns (pure; the worker drives it).

    >>> t = OffsetTracker()
    >>> tp = TopicPartition("t", 0)
    >>> t.reset(tp, stored=None, position=0)
    >>> from types import SimpleNamespace as R
    >>> kept = t.accept({tp: [R(offset=0), R(offset=1)], TopicPartition("t", 9): [R(offset=0)]})
    >>> [(k.partition, [r.offset for r in v]) for k, v in kept.items()]
    [(0, [0, 1])]
    >>> updates = t.updates(Batch(kept))
    >>> updates
    [OffsetUpdate(tp=TopicPartition(topic='t', partition=0), stored=None, next_offset=2)]
    >>> t.committed(updates); t.position(tp), t.stored(tp)
    (2, 2)
    """

    def __init__(self) -> None:
        self._position: dict[TopicPartition, int] = {}
        self._stored: dict[TopicPartition, int | None] = {}

    def reset(self, tp: TopicPartition, *, stored: int | None, position: int) -> None:
        """Own ``tp`` from ``position`` (the stored offset, or the reset policy's if none)."""
        self._stored[tp] = stored
        self._position[tp] = position

    def forget(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            self._position.pop(tp, None)
            self._stored.pop(tp, None)

    def owns(self, tp: TopicPartition) -> bool:
        return tp in self._position

    @property
    def partitions(self) -> frozenset[TopicPartition]:
        return frozenset(self._position)

    def position(self, tp: TopicPartition) -> int:
        return self._position[tp]

    def stored(self, tp: TopicPartition) -> int | None:
        return self._stored[tp]

    def positions(self) -> dict[TopicPartition, int]:
        return dict(self._position)

    def accept(
        self, fetched: Mapping[TopicPartition, Sequence[Record]]
    ) -> dict[TopicPartition, list[Record]]:
        """Keep only records this worker should process now.

        Drops partitions it does not own (fetched before a revoke, or before their offsets were
        loaded) and records below the position (fetched before a seek). Gaps above the position
        are legal in Kafka (transaction markers, compaction), so they are kept.
        """
        kept: dict[TopicPartition, list[Record]] = {}
        for tp, records in fetched.items():
            if tp not in self._position:
                continue
            position = self._position[tp]
            fresh = [r for r in records if r.offset >= position]
            if fresh:
                kept[tp] = fresh
        return kept

    def updates(self, batch: Batch) -> list[OffsetUpdate]:
        """The offset moves that commit ``batch`` (stored → next offset per partition)."""
        return [
            OffsetUpdate(tp, self._stored[tp], next_offset)
            for tp, next_offset in batch.next_offsets().items()
        ]

    def committed(self, updates: Iterable[OffsetUpdate]) -> None:
        """Record that PostgreSQL now holds ``updates`` (call after the transaction commits)."""
        for u in updates:
            if u.tp in self._position:
                self._stored[u.tp] = u.next_offset
                self._position[u.tp] = max(self._position[u.tp], u.next_offset)


async def load_offsets(
    conn: AsyncConnection, group_id: str, tps: Collection[TopicPartition]
) -> dict[TopicPartition, int]:
    """Stored next offsets of ``tps`` for ``group_id``; partitions without a row are absent."""
    if not tps:
        return {}
    rows = await conn.execute(
        text(
            "SELECT o.topic, o.partition, o.next_offset FROM consumer_offsets o"
            " JOIN unnest(CAST(:topics AS text[]), CAST(:parts AS int[])) AS u(t, p)"
            " ON o.topic = u.t AND o.partition = u.p WHERE o.group_id = :group"
        ),
        {
            "group": group_id,
            "topics": [tp.topic for tp in tps],
            "parts": [tp.partition for tp in tps],
        },
    )
    return {TopicPartition(t, p): int(n) for t, p, n in rows}


async def store_offsets(
    conn: AsyncConnection, group_id: str, updates: Sequence[OffsetUpdate]
) -> None:
    """Move the stored offsets, or raise ``StaleOffsets`` if any row is not what we loaded.

    Inside the batch transaction: the conditional UPDATE takes the row locks, so two workers that
    both believe they own a partition are serialised, and the second one fails here.
    """
    existing = [u for u in updates if u.stored is not None]
    new = [u for u in updates if u.stored is None]
    done = 0
    if existing:
        result = await conn.execute(
            text(
                "UPDATE consumer_offsets o SET next_offset = u.n, updated_at = now()"
                " FROM unnest(CAST(:topics AS text[]), CAST(:parts AS int[]),"
                " CAST(:expected AS bigint[]), CAST(:nexts AS bigint[])) AS u(t, p, e, n)"
                " WHERE o.group_id = :group AND o.topic = u.t AND o.partition = u.p"
                " AND o.next_offset = u.e RETURNING o.partition"
            ),
            {
                "group": group_id,
                "topics": [u.tp.topic for u in existing],
                "parts": [u.tp.partition for u in existing],
                "expected": [u.stored for u in existing],
                "nexts": [u.next_offset for u in existing],
            },
        )
        done += len(result.all())
    if new:
        result = await conn.execute(
            text(
                "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset, updated_at)"
                " SELECT :group, u.t, u.p, u.n, now() FROM unnest(CAST(:topics AS text[]),"
                " CAST(:parts AS int[]), CAST(:nexts AS bigint[])) AS u(t, p, n)"
                " ON CONFLICT DO NOTHING RETURNING partition"
            ),
            {
                "group": group_id,
                "topics": [u.tp.topic for u in new],
                "parts": [u.tp.partition for u in new],
                "nexts": [u.next_offset for u in new],
            },
        )
        done += len(result.all())
    if done != len(updates):
        raise StaleOffsets(
            f"group {group_id}: {len(updates) - done} of {len(updates)} partitions moved meanwhile"
        )
