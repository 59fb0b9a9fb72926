"""Any CSV of transactions, mapped column by column onto ``purchase`` events.

The file needs a header line; :class:`CsvMapping` says which column holds what. Each data row
becomes one purchase, or one :class:`~._common.RowError` (line, row, column, reason) that is
counted in the :class:`~._common.LoadReport` and skipped, or raised with ``strict=True``.

Rules (each broken rule has its own error code, counted per code):

- required cells (customer id, date, amount) must be non-empty (``missing``); optional cells
  (currency, order id, items) take their default when empty;
- the row must have as many fields as the header (``wrong_field_count``);
- customer id: 1-64 chars of ``[A-Za-z0-9._:@-]`` after the prefix (``invalid_customer_id``);
- date: ``date_format`` (``strptime``) or ISO 8601 when none is given (``invalid_date``). A date
  without a time of day is taken at **12:00** in ``timezone``; a datetime without an offset is in
  ``timezone`` (default UTC). Not later than now + 5 minutes (``in_future``);
- amount: a decimal >= 0 (``invalid_amount``, ``negative_amount``), below 10^12
  (``amount_too_large``), at most 4 decimal places (``too_many_decimals``); ``decimal_comma``
  reads ``12,50``. Refunds (negative amounts) are not turned into ``refund`` events;
- currency: ISO 4217, upper-cased (``invalid_currency``); order id at most 128 chars
  (``invalid_order_id``); items an integer >= 1 (``invalid_items``).

``event_id`` = ``{source}:r{row}:{hash}`` (``hash``: 16 hex digits of BLAKE2b of customer id and
time): replaying the same file re-sends the same ids. Without an order id column, ``order_id`` =
``{source}-{row}``. Blank lines are ignored (neither read nor skipped).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._common import (
    CURRENCY_RE,
    CUSTOMER_ID_RE,
    EVENT_ID_RE,
    MAX_ID_LEN,
    BadRowError,
    InvalidValue,
    LoadReport,
    MappingError,
    RowError,
    parse_amount,
    purchase_event,
)

__all__ = ["FUTURE_TOLERANCE", "CsvMapping", "iter_csv", "iter_csv_lines", "parse_moment"]

FUTURE_TOLERANCE = timedelta(minutes=5)
_TIME_DIRECTIVES = frozenset("HIMSfpXcTRr")


@dataclass(frozen=True, slots=True)
class CsvMapping:
    """Which column holds what, and how to read the values.

    ``customer_id``, ``occurred_at``, ``amount``, ``currency``, ``order_id``, ``items`` are
    header names; ``currency`` (a column) or ``default_currency`` must be given.

    >>> CsvMapping(default_currency="EUR").amount
    'amount'
    >>> CsvMapping()
    Traceback (most recent call last):
      ...
    churnwatch_sim.loaders._common.MappingError: give a currency column or a default currency
    """

    customer_id: str = "customer_id"
    occurred_at: str = "date"
    amount: str = "amount"
    currency: str | None = None
    default_currency: str | None = None
    order_id: str | None = None
    items: str | None = None
    date_format: str | None = None
    timezone: str = "UTC"
    delimiter: str = ","
    decimal_comma: bool = False
    source: str = "csv"
    customer_prefix: str = ""

    def __post_init__(self) -> None:
        if self.currency is None and self.default_currency is None:
            raise MappingError("give a currency column or a default currency")
        if self.default_currency is not None and not CURRENCY_RE.fullmatch(self.default_currency):
            raise MappingError(f"default currency {self.default_currency!r} is not ISO 4217")
        if len(self.delimiter) != 1:
            raise MappingError(f"the delimiter must be one character, not {self.delimiter!r}")
        if not EVENT_ID_RE.fullmatch(self.source) or len(self.source) > 64:
            raise MappingError(f"source {self.source!r} must be 1-64 chars of [A-Za-z0-9._:-]")
        self.tz()  # fail now on an unknown zone

    def tz(self) -> tzinfo:
        if self.timezone.upper() == "UTC":
            return UTC
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(f"unknown time zone {self.timezone!r}") from None

    def columns(self) -> dict[str, str]:
        """Role → header name of every mapped column."""
        roles = {
            "customer_id": self.customer_id,
            "occurred_at": self.occurred_at,
            "amount": self.amount,
            "currency": self.currency,
            "order_id": self.order_id,
            "items": self.items,
        }
        return {role: name for role, name in roles.items() if name is not None}


def parse_moment(text: str, date_format: str | None, zone: tzinfo) -> datetime:
    """An aware datetime from a cell: dates alone at noon, naive datetimes in ``zone``.

    >>> parse_moment("2024-03-01", None, UTC).isoformat()
    '2024-03-01T12:00:00+00:00'
    >>> parse_moment("2024-03-01T10:15:00+02:00", None, UTC).isoformat()
    '2024-03-01T10:15:00+02:00'
    >>> parse_moment("01/03/2024 10:15", "%d/%m/%Y %H:%M", ZoneInfo("Europe/Paris")).isoformat()
    '2024-03-01T10:15:00+01:00'
    """
    if date_format is None:
        try:
            moment = datetime.combine(date.fromisoformat(text), time(12))
        except ValueError:
            moment = datetime.fromisoformat(text)
    else:
        moment = datetime.strptime(text, date_format)
        if not _has_time(date_format):
            moment = moment.replace(hour=12)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def iter_csv(
    path: Path,
    mapping: CsvMapping,
    *,
    report: LoadReport | None = None,
    strict: bool = False,
    encoding: str = "utf-8-sig",
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """The purchase events of a CSV file (see :func:`iter_csv_lines`)."""
    with path.open(encoding=encoding, newline="") as lines:
        yield from iter_csv_lines(lines, mapping, report=report, strict=strict, now=now)


def iter_csv_lines(
    lines: Iterable[str],
    mapping: CsvMapping,
    *,
    report: LoadReport | None = None,
    strict: bool = False,
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Purchase events from CSV lines; bad rows are counted in ``report`` and skipped.

    >>> report = LoadReport()
    >>> lines = ["customer,day,total", "c1,2024-03-01,59.90", "c2,2024-03-02,-1"]
    >>> mapping = CsvMapping(customer_id="customer", occurred_at="day", amount="total",
    ...                      default_currency="EUR", source="shop")
    >>> [e["attributes"]["amount"] for e in iter_csv_lines(lines, mapping, report=report)]
    ['59.90']
    >>> print(report.render()); print(report.errors[0])
    read 2, emitted 1, skipped 1 (negative_amount: 1)
    line 3 (row 2), column 'total': amount must be >= 0 [negative_amount] (value '-1')
    """
    report = report if report is not None else LoadReport()
    reader = csv.reader(lines, delimiter=mapping.delimiter)
    header = next(reader, None)
    if header is None:
        raise MappingError("the file is empty: expected a header line")
    index = _resolve([name.strip() for name in header], mapping)
    zone = mapping.tz()
    latest = (now or datetime.now(UTC)) + FUTURE_TOLERANCE
    row, previous_line = 0, reader.line_num
    for fields in reader:
        line, previous_line = previous_line + 1, reader.line_num
        if not fields:
            continue
        row += 1
        report.read += 1
        try:
            if len(fields) != len(header):
                raise _CellError(
                    None, "wrong_field_count", f"expected {len(header)} fields, got {len(fields)}"
                )
            event = _event(fields, index, mapping, zone, latest, row)
        except _CellError as exc:
            error = RowError(line, row, exc.column, exc.code, exc.message, exc.value)
            if strict:
                raise BadRowError(error) from None
            report.skip(error)
            continue
        report.emitted += 1
        yield event


class _CellError(Exception):
    def __init__(self, column: str | None, code: str, message: str, value: str | None = None):
        super().__init__(message)
        self.column, self.code, self.message, self.value = column, code, message, value


def _resolve(header: list[str], mapping: CsvMapping) -> dict[str, tuple[str, int]]:
    index: dict[str, tuple[str, int]] = {}
    for role, name in mapping.columns().items():
        positions = [i for i, column in enumerate(header) if column == name]
        if not positions:
            raise MappingError(f"no column {name!r} (for {role}) in the header: {header}")
        if len(positions) > 1:
            raise MappingError(f"column {name!r} (for {role}) appears {len(positions)} times")
        index[role] = (name, positions[0])
    return index


def _event(
    fields: list[str],
    index: dict[str, tuple[str, int]],
    mapping: CsvMapping,
    zone: tzinfo,
    latest: datetime,
    row: int,
) -> dict[str, Any]:
    def cell(role: str) -> tuple[str, str]:
        name, position = index[role]
        return name, fields[position].strip()

    def required(role: str) -> tuple[str, str]:
        name, value = cell(role)
        if not value:
            raise _CellError(name, "missing", f"{role.replace('_', ' ')} is empty")
        return name, value

    name, value = required("customer_id")
    customer_id = mapping.customer_prefix + value
    if not CUSTOMER_ID_RE.fullmatch(customer_id):
        message = "customer id must be 1-64 chars of [A-Za-z0-9._:@-]"
        raise _CellError(name, "invalid_customer_id", message, customer_id)

    name, value = required("occurred_at")
    try:
        moment = parse_moment(value, mapping.date_format, zone)
    except ValueError:
        expected = f"format {mapping.date_format!r}" if mapping.date_format else "ISO 8601"
        raise _CellError(name, "invalid_date", f"not a date in {expected}", value) from None
    if moment > latest:
        raise _CellError(name, "in_future", "the date is in the future", value)

    name, value = required("amount")
    try:
        amount = parse_amount(_dot_decimal(value) if mapping.decimal_comma else value)
    except InvalidValue as exc:
        raise _CellError(name, exc.code, exc.message, value) from None

    currency = mapping.default_currency
    if "currency" in index and (cur := cell("currency"))[1]:
        currency = cur[1].upper()
        if not CURRENCY_RE.fullmatch(currency):
            raise _CellError(cur[0], "invalid_currency", "not an ISO 4217 code", cur[1])
    if currency is None:
        raise _CellError(index["currency"][0], "missing", "currency is empty (no default)")

    order_id = f"{mapping.source}-{row}"
    if "order_id" in index and (order := cell("order_id"))[1]:
        if len(order[1]) > MAX_ID_LEN:
            raise _CellError(order[0], "invalid_order_id", "longer than 128 chars", order[1])
        order_id = order[1]

    items = 1
    if "items" in index and (count := cell("items"))[1]:
        if not count[1].isdigit() or int(count[1]) < 1:
            raise _CellError(count[0], "invalid_items", "not an integer >= 1", count[1])
        items = int(count[1])

    digest = hashlib.blake2b(f"{customer_id}|{moment.isoformat()}".encode(), digest_size=8)
    return purchase_event(
        event_id=f"{mapping.source}:r{row}:{digest.hexdigest()}",
        customer_id=customer_id,
        occurred_at=moment,
        source=mapping.source,
        order_id=order_id,
        amount=amount,
        currency=currency,
        items=items,
    )


def _dot_decimal(text: str) -> str:
    if "." in text:
        raise InvalidValue("invalid_amount", "a '.' in an amount read with decimal comma")
    return text.replace(",", ".")


def _has_time(date_format: str) -> bool:
    return any(f"%{d}" in date_format for d in _TIME_DIRECTIVES)
