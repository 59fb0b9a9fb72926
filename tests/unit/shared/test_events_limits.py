"""Document-level checks: size, JSON syntax, shape, clock tolerance, and the limits themselves."""

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest

from churnwatch.errors import ConfigError
from churnwatch.events import (
    DEFAULT_LIMITS,
    EXAMPLES,
    Channel,
    EventRejected,
    EventType,
    ValidationLimits,
    parse_event,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def example(event_type: EventType = EventType.PURCHASE) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[event_type])


def rejection(raw: Any, *, now: datetime = NOW, **limits: Any) -> EventRejected:
    with pytest.raises(EventRejected) as info:
        parse_event(raw, now=now, limits=ValidationLimits(**limits))
    return info.value


def codes(exc: EventRejected) -> list[tuple[str, str]]:
    return [(error.field, error.code) for error in exc.errors]


def padded(size: int) -> bytes:
    """A valid event of exactly `size` bytes (JSON whitespace is free to add)."""
    data = orjson.dumps(EXAMPLES[EventType.PURCHASE])
    assert size >= len(data)
    return data[:-1] + b" " * (size - len(data)) + b"}"


def test_default_limits_match_the_contract():
    assert ValidationLimits() == DEFAULT_LIMITS
    assert (DEFAULT_LIMITS.max_bytes, DEFAULT_LIMITS.max_future) == (
        64 * 1024,
        timedelta(minutes=5),
    )


def test_event_of_exactly_max_bytes_is_accepted():
    limit = DEFAULT_LIMITS.max_bytes
    assert parse_event(padded(limit), now=NOW).event_type == EventType.PURCHASE


@pytest.mark.parametrize("convert", [bytes, bytes.decode], ids=["bytes", "str"])
def test_event_over_max_bytes_is_too_large_and_keeps_its_keys(convert):
    limit = DEFAULT_LIMITS.max_bytes
    exc = rejection(convert(padded(limit + 1)))
    assert codes(exc) == [("", "too_large")]
    assert str(limit) in exc.errors[0].message
    if convert is bytes:
        assert (exc.event_id, exc.customer_id) == (
            EXAMPLES[EventType.PURCHASE]["event_id"],
            "C-1042",
        )


def test_size_is_checked_before_anything_else():
    exc = rejection(b"[" * 200, max_bytes=100)
    assert codes(exc) == [("", "too_large")]
    assert "200" in exc.errors[0].message


def test_oversized_mapping_is_too_large():
    doc = example(EventType.NPS)
    doc["attributes"]["comment"] = "x" * 70_000  # also over 2,000 chars, but size comes first
    exc = rejection(doc)
    assert codes(exc) == [("", "too_large")]
    assert exc.customer_id == "C-1042"


def test_str_size_counts_utf8_bytes_not_characters():
    doc = example(EventType.NPS)
    doc["attributes"]["comment"] = "é" * 1000  # 1,000 characters, 2,000 bytes
    text = orjson.dumps(doc).decode()
    fits = ValidationLimits(max_bytes=len(text.encode()))
    assert (
        parse_event(text, now=NOW, limits=fits).attributes == parse_event(doc, now=NOW).attributes
    )
    assert codes(rejection(text, max_bytes=len(text))) == [("", "too_large")]


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b'{"event_id": ', b"{'a': 1}", b'{"a":1}{"b":2}', "\ud800"],
)
def test_invalid_json(raw):
    exc = rejection(raw)
    assert codes(exc) == [("", "invalid_json")]
    assert (exc.event_id, exc.customer_id, exc.event_type) == (None, None, None)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"[]", "array"),
        (b'[{"event_type": "purchase"}]', "array"),
        (b'"purchase"', "string"),
        (b"42", "integer"),
        (b"null", "null"),
        (b"true", "boolean"),
    ],
)
def test_json_that_is_not_an_object(raw, kind):
    exc = rejection(raw)
    assert codes(exc) == [("", "not_an_object")]
    assert kind in exc.errors[0].message


@pytest.mark.parametrize("raw", [[EXAMPLES[EventType.PURCHASE]], 42, None, ("a", "b")])
def test_python_value_that_is_not_a_mapping(raw):
    assert codes(rejection(raw)) == [("", "not_an_object")]


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", object()])
def test_mapping_that_cannot_be_json(value):
    doc = example()
    doc["attributes"]["order_id"] = value
    exc = rejection(doc)
    assert codes(exc) == [("", "invalid_json")]


def test_mapping_with_python_values_is_encoded_like_json():
    doc = example()
    doc["occurred_at"] = datetime.fromisoformat(doc["occurred_at"])
    doc["attributes"]["amount"] = Decimal("59.90")
    doc["attributes"]["channel"] = Channel.WEB
    doc["schema_version"] = 1
    assert parse_event(doc, now=NOW) == parse_event(EXAMPLES[EventType.PURCHASE], now=NOW)


def test_mapping_with_huge_integer_is_judged_like_its_json():
    doc = example()
    doc["schema_version"] = 10**20  # beyond 64 bits: valid JSON all the same
    assert codes(rejection(doc)) == [("schema_version", "unsupported_schema_version")]
    assert codes(rejection(orjson.dumps(example())[:-1] + b',"x":1' + b"0" * 30 + b"}")) == [
        ("x", "unknown_field")
    ]


@pytest.mark.parametrize("event_type", list(EventType))
def test_occurred_at_beyond_tolerance_is_in_future(event_type):
    doc = example(event_type)
    now = (
        datetime.fromisoformat(doc["occurred_at"])
        - DEFAULT_LIMITS.max_future
        - timedelta(seconds=1)
    )
    exc = rejection(doc, now=now)
    assert codes(exc) == [("occurred_at", "in_future")]
    assert (exc.event_id, exc.event_type) == (doc["event_id"], event_type.value)


@pytest.mark.parametrize("event_type", list(EventType))
def test_occurred_at_within_tolerance_is_accepted(event_type):
    doc = example(event_type)
    occurred_at = datetime.fromisoformat(doc["occurred_at"])
    assert parse_event(doc, now=occurred_at - DEFAULT_LIMITS.max_future).occurred_at == occurred_at


def test_in_future_is_reported_together_with_other_errors():
    doc = example()
    doc["occurred_at"] = (NOW + timedelta(hours=1)).isoformat()
    doc["attributes"]["amount"] = "-1"
    assert codes(rejection(doc)) == [
        ("attributes.amount", "negative_amount"),
        ("occurred_at", "in_future"),
    ]


def test_custom_tolerance():
    doc = example()
    doc["occurred_at"] = (NOW + timedelta(seconds=1)).isoformat()
    assert codes(rejection(doc, max_future=timedelta(0))) == [("occurred_at", "in_future")]
    limits = ValidationLimits(max_future=timedelta(seconds=1))
    assert parse_event(doc, now=NOW, limits=limits).occurred_at == NOW + timedelta(seconds=1)


def test_future_effective_at_is_fine():
    doc = example(EventType.SUBSCRIPTION_CANCELLED)
    doc["attributes"]["effective_at"] = (NOW + timedelta(days=30)).isoformat()
    assert parse_event(doc, now=NOW).event_type == EventType.SUBSCRIPTION_CANCELLED


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_event(EXAMPLES[EventType.PURCHASE], now=datetime(2026, 3, 2))


@pytest.mark.parametrize(
    "limits", [{"max_bytes": 0}, {"max_bytes": -1}, {"max_future": timedelta(seconds=-1)}]
)
def test_limits_out_of_range_are_a_config_error(limits):
    with pytest.raises(ConfigError):
        ValidationLimits(**limits)
