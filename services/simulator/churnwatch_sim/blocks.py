"""A simulated day's events kept as columns, sorted by time and rendered to JSON in chunks.

Generators add *blocks*: one event type with numpy columns (customer, time of day, attribute
values). Nothing is turned into text until a chunk of the day, in event-time order, is asked for:
each line is one ``%``-template applied to one row, which is several times faster than building
dicts and keeps a million-customer day in a few hundred MB.

Every line starts with ``{"occurred_at":"<24 characters>"``, so the live clock can re-stamp an
event with wall-clock time by slicing (:func:`restamp`) instead of re-serialising it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from churnwatch_sim.timing import HMS

__all__ = [
    "ROW",
    "Block",
    "DayEvents",
    "Labels",
    "money",
    "restamp",
]

_TS_START, _TS_END = 16, 40


@dataclass(frozen=True, slots=True)
class Labels:
    """A categorical column: integer ``codes`` into ``labels``."""

    codes: NDArray[np.integer[Any]]
    labels: Sequence[str]


class _Row:
    """Marker for "the row number", usable as an attribute column (unique ids)."""


ROW = _Row()
Column = NDArray[Any] | Labels | _Row


def money(cents: NDArray[np.integer[Any]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Two columns (units, hundredths) rendering an amount with ``%d.%02d``.

    >>> [c.tolist() for c in money(np.array([5990, 7]))]
    [[59, 0], [90, 7]]
    """
    units, hundredths = np.divmod(cents.astype(np.int64), 100)
    return units, hundredths


def restamp(line: str, timestamp: str) -> str:
    """The same event with ``occurred_at`` replaced by a 24-character ``timestamp``.

    >>> restamp('{"occurred_at":"2025-01-06T00:00:00.000Z","x":1}', "2026-03-01T10:15:00.250Z")
    '{"occurred_at":"2026-03-01T10:15:00.250Z","x":1}'
    """
    return line[:_TS_START] + timestamp + line[_TS_END:]


@dataclass(slots=True)
class Block:
    """Events of one type: row ``r`` is customer ``cust[r]`` at ``ms[r]`` with its columns."""

    event_type: str
    source: str
    cust: NDArray[np.int32]
    ms: NDArray[np.int32]
    attributes: str  # %-template of the attributes object's body
    columns: tuple[Column, ...] = ()
    value: NDArray[np.int64] | None = None  # revenue in cents per row (refunds negative)

    def __len__(self) -> int:
        return len(self.cust)

    def select(self, keep: NDArray[np.bool_]) -> Block:
        """The rows where ``keep`` is true (columns follow; row numbers are renumbered)."""
        cols = tuple(
            c
            if isinstance(c, _Row)
            else Labels(c.codes[keep], c.labels)
            if isinstance(c, Labels)
            else c[keep]
            for c in self.columns
        )
        value = None if self.value is None else self.value[keep]
        return Block(
            self.event_type,
            self.source,
            self.cust[keep],
            self.ms[keep],
            self.attributes,
            cols,
            value,
        )


class DayEvents:
    """All events of simulated ``day``; iterate :meth:`chunks` for JSON lines in time order."""

    def __init__(self, *, day: int, date: date, tag: str, id_width: int, blocks: list[Block]):
        self.day = day
        self.date = date
        self.blocks = [b for b in blocks if len(b)]
        sizes = np.array([len(b) for b in self.blocks], dtype=np.int64)
        self.count = int(sizes.sum())
        if self.count:
            all_ms = np.concatenate([b.ms for b in self.blocks])
            self._order = np.argsort(all_ms, kind="stable")
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            block_of = np.repeat(np.arange(len(self.blocks), dtype=np.int32), sizes)
            self._block = block_of[self._order]
            self._row = (self._order - starts[self._block]).astype(np.int64)
        prefix = '{"occurred_at":"' + date.isoformat() + 'T%s.%03dZ","event_id":"' + f"{tag}-{day}-"
        self._templates = [
            prefix
            + f"{k}-%d"
            + '","event_type":"'
            + b.event_type
            + f'","customer_id":"C-%0{id_width}d","source":"'
            + b.source
            + '","schema_version":1,"attributes":{'
            + b.attributes
            + "}}"
            for k, b in enumerate(self.blocks)
        ]

    def counts_by_type(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for b in self.blocks:
            counts[b.event_type] += len(b)
        return counts

    def chunks(self, size: int) -> Iterator[list[str]]:
        """The day's events as JSON lines, ``size`` at a time, sorted by event time."""
        for lo in range(0, self.count, size):
            yield self._render(lo, min(lo + size, self.count))

    def _render(self, lo: int, hi: int) -> list[str]:
        blocks, rows = self._block[lo:hi], self._row[lo:hi]
        out: list[str] = [""] * (hi - lo)
        for k in np.unique(blocks).tolist():
            where = np.flatnonzero(blocks == k)
            lines = _render_rows(self.blocks[k], self._templates[k], rows[where])
            for pos, line in zip(where.tolist(), lines, strict=True):
                out[pos] = line
        return out


def _render_rows(block: Block, template: str, rows: NDArray[np.int64]) -> list[str]:
    ms = block.ms[rows]
    sec, milli = np.divmod(ms, 1000)
    row_list = rows.tolist()
    cols: list[list[Any]] = [
        [HMS[s] for s in sec.tolist()],
        milli.tolist(),
        row_list,
        block.cust[rows].tolist(),
    ]
    for col in block.columns:
        if isinstance(col, _Row):
            cols.append(row_list)
        elif isinstance(col, Labels):
            labels = col.labels
            cols.append([labels[c] for c in col.codes[rows].tolist()])
        else:
            cols.append(col[rows].tolist())
    return [template % args for args in zip(*cols, strict=True)]
