"""Complaints and tickets by id: small bounded tables whose entries are min/max of times.

An entry is ``[first opened, last opened, last resolved, ...]`` (0 = never): it is open when it
was (re)opened after its last resolution, whatever order the events came in. Resolved entries
are forgotten `TABLE_HORIZON_DAYS` before the latest event, and late events about ids no longer
(or never) tracked that are older than that are ignored. Past capacity, the entry resolved
longest ago goes first, then the oldest open one.
"""

from __future__ import annotations

from zlib import crc32

from ._clock import DAY
from ._state import TABLE_HORIZON_DAYS

__all__ = ["prune", "track"]

_HORIZON = TABLE_HORIZON_DAYS * DAY


def track(
    table: dict[int, list[int]], name: str, t: int, newest: int, *, closes: bool, size: int
) -> list[int] | None:
    """Record an open (``closes=False``) or a resolution of id ``name`` at ``t``; the entry.

    >>> table: dict[int, list[int]] = {}
    >>> track(table, "K-1", 500, 500, closes=True, size=3)
    [0, 0, 500]
    >>> track(table, "K-1", 400, 500, closes=False, size=3)  # late: still resolved
    [400, 400, 500]
    """
    key = crc32(name.encode())
    entry = table.get(key)
    if entry is None:
        if t < newest - _HORIZON:
            return None
        entry = table[key] = [0] * size
    if closes:
        if t > entry[2]:
            entry[2] = t
    else:
        if t < entry[0] or not entry[0]:
            entry[0] = t
        if t > entry[1]:
            entry[1] = t
    return entry


def prune(table: dict[int, list[int]], newest: int, capacity: int) -> None:
    """Forget resolved entries past the horizon, then evict down to ``capacity``.

    >>> table = {1: [10, 10, 0], 2: [5, 5, 8], 3: [20, 20, 0]}
    >>> prune(table, 30, 2)
    >>> sorted(table)
    [1, 3]
    """
    cutoff = newest - _HORIZON
    for key in [k for k, e in table.items() if e[1] <= e[2] < cutoff]:
        del table[key]
    while len(table) > capacity:
        del table[min(table, key=lambda k: _eviction_order(k, table[k]))]


def _eviction_order(key: int, entry: list[int]) -> tuple[bool, int, int]:
    is_open = entry[1] > entry[2]
    return (is_open, entry[0] if is_open else entry[2], key)
