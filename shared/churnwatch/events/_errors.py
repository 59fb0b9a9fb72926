"""What a rejected event tells its sender: every problem, each with a field path and a code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from churnwatch.errors import InvalidEvent

__all__ = ["ErrorCode", "EventRejected", "FieldError"]


class ErrorCode(StrEnum):
    """The error codes of docs/events.md; stable, so clients and dashboards may match on them."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    TOO_LARGE = "too_large"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    MISSING = "missing"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    UNKNOWN_FIELD = "unknown_field"
    IN_FUTURE = "in_future"
    NAIVE_DATETIME = "naive_datetime"
    NEGATIVE_AMOUNT = "negative_amount"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    DUPLICATE_KEY = "duplicate_key"
    INVALID_ENCODING = "invalid_encoding"
    TOO_OLD = "too_old"


@dataclass(frozen=True)
class FieldError:
    """One problem with an event.

    Parameters
    ----------
    field
        Dotted path of the offending field (``"attributes.amount"``); ``""`` for the whole document.
    code
        One of `ErrorCode`.
    message
        What is wrong, for a person: names the field's rule and the value received.

    Examples
    --------
    >>> FieldError("attributes.amount", ErrorCode.NEGATIVE_AMOUNT, "must be >= 0, got -1").to_dict()
    {'field': 'attributes.amount', 'code': 'negative_amount', 'message': 'must be >= 0, got -1'}
    """

    field: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The JSON form used in HTTP 422 bodies and DLQ records."""
        return {"field": self.field, "code": str(self.code), "message": self.message}


_SHOWN_IN_MESSAGE = 3


class EventRejected(InvalidEvent):
    """An event broke the contract; `errors` lists every problem found, not just the first.

    `event_id`, `customer_id` and `event_type` are read from the raw input when they are strings,
    even if they are themselves invalid, so that per-event results and dead-letter records can be
    keyed; they are ``None`` when absent or not strings.

    >>> exc = EventRejected([FieldError("occurred_at", "missing", "field required")], event_id="e1")
    >>> exc.reason, exc.event_id
    ('missing', 'e1')
    >>> str(exc)
    'event rejected: occurred_at: missing (field required)'
    """

    def __init__(
        self,
        errors: Iterable[FieldError],
        *,
        event_id: str | None = None,
        customer_id: str | None = None,
        event_type: str | None = None,
    ) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        if not self.errors:
            raise ValueError("EventRejected needs at least one FieldError")
        self.event_id = event_id
        self.customer_id = customer_id
        self.event_type = event_type
        super().__init__(_summary(self.errors))

    @property
    def reason(self) -> str:
        """Code of the first error: a low-cardinality label for metrics and DLQ headers."""
        return str(self.errors[0].code)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the rejection: the keys found plus every error."""
        return {
            "event_id": self.event_id,
            "customer_id": self.customer_id,
            "event_type": self.event_type,
            "errors": [error.to_dict() for error in self.errors],
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (self.errors, self.event_id, self.customer_id, self.event_type))


def _restore(
    errors: tuple[FieldError, ...],
    event_id: str | None,
    customer_id: str | None,
    event_type: str | None,
) -> EventRejected:
    return EventRejected(errors, event_id=event_id, customer_id=customer_id, event_type=event_type)


def _summary(errors: tuple[FieldError, ...]) -> str:
    parts = [
        f"{error.field or '<document>'}: {error.code} ({error.message})"
        for error in errors[:_SHOWN_IN_MESSAGE]
    ]
    if len(errors) > _SHOWN_IN_MESSAGE:
        parts.append(f"and {len(errors) - _SHOWN_IN_MESSAGE} more")
    return "event rejected: " + "; ".join(parts)
