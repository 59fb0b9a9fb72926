"""Shared pieces of the loaders: the purchase event builder, value checks, the load report.

Every loader emits plain ``dict`` events that satisfy the v1 contract (``docs/events.md``):
amounts are decimal strings with at most 4 decimal places, ``occurred_at`` is ISO 8601 in UTC
with a ``Z`` suffix, ids match the contract's character sets.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from churnwatch.errors import ChurnError

__all__ = [
    "CURRENCY_RE",
    "CUSTOMER_ID_RE",
    "EVENT_ID_RE",
    "MAX_AMOUNT",
    "MAX_ID_LEN",
    "BadRowError",
    "InvalidValue",
    "LoadReport",
    "LoaderError",
    "MappingError",
    "RowError",
    "format_amount",
    "format_time",
    "parse_amount",
    "purchase_event",
]

EVENT_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
CUSTOMER_ID_RE = re.compile(r"[A-Za-z0-9._:@-]{1,64}")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
MAX_AMOUNT = Decimal(10) ** 12
MAX_ID_LEN = 128


class LoaderError(ChurnError):
    """Root of the loader errors.

    ChurnError
     └── LoaderError
          ├── MappingError   the file or the column mapping cannot be used at all
          └── BadRowError    a row is invalid and the load is strict
    """


class MappingError(LoaderError): ...


class BadRowError(LoaderError):
    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


class InvalidValue(ValueError):
    """A field value the contract rejects: ``code`` names the reason (counted in reports)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class RowError:
    """One rejected row: where it is, which column, why.

    ``line`` is the physical line in the file (1-based, header included), ``row`` the data
    record's number (1-based, header excluded).

    >>> print(RowError(line=3, row=2, column="amount", code="negative_amount",
    ...                message="amount must be >= 0", value="-5"))
    line 3 (row 2), column 'amount': amount must be >= 0 [negative_amount] (value '-5')
    """

    line: int
    row: int
    column: str | None
    code: str
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line} (row {self.row})"
        if self.column is not None:
            where += f", column {self.column!r}"
        text = f"{where}: {self.message} [{self.code}]"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            text += f" (value {shown!r})"
        return text


@dataclass(slots=True)
class LoadReport:
    """Counts of a load: records read, events emitted, records skipped by reason.

    Only the first ``keep_errors`` errors are kept verbatim; all are counted.

    >>> report = LoadReport(keep_errors=1)
    >>> report.read = 3
    >>> report.emitted = 1
    >>> report.skip(RowError(2, 1, "date", "invalid_date", "bad date", "x"))
    >>> report.skip(RowError(3, 2, "date", "invalid_date", "bad date", "y"))
    >>> report.skipped_total, dict(report.skipped), len(report.errors)
    (2, {'invalid_date': 2}, 1)
    >>> print(report.render())
    read 3, emitted 1, skipped 2 (invalid_date: 2)
    """

    read: int = 0
    emitted: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)
    keep_errors: int = 100

    def skip(self, error: RowError) -> None:
        self.skipped[error.code] += 1
        if len(self.errors) < self.keep_errors:
            self.errors.append(error)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def render(self) -> str:
        text = f"read {self.read}, emitted {self.emitted}, skipped {self.skipped_total}"
        if self.skipped:
            reasons = ", ".join(f"{code}: {n}" for code, n in sorted(self.skipped.items()))
            text += f" ({reasons})"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "emitted": self.emitted,
            "skipped": self.skipped_total,
            "skipped_by_reason": dict(sorted(self.skipped.items())),
        }


def parse_amount(text: str) -> Decimal:
    """A contract amount from its text: a finite decimal >= 0, < 10^12, <= 4 decimal places.

    >>> parse_amount(" 59.90 ")
    Decimal('59.90')
    >>> parse_amount("12.34567")
    Traceback (most recent call last):
      ...
    churnwatch_sim.loaders._common.InvalidValue: at most 4 decimal places [too_many_decimals]
    """
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidValue("invalid_amount", "not a decimal number") from None
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, str):  # NaN, sNaN, Infinity
        raise InvalidValue("invalid_amount", "not a finite number")
    if amount < 0:
        raise InvalidValue("negative_amount", "amount must be >= 0")
    if amount >= MAX_AMOUNT:
        raise InvalidValue("amount_too_large", "amount must be below 10^12")
    if exponent < -4 and amount != amount.quantize(Decimal("0.0001")):
        raise InvalidValue("too_many_decimals", "at most 4 decimal places")
    return amount.quantize(Decimal("0.0001")) if exponent < -4 else amount


def format_amount(value: Decimal) -> str:
    """The contract's decimal string: plain notation, no exponent, trailing zeros kept.

    >>> [format_amount(Decimal(text)) for text in ("59.90", "1E+3", "-0.0")]
    ['59.90', '1000', '0.0']
    """
    return f"{value.copy_abs() if value.is_zero() else value:f}"


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix; ``moment`` must be timezone-aware.

    >>> from datetime import timedelta, timezone
    >>> format_time(datetime(1997, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    '1997-01-01T12:00:00Z'
    """
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def purchase_event(
    *,
    event_id: str,
    customer_id: str,
    occurred_at: datetime,
    source: str,
    order_id: str,
    amount: Decimal,
    currency: str,
    items: int = 1,
) -> dict[str, Any]:
    """A v1 ``purchase`` event as a plain dict (values already checked by the caller).

    >>> event = purchase_event(event_id="cdnow:00001:19970101:2", customer_id="00001",
    ...     occurred_at=datetime(1997, 1, 1, 12, tzinfo=UTC), source="cdnow",
    ...     order_id="cdnow-00001-19970101-1", amount=Decimal("11.77"), currency="USD")
    >>> event["occurred_at"], event["attributes"]["amount"], event["attributes"]["items"]
    ('1997-01-01T12:00:00Z', '11.77', 1)
    """
    return {
        "event_id": event_id,
        "event_type": "purchase",
        "customer_id": customer_id,
        "occurred_at": format_time(occurred_at),
        "source": source,
        "schema_version": 1,
        "attributes": {
            "order_id": order_id,
            "amount": format_amount(amount),
            "currency": currency,
            "items": items,
        },
    }
