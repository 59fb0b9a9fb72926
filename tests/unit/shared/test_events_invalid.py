"""Invalid events: each variant is rejected with the exact code at the exact field path."""

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from churnwatch.events import (
    EXAMPLES,
    ErrorCode,
    EventRejected,
    EventType,
    parse_event,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)
DOCS = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def example(event_type: EventType) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[event_type])


def rejection(raw: Any) -> EventRejected:
    with pytest.raises(EventRejected) as info:
        parse_event(raw, now=NOW)
    return info.value


def codes(exc: EventRejected) -> list[tuple[str, str]]:
    return [(error.field, error.code) for error in exc.errors]


@pytest.mark.parametrize(
    ("event_type", "field"), [(t, name) for t in EventType for name in EXAMPLES[t]["attributes"]]
)
def test_attribute_of_wrong_json_type(event_type, field):
    doc = example(event_type)
    doc["attributes"][field] = [doc["attributes"][field]]  # an array is right for no field
    exc = rejection(doc)
    assert codes(exc) == [(f"attributes.{field}", "wrong_type")]
    assert "got array" in exc.errors[0].message


@pytest.mark.parametrize(
    ("event_type", "field"), [(t, name) for t in EventType for name in EXAMPLES[t]]
)
def test_envelope_field_of_wrong_json_type(event_type, field):
    doc = example(event_type)
    doc[field] = [doc[field]]
    assert codes(rejection(doc)) == [(field, "wrong_type")]


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        (EventType.PURCHASE, "items", "2"),
        (EventType.PURCHASE, "items", 2.0),
        (EventType.PURCHASE, "items", True),
        (EventType.PURCHASE, "amount", True),
        (EventType.PURCHASE, "amount", None),
        (EventType.PURCHASE, "channel", 1),
        (EventType.SUBSCRIPTION_STARTED, "trial", "yes"),
        (EventType.SUBSCRIPTION_STARTED, "trial", 1),
        (EventType.NPS, "score", "9"),
        (EventType.NPS, "score", 9.0),
        (EventType.NPS, "comment", 5),
        (EventType.SESSION, "duration_seconds", "312"),
        (EventType.CUSTOMER_PROFILE, "signed_up_at", 1_700_000_000),
        (EventType.CUSTOMER_PROFILE, "consent", "all"),
    ],
)
def test_lax_coercions_are_refused(event_type, field, value):
    doc = example(event_type)
    doc["attributes"][field] = value
    assert codes(rejection(doc)) == [(f"attributes.{field}", "wrong_type")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_at", 1_700_000_000),
        ("schema_version", "1"),
        ("schema_version", True),
        ("schema_version", 1.0),
        ("attributes", "order O-77"),
        ("event_id", 77),
    ],
)
def test_envelope_coercions_are_refused(field, value):
    doc = example(EventType.PURCHASE)
    doc[field] = value
    assert codes(rejection(doc)) == [(field, "wrong_type")]


@pytest.mark.parametrize("version", [0, 2, -1, 10**20])
def test_unsupported_schema_version(version):
    doc = example(EventType.PURCHASE)
    doc["schema_version"] = version
    exc = rejection(doc)
    assert codes(exc) == [("schema_version", "unsupported_schema_version")]
    assert str(version) in exc.errors[0].message


@pytest.mark.parametrize("event_type", list(EventType))
def test_unknown_attribute_field(event_type):
    doc = example(event_type)
    doc["attributes"]["colour"] = "red"
    exc = rejection(doc)
    assert codes(exc) == [("attributes.colour", "unknown_field")]
    for allowed in EXAMPLES[event_type]["attributes"]:
        assert allowed in exc.errors[0].message


def test_unknown_nested_and_envelope_fields():
    doc = example(EventType.CUSTOMER_PROFILE)
    doc["attributes"]["consent"]["fax"] = True
    doc["priority"] = "high"
    assert sorted(codes(rejection(doc))) == [
        ("attributes.consent.fax", "unknown_field"),
        ("priority", "unknown_field"),
    ]


@pytest.mark.parametrize("event_type", list(EventType))
@pytest.mark.parametrize("bad", ["purchse", "Purchase", "", "order_placed"])
def test_unknown_event_type_names_value_and_lists_valid_ones(event_type, bad):
    doc = example(event_type)
    doc["event_type"] = bad
    exc = rejection(doc)
    assert codes(exc) == [("event_type", "unknown_event_type")]
    assert f'"{bad}"' in exc.errors[0].message
    assert all(t.value in exc.errors[0].message for t in EventType)
    assert (exc.event_type, exc.event_id, exc.customer_id) == (bad, doc["event_id"], "C-1042")


def test_unknown_event_type_suggests_the_closest():
    doc = example(EventType.PURCHASE)
    doc["event_type"] = "purchse"
    assert "did you mean 'purchase'" in rejection(doc).errors[0].message


def test_unknown_event_type_still_reports_envelope_errors():
    doc = example(EventType.PURCHASE)
    doc["event_type"] = "order"
    doc["customer_id"] = "has space"
    del doc["source"]
    doc["attributes"] = None
    assert codes(rejection(doc)) == [
        ("event_type", "unknown_event_type"),
        ("customer_id", "invalid_value"),
        ("source", "missing"),
        ("attributes", "wrong_type"),
    ]


@pytest.mark.parametrize("value", [5, None, ["purchase"], {"type": "purchase"}])
def test_event_type_of_wrong_json_type(value):
    doc = example(EventType.PURCHASE)
    doc["event_type"] = value
    exc = rejection(doc)
    assert codes(exc) == [("event_type", "wrong_type")]
    assert exc.event_type is None


@pytest.mark.parametrize(
    ("event_type", "path"),
    [
        (EventType.PURCHASE, ("occurred_at",)),
        (EventType.CUSTOMER_PROFILE, ("attributes", "signed_up_at")),
        (EventType.SUBSCRIPTION_CANCELLED, ("attributes", "effective_at")),
    ],
)
@pytest.mark.parametrize("naive", ["2026-03-01T10:15:00", "2026-03-01 10:15:00.123456"])
def test_naive_datetime(event_type, path, naive):
    doc = example(event_type)
    parent = doc if len(path) == 1 else doc["attributes"]
    parent[path[-1]] = naive
    exc = rejection(doc)
    assert codes(exc) == [(".".join(path), "naive_datetime")]
    assert naive in exc.errors[0].message


@pytest.mark.parametrize(
    "value", ["2026-03-01", "2026-13-01T10:00:00Z", "yesterday", "2026-03-01T10:00:00+25:00", ""]
)
def test_malformed_datetime(value):
    doc = example(EventType.PURCHASE)
    doc["occurred_at"] = value
    assert codes(rejection(doc)) == [("occurred_at", "invalid_value")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_id", ""),
        ("event_id", "evt 1"),
        ("event_id", "e" * 129),
        ("customer_id", "C/1042"),
        ("customer_id", "c" * 65),
        ("source", ""),
        ("source", "shop\nweb"),
        ("source", "s" * 65),
    ],
)
def test_envelope_string_rules(field, value):
    doc = example(EventType.PURCHASE)
    doc[field] = value
    assert codes(rejection(doc)) == [(field, "invalid_value")]


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        (EventType.PURCHASE, "order_id", ""),
        (EventType.PURCHASE, "order_id", "O\t77"),
        (EventType.PURCHASE, "order_id", "o" * 129),
        (EventType.PURCHASE, "items", 0),
        (EventType.PURCHASE, "channel", "fax"),
        (EventType.NPS, "score", 11),
        (EventType.NPS, "score", -1),
        (EventType.NPS, "comment", "x" * 2001),
        (EventType.SESSION, "duration_seconds", -0.5),
        (EventType.SESSION, "duration_seconds", 86_401),
        (EventType.SESSION, "pages", -1),
        (EventType.FEATURE_USE, "count", 0),
        (EventType.PAYMENT_FAILED, "attempt", 0),
        (EventType.CUSTOMER_PROFILE, "country", "de"),
        (EventType.CUSTOMER_PROFILE, "country", "DEU"),
        (EventType.CUSTOMER_PROFILE, "language", "german!"),
        (EventType.CUSTOMER_PROFILE, "email", "jana.example.com"),
        (EventType.CUSTOMER_PROFILE, "phone", "call me"),
        (EventType.EMAIL_ENGAGEMENT, "action", "forwarded"),
        (EventType.CUSTOMER_ERASED, "reason", "because"),
    ],
)
def test_attribute_value_rules(event_type, field, value):
    doc = example(event_type)
    doc["attributes"][field] = value
    assert codes(rejection(doc)) == [(f"attributes.{field}", "invalid_value")]


def test_every_error_is_reported_in_document_order():
    doc = example(EventType.PURCHASE)
    doc["event_id"] = ""
    doc["occurred_at"] = "2026-03-01T10:15:00"
    doc["schema_version"] = 2
    doc["attributes"].update(amount="-5", currency="eur", items="2", colour="red")
    del doc["attributes"]["order_id"]
    exc = rejection(doc)
    assert codes(exc) == [
        ("event_id", "invalid_value"),
        ("occurred_at", "naive_datetime"),
        ("schema_version", "unsupported_schema_version"),
        ("attributes.order_id", "missing"),
        ("attributes.amount", "negative_amount"),
        ("attributes.currency", "invalid_value"),
        ("attributes.items", "wrong_type"),
        ("attributes.colour", "unknown_field"),
    ]
    assert exc.reason == "invalid_value"


def test_messages_are_specific():
    doc = example(EventType.PURCHASE)
    doc["attributes"].update(currency="eur", items="2")
    first, second = rejection(doc).errors
    assert "ISO 4217" in first.message
    assert '"eur"' in first.message
    assert second.message == 'expected an integer, got string "2"'


def test_every_code_is_documented():
    errors_section = DOCS.read_text().split("## Errors", 1)[1]
    listed = errors_section.split("Codes:", 1)[1].split(".\n", 1)[0]
    assert {code.strip().strip("`") for code in listed.split(",")} == {c.value for c in ErrorCode}
