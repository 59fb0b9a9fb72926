"""Money: exact decimals in, decimal strings out.

Amounts arrive as JSON strings (``"59.90"``, preferred: no float rounding anywhere upstream) or
numbers, are held as `Decimal` and are serialised back as strings. Every amount has at most four
decimal places and is below 10^12, which fits a PostgreSQL ``numeric(16, 4)``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, PlainSerializer, StringConstraints, WithJsonSchema

__all__ = [
    "CURRENCY_PATTERN",
    "CURRENCY_RULE",
    "MONEY_MAX",
    "Currency",
    "Money",
    "PositiveMoney",
    "canonical_amount",
    "format_amount",
]

MONEY_MAX = Decimal(10) ** 12
"""Exclusive upper bound of every amount."""

_PLACES = 4
_QUANTUM = Decimal(1).scaleb(-_PLACES)
_DIGITS = r"\d{1,12}(\.\d{1,4})?"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
CURRENCY_RULE = "should be an ISO 4217 currency code of three capital letters, such as EUR"


def canonical_amount(value: Decimal) -> Decimal:
    """Drop exponent notation, surplus trailing zeros and the sign of zero, keeping the value.

    Called after the range and decimal-place checks, so the result has at most four places.

    >>> canonical_amount(Decimal("1E+3"))
    Decimal('1000')
    >>> canonical_amount(Decimal("59.900000"))
    Decimal('59.9000')
    >>> canonical_amount(Decimal("-0.00"))
    Decimal('0.00')
    >>> canonical_amount(Decimal("59.90"))
    Decimal('59.90')
    """
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int):
        if exponent > 0:
            value = value.quantize(Decimal(1))
        elif exponent < -_PLACES:
            value = value.quantize(_QUANTUM)
    return value.copy_abs() if value.is_zero() else value


def format_amount(value: Decimal) -> str:
    """The wire form of an amount: plain positional notation, never an exponent.

    >>> format_amount(Decimal("59.90"))
    '59.90'
    >>> format_amount(Decimal("1E+3"))
    '1000'
    """
    return format(value, "f")


def _money_schema(*, positive: bool) -> dict[str, object]:
    bound = "exclusiveMinimum" if positive else "minimum"
    pattern = f"^(?=.*[1-9]){_DIGITS}$" if positive else f"^{_DIGITS}$"
    return {
        "anyOf": [
            {"type": "string", "pattern": pattern},
            {"type": "number", bound: 0, "exclusiveMaximum": int(MONEY_MAX)},
        ],
        "description": (
            f"Decimal amount {'> 0' if positive else '>= 0'}, below 10^12, at most 4 decimal "
            'places; a string such as "59.90" is preferred to a JSON number.'
        ),
    }


_COMMON = (
    AfterValidator(canonical_amount),
    PlainSerializer(format_amount, return_type=str, when_used="json"),
)

Money = Annotated[
    Decimal,
    Field(ge=0, lt=MONEY_MAX, decimal_places=_PLACES, allow_inf_nan=False, strict=False),
    *_COMMON,
    WithJsonSchema(_money_schema(positive=False), mode="validation"),
]
"""An amount that may be zero (a free order, a zero-price plan)."""

PositiveMoney = Annotated[
    Decimal,
    Field(gt=0, lt=MONEY_MAX, decimal_places=_PLACES, allow_inf_nan=False, strict=False),
    *_COMMON,
    WithJsonSchema(_money_schema(positive=True), mode="validation"),
]
"""An amount that must be above zero (a refund, a failed payment)."""

Currency = Annotated[
    str,
    StringConstraints(pattern=CURRENCY_PATTERN),
    WithJsonSchema(
        {"type": "string", "pattern": CURRENCY_PATTERN, "description": "ISO 4217 code, e.g. EUR"}
    ),
]
"""An ISO 4217 currency code: three capital letters."""
