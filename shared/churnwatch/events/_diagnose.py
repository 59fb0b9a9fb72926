"""The slow path: explain, field by field, why an event was rejected.

Only runs after the fast path (one `validate_json` call) has failed, so it may parse the input a
second time. It turns pydantic's errors into our stable codes and dotted paths, and adds what
pydantic cannot know: an unknown ``event_type`` (reported together with the envelope's own
errors) and an ``occurred_at`` too far in the future.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from ._enums import EventType
from ._errors import ErrorCode, EventRejected, FieldError
from ._fields import PATTERN_RULES, UtcDatetime
from ._hostile import utf8_error
from ._models import EVENT_CLASSES, EventEnvelope
from ._money import CURRENCY_PATTERN, CURRENCY_RULE

__all__ = ["diagnose", "document_keys", "future_error", "json_type", "past_error"]

_EVENT_TYPES = tuple(t.value for t in EventType)
_MISSING = object()
_SHOW_MAX = 60
_RULES = {**PATTERN_RULES, CURRENCY_PATTERN: CURRENCY_RULE}
_UTC_DATETIME: TypeAdapter[datetime] = TypeAdapter(UtcDatetime)
_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "a boolean",
    "float_type": "a number",
    "decimal_type": "a decimal string or a number",
    "datetime_type": "an ISO 8601 datetime string",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
}


class _EnvelopeProbe(EventEnvelope[dict[str, Any]]):
    """The envelope alone, to report its errors when ``event_type`` names no known type."""


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages.

    >>> json_type(None), json_type(True), json_type(3), json_type("3"), json_type([])
    ('null', 'boolean', 'integer', 'string', 'array')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def document_keys(doc: object) -> dict[str, str | None]:
    """The routing keys of a raw document, where they are strings, whatever else is wrong.

    >>> document_keys({"event_id": "e1", "customer_id": 42})
    {'event_id': 'e1', 'customer_id': None, 'event_type': None}
    """
    get = doc.get if isinstance(doc, dict) else (lambda _key: None)
    keys = {key: get(key) for key in ("event_id", "customer_id", "event_type")}
    return {key: value if isinstance(value, str) else None for key, value in keys.items()}


def future_error(occurred_at: datetime, now: datetime, max_future: timedelta) -> FieldError:
    """The ``in_future`` error for an event dated beyond the tolerance."""
    ahead = (occurred_at - now).total_seconds()
    return FieldError(
        "occurred_at",
        ErrorCode.IN_FUTURE,
        f"occurred_at {occurred_at.isoformat()} is {_seconds(ahead)} s after now "
        f"({now.isoformat()}); at most {_seconds(max_future.total_seconds())} s is tolerated",
    )


def past_error(occurred_at: datetime, earliest: datetime) -> FieldError:
    """The ``too_old`` error for an event dated before the window (a default or epoch-0 date)."""
    return FieldError(
        "occurred_at",
        ErrorCode.TOO_OLD,
        f"occurred_at {occurred_at.isoformat()} is before {earliest.isoformat()}, the earliest"
        " accepted (CW_INGEST_MIN_OCCURRED_AT, CW_INGEST_MAX_AGE)",
    )


def diagnose(data: bytes, exc: ValidationError, *, now: datetime, limits: Any) -> EventRejected:
    """Every reason why `data` failed validation with `exc`, as one `EventRejected`.

    ``limits`` is the `ValidationLimits` (``max_future`` and ``earliest(now)`` are read).
    """
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        bad_text = utf8_error(data)
        if bad_text is not None:
            return EventRejected([bad_text])
        return EventRejected([FieldError("", ErrorCode.INVALID_JSON, f"not valid JSON: {error}")])
    if not isinstance(doc, dict):
        message = f"expected a JSON object, got {json_type(doc)}"
        return EventRejected([FieldError("", ErrorCode.NOT_AN_OBJECT, message)])
    raw_type = doc.get("event_type", _MISSING)
    type_error = _event_type_error(raw_type)
    if type_error is None:
        model = EVENT_CLASSES[EventType(raw_type)]
        errors = field_errors(exc.errors(include_url=False), model, tag=raw_type)
    else:
        errors = [type_error, *_envelope_errors(data)]
    if not any(error.field == "occurred_at" for error in errors):
        errors.extend(_window_errors(doc.get("occurred_at"), now, limits))
    if not errors:  # not expected: keep pydantic's own words rather than lose the rejection
        errors.append(FieldError("", ErrorCode.INVALID_VALUE, str(exc)))
    return EventRejected(errors, **document_keys(doc))


def field_errors(
    details: Iterable[ErrorDetails], model: type[BaseModel], *, tag: object = None
) -> list[FieldError]:
    """Map pydantic errors to ours; `tag` is the union tag that prefixes every location."""
    errors = []
    for detail in details:
        loc = tuple(detail["loc"])
        if tag is not None and loc[:1] == (tag,):
            loc = loc[1:]
        errors.append(_field_error(detail, loc, model))
    return errors


def _event_type_error(raw: object) -> FieldError | None:
    expected = "expected one of: " + ", ".join(_EVENT_TYPES)
    if raw is _MISSING:
        return FieldError("event_type", ErrorCode.MISSING, f"required field is missing; {expected}")
    if not isinstance(raw, str):
        message = f"expected a string, got {_describe(raw)}; {expected}"
        return FieldError("event_type", ErrorCode.WRONG_TYPE, message)
    if raw in _EVENT_TYPES:
        return None
    close = difflib.get_close_matches(raw, _EVENT_TYPES, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    message = f"unknown event_type {_show(raw)}{hint}; {expected}"
    return FieldError("event_type", ErrorCode.UNKNOWN_EVENT_TYPE, message)


def _envelope_errors(data: bytes) -> list[FieldError]:
    try:
        _EnvelopeProbe.model_validate_json(data, strict=True)
    except ValidationError as exc:
        errors = field_errors(exc.errors(include_url=False), _EnvelopeProbe)
        return [error for error in errors if error.field != "event_type"]
    return []


def _window_errors(raw: object, now: datetime, limits: Any) -> list[FieldError]:
    try:
        occurred_at = _UTC_DATETIME.validate_json(orjson.dumps(raw), strict=True)
    except (ValidationError, orjson.JSONEncodeError):
        return []  # already reported as missing, wrong_type, invalid_value...
    if occurred_at > now + limits.max_future:
        return [future_error(occurred_at, now, limits.max_future)]
    earliest = limits.earliest(now)
    return [past_error(occurred_at, earliest)] if occurred_at < earliest else []


def field_path(loc: Sequence[Any]) -> str:
    """A location as a dotted path; a key that would make the path ambiguous (empty, or with a
    dot or bracket in it: upstream documents can hold any key) is written ``["key"]``.

    >>> field_path(("attributes", "amount")), field_path(("attributes", "a.b")), field_path(("",))
    ('attributes.amount', 'attributes["a.b"]', '[""]')
    """
    out = ""
    for part in loc:
        key = str(part)
        if not key or any(c in key for c in '.[]"'):
            out += "[" + orjson.dumps(key).decode() + "]"
        else:
            out += f".{key}" if out else key
    return out


def _field_error(detail: ErrorDetails, loc: Sequence[Any], model: type[BaseModel]) -> FieldError:
    path = field_path(loc)
    kind, value = detail["type"], detail.get("input")
    shown = _describe(value)
    if kind == "missing":
        return FieldError(path, ErrorCode.MISSING, "required field is missing")
    if kind == "extra_forbidden":
        allowed = ", ".join(_model_at(model, loc[:-1]) or ())
        message = f"unknown field {str(loc[-1])!r}; allowed fields: {allowed}"
        return FieldError(path, ErrorCode.UNKNOWN_FIELD, message)
    if kind == "timezone_aware":
        message = f"datetime {_show(value)} has no UTC offset; append 'Z' or e.g. '+01:00'"
        return FieldError(path, ErrorCode.NAIVE_DATETIME, message)
    if kind == "json_invalid":
        return FieldError("", ErrorCode.INVALID_JSON, detail["msg"])
    if kind in ("greater_than", "greater_than_equal") and _is_money(model, loc):
        bound = ">" if kind == "greater_than" else ">="
        limit = next(iter(detail.get("ctx", {}).values()), 0)
        message = f"amount must be {bound} {limit}, got {_show(value)}"
        return FieldError(path, ErrorCode.NEGATIVE_AMOUNT, message)
    if path == "schema_version" and kind in ("greater_than_equal", "less_than_equal"):
        message = f"schema_version {_show(value)} is not supported; only 1 is"
        return FieldError(path, ErrorCode.UNSUPPORTED_SCHEMA_VERSION, message)
    if kind in _TYPE_NAMES or kind.endswith("_type"):
        message = f"expected {_TYPE_NAMES.get(kind, 'another type')}, got {shown}"
        return FieldError(path, ErrorCode.WRONG_TYPE, message)
    if kind in ("enum", "literal_error") and not isinstance(value, str):
        message = f"expected a string: {_rule(detail['msg'])}; got {shown}"
        return FieldError(path, ErrorCode.WRONG_TYPE, message)
    rule = _RULES.get(str(detail.get("ctx", {}).get("pattern")), _rule(detail["msg"]))
    return FieldError(path, ErrorCode.INVALID_VALUE, f"{rule}; got {shown}")


def _rule(pydantic_message: str) -> str:
    """pydantic's rule in our voice: "Input should be 1" -> "should be 1"."""
    for prefix in ("Input should", "Decimal input should", "String should"):
        if pydantic_message.startswith(prefix):
            return "should" + pydantic_message.removeprefix(prefix)
    return pydantic_message


def _model_at(model: type[BaseModel], loc: Sequence[Any]) -> dict[str, Any] | None:
    """The fields of the (nested) model found at `loc`, if that is a model."""
    current: type[BaseModel] = model
    for part in loc:
        info = current.model_fields.get(part) if isinstance(part, str) else None
        annotation = info.annotation if info is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        current = annotation
    return dict(current.model_fields)


def _is_money(model: type[BaseModel], loc: Sequence[Any]) -> bool:
    fields = _model_at(model, loc[:-1]) if loc else None
    info = fields.get(loc[-1]) if fields is not None else None
    return info is not None and info.annotation is Decimal


def _describe(value: object) -> str:
    return "null" if value is None else f"{json_type(value)} {_show(value)}"


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _show(value: object) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= _SHOW_MAX else text[: _SHOW_MAX - 3] + "..."
