"""Bytes in, `Event` or `EventRejected` out: the one entry point for untrusted events.

The happy path is a single strict `validate_json` call on a module-level `TypeAdapter`, so the
ingest service pays for the detailed error report (`_diagnose`) only on bad events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from churnwatch.errors import ConfigError

from ._diagnose import diagnose, document_keys, future_error, past_error
from ._errors import ErrorCode, EventRejected, FieldError
from ._models import Event

__all__ = [
    "DEFAULT_LIMITS",
    "EVENT_ADAPTER",
    "MIN_OCCURRED_AT",
    "ValidationLimits",
    "event_to_json",
    "parse_event",
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
_SNIFF_MAX_BYTES = 1 << 20  # an oversized event is still parsed for its keys up to this size
MIN_OCCURRED_AT = datetime(1990, 1, 1, tzinfo=UTC)
"""Default floor of ``occurred_at``: rejects placeholder dates (year 1, the 1970 epoch) and
still takes real histories such as the CDNOW data set (1997-98) that `churnwatch replay` sends."""


@dataclass(frozen=True)
class ValidationLimits:
    """What `parse_event` tolerates beyond the models' own rules.

    >>> ValidationLimits(max_bytes=1024).max_future
    datetime.timedelta(seconds=300)
    """

    max_bytes: int = 65536
    """Largest accepted event, in bytes of JSON."""
    max_future: timedelta = timedelta(minutes=5)
    """How far ``occurred_at`` may lie ahead of ``now`` (clock skew between systems)."""
    min_occurred_at: datetime = MIN_OCCURRED_AT
    """The earliest ``occurred_at`` accepted: a year-0001 or 1970 date is a default value or an
    epoch of 0 upstream, not a fact about a customer."""
    max_age: timedelta | None = None
    """How far back ``occurred_at`` may lie (None: only ``min_occurred_at`` bounds it)."""

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ConfigError(f"max_bytes must be at least 1, got {self.max_bytes}")
        if self.max_future < timedelta(0):
            raise ConfigError(f"max_future must not be negative, got {self.max_future}")
        if self.min_occurred_at.utcoffset() is None:
            raise ConfigError("min_occurred_at must carry a UTC offset")
        if self.max_age is not None and self.max_age <= timedelta(0):
            raise ConfigError(f"max_age must be positive, got {self.max_age}")

    def earliest(self, now: datetime) -> datetime:
        """The earliest ``occurred_at`` accepted at ``now``.

        >>> from datetime import UTC
        >>> now = datetime(2026, 3, 1, tzinfo=UTC)
        >>> ValidationLimits().earliest(now).isoformat()
        '1990-01-01T00:00:00+00:00'
        >>> ValidationLimits(max_age=timedelta(days=365)).earliest(now).isoformat()
        '2025-03-01T00:00:00+00:00'
        """
        if self.max_age is None:
            return self.min_occurred_at
        return max(self.min_occurred_at, now - self.max_age)


DEFAULT_LIMITS = ValidationLimits()


def parse_event(
    raw: bytes | str | Mapping[str, Any],
    *,
    now: datetime,
    limits: ValidationLimits = DEFAULT_LIMITS,
) -> Event:
    """Validate one event against the contract, or raise `EventRejected` listing every problem.

    Bytes and strings are checked for size, then parsed as JSON; a mapping (an already decoded
    body) is encoded to JSON first, so that all three take the same, strict, path. ``now`` must
    be timezone-aware; it bounds ``occurred_at`` (plus ``limits.max_future``).

    Examples
    --------
    >>> from datetime import UTC
    >>> now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    >>> raw = (
    ...     b'{"event_id":"e-1","event_type":"purchase","customer_id":"C-1042",'
    ...     b'"occurred_at":"2026-03-01T11:15:00+01:00","source":"shop-web","schema_version":1,'
    ...     b'"attributes":{"order_id":"O-77","amount":"59.90","currency":"EUR"}}'
    ... )
    >>> event = parse_event(raw, now=now)
    >>> event.attributes.amount, event.occurred_at.isoformat()
    (Decimal('59.90'), '2026-03-01T10:15:00+00:00')
    >>> try:
    ...     parse_event(raw.replace(b"purchase", b"purchse"), now=now)
    ... except EventRejected as exc:
    ...     print(exc.reason, exc.errors[0].field, exc.customer_id)
    unknown_event_type event_type C-1042
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    data = _json_bytes(raw, limits.max_bytes)
    try:
        event: Event = EVENT_ADAPTER.validate_json(data, strict=True)
    except ValidationError as exc:
        raise diagnose(data, exc, now=now, limits=limits) from None
    if event.occurred_at > now + limits.max_future:
        error = future_error(event.occurred_at, now, limits.max_future)
    elif event.occurred_at < limits.earliest(now):
        error = past_error(event.occurred_at, limits.earliest(now))
    else:
        return event
    raise EventRejected(
        [error],
        event_id=event.event_id,
        customer_id=event.customer_id,
        event_type=event.event_type,
    )


def event_to_json(event: Event) -> bytes:
    """The canonical wire form: compact JSON, fields in contract order, UTC times, string amounts.

    >>> import json
    >>> from datetime import UTC
    >>> from churnwatch.events import EXAMPLES, EventType
    >>> now = datetime(2026, 3, 2, tzinfo=UTC)
    >>> data = event_to_json(parse_event(EXAMPLES[EventType.SUPPORT_TICKET], now=now))
    >>> data[:60]
    b'{"event_id":"evt_01HV8Z3K9Q2C4M7N5P6R8S0005","event_type":"s'
    >>> doc = json.loads(data)
    >>> doc["occurred_at"], doc["attributes"]["priority"]
    ('2026-03-01T09:02:17Z', 'high')
    """
    return event.__pydantic_serializer__.to_json(event)


def _json_bytes(raw: object, max_bytes: int) -> bytes:
    if isinstance(raw, bytes):
        data = raw
    elif isinstance(raw, str):
        if len(raw) > max_bytes:  # every character is at least one byte: no need to encode
            raise _too_large(f"at least {len(raw)}", max_bytes, {})
        try:
            data = raw.encode()
        except UnicodeEncodeError as error:
            raise _document_error(
                ErrorCode.INVALID_JSON, f"not valid UTF-8 text: {error}"
            ) from None
    elif isinstance(raw, Mapping):
        data = _encode_mapping(raw)
        if len(data) > max_bytes:
            raise _too_large(str(len(data)), max_bytes, document_keys(dict(raw)))
    else:
        message = f"expected JSON bytes, a str or a mapping, got {type(raw).__name__}"
        raise _document_error(ErrorCode.NOT_AN_OBJECT, message)
    if len(data) > max_bytes:
        raise _too_large(str(len(data)), max_bytes, _sniff_keys(data))
    return data


def _encode_mapping(raw: Mapping[Any, Any]) -> bytes:
    try:
        return orjson.dumps(raw, default=_json_default)
    except orjson.JSONEncodeError:
        pass  # e.g. an integer beyond 64 bits, which JSON allows: let the stdlib try
    try:
        text = json.dumps(raw, default=_json_default, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as error:
        message = f"mapping cannot be encoded as JSON: {error}"
        raise _document_error(ErrorCode.INVALID_JSON, message) from None
    return text.encode()


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _sniff_keys(data: bytes) -> dict[str, str | None]:
    if len(data) > _SNIFF_MAX_BYTES:
        return document_keys(None)
    try:
        return document_keys(orjson.loads(data))
    except orjson.JSONDecodeError:
        return document_keys(None)


def _too_large(size: str, max_bytes: int, keys: dict[str, str | None]) -> EventRejected:
    message = f"event is {size} bytes of JSON; at most {max_bytes} are accepted"
    return EventRejected([FieldError("", ErrorCode.TOO_LARGE, message)], **keys)


def _document_error(code: ErrorCode, message: str) -> EventRejected:
    return EventRejected([FieldError("", code, message)])
