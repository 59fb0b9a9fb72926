"""The at-risk list: filtered, sorted, keyset-paged reads of ``latest_scores`` (and a CSV stream).

One row per customer in ``latest_scores`` (what scoring last said). Sorting is always by a sort
column then ``customer_id`` — a total order, so a page boundary never skips or repeats a row
while scores change — and served by the ``(sort column, customer_id)`` indexes of migration 0032,
so the first page at 1M customers reads a few dozen index entries instead of sorting everyone.

The query text is built by the pure `build_query` (unit-tested); values always travel as
parameters, only whitelisted column names are spliced in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db import raw_connection

__all__ = [
    "AT_RISK_BANDS",
    "SORTS",
    "AtRiskFilter",
    "AtRiskRow",
    "build_query",
    "fetch_page",
    "stream_rows",
]

Sort = Literal["value_at_risk", "churn_probability", "clv", "event_time"]
SORTS: dict[str, str] = {
    "value_at_risk": "value_at_risk",
    "churn_probability": "churn_probability",
    "clv": "clv",
    "event_time": "event_time",  # the last change of the customer's score (event time)
}
AT_RISK_BANDS = ("high", "critical")
"""The bands listed when the caller names none (the at-risk list of ``churnwatch at-risk``)."""

_OPEN = "('open', 'assigned', 'in_progress')"
_BASE = (
    "s.customer_id, s.band, s.churn_probability, s.tier, s.lifecycle_stage, s.rfm_segment,"
    " s.clv, s.clv_low, s.clv_high, s.value_if_retained, s.value_at_risk, s.reasons,"
    " s.event_time"
)
COLUMNS = (
    f"{_BASE}, EXISTS (SELECT 1 FROM tasks t WHERE t.customer_id = s.customer_id"
    f" AND t.state IN {_OPEN}) AS has_open_task"
)
BY_BAND_AND_TIER = frozenset({"value_at_risk"})
"""Sorts with a (band, tier, sort column, customer_id) index (migration 0032): a page filtered
by tier reads each (band, tier) pair's first rows from it and merges them. Without it, a rare
pair (critical bronze customers hold little value at risk) made the sort index walk 136,000 rows
for one page at 1M customers (1.5-2 s; bench/bench_api.py)."""


@dataclass(frozen=True, slots=True)
class AtRiskFilter:
    """What the caller filters on; an empty tuple means "any" (bands: `AT_RISK_BANDS`).
    ``playbook``: customers that playbook matched (an exposure, treated or holdout)."""

    bands: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    playbook: str | None = None
    has_open_task: bool | None = None

    def slug(self) -> str:
        """The filters in words fit for a file name.

        >>> AtRiskFilter(tiers=("gold", "platinum"), has_open_task=False).slug()
        'band-high+critical_tier-gold+platinum_open-task-no'
        """
        parts = [f"band-{'+'.join(self.bands or AT_RISK_BANDS)}"]
        for name, values in (("tier", self.tiers), ("segment", self.segments),
                             ("stage", self.stages)):  # fmt: skip
            if values:
                parts.append(f"{name}-{'+'.join(values)}")
        if self.playbook:
            safe = "".join(c for c in self.playbook if c.isalnum() or c in "_-")
            parts.append(f"playbook-{safe}")
        if self.has_open_task is not None:
            parts.append(f"open-task-{'yes' if self.has_open_task else 'no'}")
        return "_".join(parts)


@dataclass(frozen=True, slots=True)
class AtRiskRow:
    """One customer on the list."""

    customer_id: str
    band: str
    churn_probability: float
    tier: str
    lifecycle_stage: str
    rfm_segment: str | None
    clv: float
    clv_low: float | None
    clv_high: float | None
    value_if_retained: float | None
    value_at_risk: float
    reasons: list[Any]
    event_time: datetime
    has_open_task: bool


def build_query(
    f: AtRiskFilter, sort: str, order: str, after: Sequence[Any] | None, limit: int | None
) -> tuple[str, list[Any]]:
    r"""SQL and parameters of one page (``limit`` None: every row, for the export).

    >>> sql, params = build_query(AtRiskFilter(tiers=("gold",), has_open_task=True),
    ...                           "clv", "desc", (900.0, "C-9"), 51)
    >>> print(sql[sql.index("FROM latest_scores") + 21:].replace(" AND ", "\n AND "))
    WHERE s.band = ANY($1::text[])
     AND s.tier = ANY($2::text[])
     AND EXISTS (SELECT 1 FROM tasks t WHERE t.customer_id = s.customer_id
     AND t.state IN ('open', 'assigned', 'in_progress'))
     AND (s.clv, s.customer_id) < ($3, $4) ORDER BY s.clv DESC, s.customer_id DESC LIMIT 51
    >>> params
    [['high', 'critical'], ['gold'], 900.0, 'C-9']
    >>> sql, params = build_query(AtRiskFilter(tiers=("gold", "gold")), "value_at_risk", "desc",
    ...                           None, 51)
    >>> "CROSS JOIN LATERAL" in sql, params
    (True, [['critical', 'high'], ['gold']])
    >>> build_query(AtRiskFilter(), "name", "desc", None, 1)
    Traceback (most recent call last):
    ...
    ValueError: unknown sort 'name'
    """
    column = SORTS.get(sort)
    if column is None:
        raise ValueError(f"unknown sort {sort!r}")
    if order not in ("asc", "desc"):
        raise ValueError(f"unknown order {order!r}")
    params: list[Any] = []

    def p(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    pairs = bool(f.tiers) and column in BY_BAND_AND_TIER and limit is not None
    if pairs:  # one index range per (band, tier) pair, merged (see BY_BAND_AND_TIER)
        bands, tiers = p(sorted(set(f.bands or AT_RISK_BANDS))), p(sorted(set(f.tiers)))
        where = ["s.band = b.band", "s.tier = t.tier"]
    else:
        where = [f"s.band = ANY({p(list(f.bands or AT_RISK_BANDS))}::text[])"]
    for col, values in (("tier", () if pairs else f.tiers), ("rfm_segment", f.segments),
                        ("lifecycle_stage", f.stages)):  # fmt: skip
        if values:
            where.append(f"s.{col} = ANY({p(list(values))}::text[])")
    if f.playbook is not None:
        where.append(
            "EXISTS (SELECT 1 FROM exposures e WHERE e.customer_id = s.customer_id"
            f" AND e.playbook_id = {p(f.playbook)})"
        )
    if f.has_open_task is not None:
        exists = (
            "EXISTS (SELECT 1 FROM tasks t WHERE t.customer_id = s.customer_id"
            f" AND t.state IN {_OPEN})"
        )
        where.append(exists if f.has_open_task else f"NOT {exists}")
    if after is not None:
        op = "<" if order == "desc" else ">"
        where.append(f"(s.{column}, s.customer_id) {op} ({p(after[0])}, {p(after[1])})")
    direction = order.upper()
    if pairs:
        by = f"{column} {direction}, customer_id {direction} LIMIT {int(limit or 0)}"
        page = f"SELECT {_BASE} FROM latest_scores s WHERE {' AND '.join(where)} ORDER BY s.{by}"
        return (
            f"SELECT x.*, EXISTS (SELECT 1 FROM tasks k WHERE k.customer_id = x.customer_id"
            f" AND k.state IN {_OPEN}) AS has_open_task FROM unnest({bands}::text[]) AS b(band)"
            f" CROSS JOIN unnest({tiers}::text[]) AS t(tier) CROSS JOIN LATERAL ({page}) x"
            f" ORDER BY x.{by}"
        ), params
    sql = (
        f"SELECT {COLUMNS} FROM latest_scores s WHERE {' AND '.join(where)}"
        f" ORDER BY s.{column} {direction}, s.customer_id {direction}"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params


def _row(record: Any) -> AtRiskRow:
    values = dict(record)
    reasons = values["reasons"]
    if isinstance(reasons, str | bytes):
        values["reasons"] = orjson.loads(reasons)
    return AtRiskRow(**values)


async def fetch_page(
    engine: AsyncEngine, f: AtRiskFilter, *, sort: str = "value_at_risk", order: str = "desc",
    after: Sequence[Any] | None = None, limit: int = 50,
) -> tuple[list[AtRiskRow], bool]:  # fmt: skip
    """Up to ``limit`` rows after the cursor values ``after``, and whether more follow."""
    sql, params = build_query(f, sort, order, after, limit + 1)
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        rows = [_row(r) for r in await pg.fetch(sql, *params)]
    return rows[:limit], len(rows) > limit


async def stream_rows(
    engine: AsyncEngine, f: AtRiskFilter, *, sort: str = "value_at_risk", order: str = "desc",
    chunk: int = 2_000,
) -> AsyncIterator[list[AtRiskRow]]:  # fmt: skip
    """Every matching row in list order, ``chunk`` at a time, through a server-side cursor
    (one read-only transaction: the export is one consistent snapshot, memory stays flat)."""
    sql, params = build_query(f, sort, order, None, None)
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        async with pg.transaction(readonly=True, isolation="repeatable_read"):
            cursor = await pg.cursor(sql, *params)
            while True:
                batch = await cursor.fetch(chunk)
                if not batch:
                    return
                yield [_row(r) for r in batch]
