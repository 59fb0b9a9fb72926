"""Constrained scalar types shared by the envelope and the attribute models.

Limits follow docs/events.md: ids and names at most 128 characters, free text at most 2,000.
Ids and names may not contain control characters (they end up in logs, metric labels and keys);
free text may.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, WithJsonSchema

__all__ = [
    "PATTERN_RULES",
    "CountryCode",
    "CustomerId",
    "DurationSeconds",
    "Email",
    "EventId",
    "FreeText",
    "LanguageTag",
    "Name",
    "Phone",
    "PositiveInt",
    "SchemaVersion",
    "Source",
    "UtcDatetime",
    "to_utc",
]

_NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f]+$"
_EVENT_ID = r"^[A-Za-z0-9._:-]+$"
_CUSTOMER_ID = r"^[A-Za-z0-9._:@-]+$"
_COUNTRY = r"^[A-Z]{2}$"
_LANGUAGE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
_EMAIL = r"^[^@\s]+@[^@\s]+$"
_PHONE = r"^\+?[0-9 ()./-]*[0-9][0-9 ()./-]*$"

PATTERN_RULES: dict[str, str] = {
    _NO_CONTROL_CHARS: "should contain no control characters (such as newlines or tabs)",
    _EVENT_ID: "should contain only letters, digits and . _ : -",
    _CUSTOMER_ID: "should contain only letters, digits and . _ : @ -",
    _COUNTRY: "should be an ISO 3166-1 alpha-2 country code such as DE",
    _LANGUAGE: "should be a BCP 47 language tag such as de or pt-BR",
    _EMAIL: "should be an e-mail address: one @ and no whitespace",
    _PHONE: "should be a phone number: digits, spaces and + ( ) . / - only",
}
"""A person-readable rule for each pattern, used in error messages instead of the regex."""


def to_utc(value: datetime) -> datetime:
    """Express an aware datetime in UTC, so that every stored timestamp compares and prints alike.

    >>> from datetime import timedelta, timezone
    >>> to_utc(datetime(2026, 3, 1, 11, 15, tzinfo=timezone(timedelta(hours=1))))
    datetime.datetime(2026, 3, 1, 10, 15, tzinfo=datetime.timezone.utc)
    """
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(to_utc)]
"""An ISO 8601 datetime with a UTC offset (a naive one is rejected), normalised to UTC."""

EventId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_EVENT_ID)]
CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_CUSTOMER_ID)]
Source = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_NO_CONTROL_CHARS)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_NO_CONTROL_CHARS)]
"""An upstream id or name (order id, plan, feature...): 1-128 characters, no control characters."""
FreeText = Annotated[str, StringConstraints(max_length=2000)]
"""A comment typed by a person: at most 2,000 characters."""

CountryCode = Annotated[str, StringConstraints(pattern=_COUNTRY)]
"""ISO 3166-1 alpha-2, e.g. ``DE``."""
LanguageTag = Annotated[str, StringConstraints(max_length=35, pattern=_LANGUAGE)]
"""A BCP 47 language tag, e.g. ``de`` or ``pt-BR``."""
Email = Annotated[str, StringConstraints(max_length=254, pattern=_EMAIL)]
"""A loosely checked e-mail address: one ``@``, no whitespace; deliverability is not our job."""
Phone = Annotated[str, StringConstraints(max_length=32, pattern=_PHONE)]
"""A phone number, E.164 preferred; digits, spaces and ``+()./-`` only."""

SchemaVersion = Annotated[
    int,
    Field(strict=True, ge=1, le=1),
    WithJsonSchema({"type": "integer", "const": 1, "description": "Contract version; only 1."}),
]
"""The contract version. Strict even in Python, so ``True`` or ``1.0`` are not taken for ``1``."""

PositiveInt = Annotated[int, Field(ge=1)]
DurationSeconds = Annotated[float, Field(ge=0, le=86_400, allow_inf_nan=False)]
"""Seconds, at most one day."""
