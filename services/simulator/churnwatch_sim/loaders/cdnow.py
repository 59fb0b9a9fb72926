"""CDNOW: the real transaction log that ships with ``lifetimes``, as ``purchase`` events.

``lifetimes/datasets/CDNOW_master.txt`` holds 69,659 purchases by 23,570 customers of the CDNOW
online music store from 1997-01-01 to 1998-06-30: customer id, date ``YYYYMMDD``, number of CDs,
amount in USD (an optional header line, whitespace-separated columns).

Choices, so that the events can be checked against ``lifetimes`` on the same data:

- **One event per row.** A customer can buy several times on one day (1,774 customer-days do);
  each row stays its own purchase with its own ``order_id``. ``lifetimes`` counts *days with a
  purchase* (``freq="D"``) and sums the amounts of a day; :func:`~.summary.rfm_summary` does the
  same from the events, so both give the same frequency, recency, T and monetary value.
- **Time of day.** The log has dates only: the k-th purchase (k = 0, 1, ...) of a customer on a
  day happens at 12:00 UTC + k minutes, so a customer's events are strictly ordered in event time
  and stay on the same calendar day in every time zone from UTC-11 to UTC+11.
- **Ids.** ``event_id`` = ``{source}:{customer}:{YYYYMMDD}:{line}`` (``line`` is the file's
  1-based line number) and ``order_id`` = ``{source}-{customer}-{YYYYMMDD}-{k+1}``: a replay of the
  same file re-sends the same ids, so the pipeline drops the duplicates.
- **Amounts.** Taken verbatim as decimal strings (no float round trip); zero amounts (80 rows) are
  valid purchases (``amount >= 0``). ``items`` is the number of CDs (always >= 1 in the file).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._common import (
    CUSTOMER_ID_RE,
    EVENT_ID_RE,
    BadRowError,
    InvalidValue,
    MappingError,
    RowError,
    parse_amount,
    purchase_event,
)

__all__ = ["CDNOW_COLUMNS", "cdnow_path", "iter_cdnow", "iter_cdnow_lines"]

CDNOW_COLUMNS = ("customer_id", "date", "number_of_cds", "dollar_value")
_NOON = timedelta(hours=12)


def cdnow_path() -> Path:
    """The ``CDNOW_master.txt`` installed with ``lifetimes`` (found without importing it).

    >>> cdnow_path().name
    'CDNOW_master.txt'
    """
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise MappingError("the lifetimes package is not installed: pass the CDNOW file's path")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_master.txt"


def iter_cdnow(
    path: Path | None = None, *, source: str = "cdnow", customer_prefix: str = ""
) -> Iterator[dict[str, Any]]:
    """The purchase events of a CDNOW file (default: the one shipped with ``lifetimes``)."""
    with (path or cdnow_path()).open(encoding="ascii", newline=None) as lines:
        yield from iter_cdnow_lines(lines, source=source, customer_prefix=customer_prefix)


def iter_cdnow_lines(
    lines: Iterable[str], *, source: str = "cdnow", customer_prefix: str = ""
) -> Iterator[dict[str, Any]]:
    """Purchase events from CDNOW lines; a malformed line raises :class:`BadRowError`.

    >>> rows = [" customer_id  date number_of_cds  dollar_value",
    ...         " 00002 19970112  1   12.00", " 00002 19970112  5   77.00"]
    >>> [(e["event_id"], e["occurred_at"], e["attributes"]["amount"], e["attributes"]["items"])
    ...  for e in iter_cdnow_lines(rows)]  # doctest: +NORMALIZE_WHITESPACE
    [('cdnow:00002:19970112:2', '1997-01-12T12:00:00Z', '12.00', 1),
     ('cdnow:00002:19970112:3', '1997-01-12T12:01:00Z', '77.00', 5)]
    """
    if not EVENT_ID_RE.fullmatch(source) or len(source) > 64:
        raise MappingError(f"source {source!r} must be 1-64 chars of [A-Za-z0-9._:-]")
    per_day: dict[tuple[str, str], int] = {}
    row = 0
    for line_no, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or (line_no == 1 and fields[0] == CDNOW_COLUMNS[0]):
            continue
        row += 1
        customer, day, count, amount, moment = _parse(fields, line_no, row)
        customer_id = customer_prefix + customer
        if not CUSTOMER_ID_RE.fullmatch(customer_id):
            message = "customer id must be 1-64 chars of [A-Za-z0-9._:@-]"
            error = RowError(
                line_no, row, "customer_id", "invalid_customer_id", message, customer_id
            )
            raise BadRowError(error)
        k = per_day.get((customer, day), 0)
        per_day[customer, day] = k + 1
        yield purchase_event(
            event_id=f"{source}:{customer}:{day}:{line_no}",
            customer_id=customer_id,
            occurred_at=moment + _NOON + timedelta(minutes=k),
            source=source,
            order_id=f"{source}-{customer}-{day}-{k + 1}",
            amount=amount,
            currency="USD",
            items=count,
        )


@functools.lru_cache(maxsize=4096)
def _midnight(day: str) -> datetime:
    if len(day) != 8 or not day.isdigit():
        raise ValueError(day)
    return datetime(int(day[:4]), int(day[4:6]), int(day[6:]), tzinfo=UTC)


def _parse(fields: list[str], line: int, row: int) -> tuple[str, str, int, Decimal, datetime]:
    def bad(column: str | None, code: str, message: str, value: str | None) -> BadRowError:
        return BadRowError(RowError(line, row, column, code, message, value))

    if len(fields) != len(CDNOW_COLUMNS):
        raise bad(None, "wrong_field_count", f"expected 4 fields, got {len(fields)}", None)
    customer, day, count_text, amount_text = fields
    try:
        moment = _midnight(day)
    except ValueError:
        raise bad("date", "invalid_date", "expected a date YYYYMMDD", day) from None
    if not count_text.isdigit() or int(count_text) < 1:
        raise bad("number_of_cds", "invalid_items", "expected an integer >= 1", count_text)
    try:
        amount = parse_amount(amount_text)
    except InvalidValue as exc:
        raise bad("dollar_value", exc.code, exc.message, amount_text) from None
    return customer, day, int(count_text), amount, moment
