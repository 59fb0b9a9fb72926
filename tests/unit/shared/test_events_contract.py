"""The models against the tables of docs/events.md, written out here independently of the code."""

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from churnwatch.events import (
    EVENT_CLASSES,
    EXAMPLES,
    EventRejected,
    EventType,
    event_type_json_schema,
    parse_event,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)
ENVELOPE = (
    "event_id",
    "event_type",
    "customer_id",
    "occurred_at",
    "source",
    "schema_version",
    "attributes",
)
T = EventType
REQUIRED_ATTRIBUTES: dict[EventType, set[str]] = {
    T.CUSTOMER_PROFILE: set(),
    T.SESSION: {"session_id", "duration_seconds"},
    T.FEATURE_USE: {"feature"},
    T.EMAIL_ENGAGEMENT: {"campaign_id", "action"},
    T.SUPPORT_TICKET: {"ticket_id", "status"},
    T.COMPLAINT: {"complaint_id", "status", "reason"},
    T.NPS: {"score"},
    T.PURCHASE: {"order_id", "amount", "currency"},
    T.REFUND: {"refund_id", "order_id", "amount", "currency"},
    T.SUBSCRIPTION_STARTED: {"subscription_id", "plan", "price", "currency", "billing_period"},
    T.SUBSCRIPTION_RENEWED: {"subscription_id", "plan", "price", "currency", "billing_period"},
    T.SUBSCRIPTION_CHANGED: {
        "subscription_id",
        "change",
        "from_plan",
        "to_plan",
        "old_price",
        "new_price",
        "currency",
        "billing_period",
    },
    T.SUBSCRIPTION_CANCELLED: {"subscription_id"},
    T.PAYMENT_FAILED: {"payment_id", "amount", "currency"},
    T.OFFER_RESPONSE: {"offer_id", "response"},
    T.CUSTOMER_ERASED: set(),
    T.SUBSCRIPTION_EXPIRED: {"subscription_id"},
}
# money field -> may it be zero?
MONEY: dict[EventType, dict[str, bool]] = {
    T.PURCHASE: {"amount": True},
    T.REFUND: {"amount": False},
    T.SUBSCRIPTION_STARTED: {"price": True},
    T.SUBSCRIPTION_RENEWED: {"price": True},
    T.SUBSCRIPTION_CHANGED: {"old_price": True, "new_price": True},
    T.PAYMENT_FAILED: {"amount": False},
}
MONEY_CASES = [
    (t, name, zero_ok) for t, fields in MONEY.items() for name, zero_ok in fields.items()
]


def example(event_type: EventType) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[event_type])


def rejection(doc: dict[str, Any]) -> EventRejected:
    with pytest.raises(EventRejected) as info:
        parse_event(doc, now=NOW)
    return info.value


def codes(exc: EventRejected) -> list[tuple[str, str]]:
    return [(error.field, error.code) for error in exc.errors]


def test_spec_table_covers_every_event_type():
    assert set(REQUIRED_ATTRIBUTES) == set(EventType) == set(EVENT_CLASSES)


@pytest.mark.parametrize("event_type", list(EventType))
def test_required_fields_match_the_spec(event_type):
    event_class = EVENT_CLASSES[event_type]
    attributes_class = event_class.model_fields["attributes"].annotation
    assert attributes_class is not None
    required = {name for name, info in attributes_class.model_fields.items() if info.is_required()}
    assert required == REQUIRED_ATTRIBUTES[event_type]
    assert tuple(event_class.model_fields) == ENVELOPE
    assert all(info.is_required() for info in event_class.model_fields.values())


@pytest.mark.parametrize("event_type", list(EventType))
def test_json_schema_requires_what_the_spec_requires(event_type):
    schema = event_type_json_schema(event_type)
    attributes_ref = schema["properties"]["attributes"]["$ref"].rsplit("/", 1)[-1]
    attributes = schema["$defs"][attributes_ref]
    assert schema["required"] == list(ENVELOPE)
    assert set(attributes.get("required", [])) == REQUIRED_ATTRIBUTES[event_type]
    assert attributes["additionalProperties"] is False
    assert schema["properties"]["event_type"]["const"] == event_type.value


@pytest.mark.parametrize("event_type", list(EventType))
def test_examples_show_every_attribute(event_type):
    """Examples double as OpenAPI docs and as the base of the generic invalid-variant tests."""
    attributes_class = EVENT_CLASSES[event_type].model_fields["attributes"].annotation
    assert attributes_class is not None
    assert list(EXAMPLES[event_type]["attributes"]) == list(attributes_class.model_fields)


@pytest.mark.parametrize(
    ("event_type", "field"),
    [(t, name) for t in EventType for name in ENVELOPE if name != "event_type"],
)
def test_missing_envelope_field(event_type, field):
    doc = example(event_type)
    del doc[field]
    exc = rejection(doc)
    assert codes(exc) == [(field, "missing")]
    assert exc.event_type == event_type.value


@pytest.mark.parametrize("event_type", list(EventType))
def test_missing_event_type(event_type):
    doc = example(event_type)
    del doc["event_type"]
    exc = rejection(doc)
    assert codes(exc) == [("event_type", "missing")]
    assert exc.event_id == doc["event_id"]
    assert exc.event_type is None


@pytest.mark.parametrize(
    ("event_type", "field"),
    [(t, name) for t, names in REQUIRED_ATTRIBUTES.items() for name in sorted(names)],
)
def test_missing_required_attribute(event_type, field):
    doc = example(event_type)
    del doc["attributes"][field]
    assert codes(rejection(doc)) == [(f"attributes.{field}", "missing")]


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        (t, name)
        for t in EventType
        for name in EXAMPLES[t]["attributes"]
        if name not in REQUIRED_ATTRIBUTES[t]
    ],
)
def test_optional_attribute_may_be_left_out(event_type, field):
    doc = example(event_type)
    del doc["attributes"][field]
    event = parse_event(doc, now=NOW)
    default = type(event.attributes).model_fields[field].get_default(call_default_factory=True)
    assert getattr(event.attributes, field) == default


@pytest.mark.parametrize(("event_type", "field", "zero_ok"), MONEY_CASES)
def test_negative_amount(event_type, field, zero_ok):
    doc = example(event_type)
    doc["attributes"][field] = "-0.01"
    exc = rejection(doc)
    assert codes(exc) == [(f"attributes.{field}", "negative_amount")]
    assert "-0.01" in exc.errors[0].message


@pytest.mark.parametrize(("event_type", "field", "zero_ok"), MONEY_CASES)
def test_zero_amount_only_where_allowed(event_type, field, zero_ok):
    doc = example(event_type)
    doc["attributes"][field] = 0
    if zero_ok:
        assert getattr(parse_event(doc, now=NOW).attributes, field) == 0
    else:
        assert codes(rejection(doc)) == [(f"attributes.{field}", "negative_amount")]


@pytest.mark.parametrize(("event_type", "field", "zero_ok"), MONEY_CASES)
@pytest.mark.parametrize(
    "amount", ["1.00001", 0.00001, "1000000000000", 1e12, "NaN", "Infinity", "-Infinity", "12,50"]
)
def test_out_of_range_or_malformed_amount(event_type, field, zero_ok, amount):
    doc = example(event_type)
    doc["attributes"][field] = amount
    assert codes(rejection(doc)) == [(f"attributes.{field}", "invalid_value")]


@pytest.mark.parametrize(("event_type", "field", "zero_ok"), MONEY_CASES)
@pytest.mark.parametrize("amount", ["999999999999.9999", 999999999999.99, "0.0001", 7])
def test_amount_limits_are_inclusive_of_the_largest_valid_value(event_type, field, zero_ok, amount):
    doc = example(event_type)
    doc["attributes"][field] = amount
    assert getattr(parse_event(doc, now=NOW).attributes, field) == Decimal(str(amount))


@pytest.mark.parametrize("event_type", list(MONEY))
@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", "", "€", 978, None])
def test_bad_currency(event_type, currency):
    doc = example(event_type)
    doc["attributes"]["currency"] = currency
    expected = "invalid_value" if isinstance(currency, str) else "wrong_type"
    assert codes(rejection(doc)) == [("attributes.currency", expected)]
