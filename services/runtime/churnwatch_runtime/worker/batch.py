"""A batch: the records of one ``getmany`` call, grouped by partition, handled in one transaction.

Records keep their per-partition order; a processor that works per key (per customer) can iterate
partition by partition and never sees one key's events out of order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import TopicPartition


class Record(Protocol):
    """What the worker needs of a consumed record (aiokafka's ``ConsumerRecord`` fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> Any: ...
    @property
    def value(self) -> Any: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(frozen=True)
class Batch:
    """Records by partition; ``next_offsets()`` is what the transaction stores with the state.

    >>> from types import SimpleNamespace as R
    >>> tp = TopicPartition("t", 0)
    >>> b = Batch({tp: [R(topic="t", partition=0, offset=5), R(topic="t", partition=0, offset=7)]})
    >>> len(b), b.next_offsets()
    (2, {TopicPartition(topic='t', partition=0): 8})
    """

    by_partition: Mapping[TopicPartition, Sequence[Record]]
    _size: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_size", sum(len(r) for r in self.by_partition.values()))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Record]:
        """All records, partition after partition (order within a partition is kept)."""
        for records in self.by_partition.values():
            yield from records

    @property
    def partitions(self) -> frozenset[TopicPartition]:
        return frozenset(tp for tp, records in self.by_partition.items() if records)

    def next_offsets(self) -> dict[TopicPartition, int]:
        """Per partition, the offset to resume from once this batch is committed."""
        return {tp: records[-1].offset + 1 for tp, records in self.by_partition.items() if records}


def group_records(records: Sequence[Record]) -> dict[TopicPartition, list[Record]]:
    """Group records by partition, keeping their order (for tests and replays from a list).

    >>> from types import SimpleNamespace as R
    >>> a, b = R(topic="t", partition=1, offset=0), R(topic="t", partition=0, offset=3)
    >>> g = group_records([a, b])
    >>> sorted((tp.partition, [r.offset for r in rs]) for tp, rs in g.items())
    [(0, [3]), (1, [0])]
    """
    grouped: dict[TopicPartition, list[Record]] = {}
    for record in records:
        grouped.setdefault(TopicPartition(record.topic, record.partition), []).append(record)
    return grouped
