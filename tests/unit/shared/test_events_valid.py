"""Valid events: every example parses, normalises, and round-trips through its canonical JSON."""

import copy
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar, get_args

import orjson
import pytest
from pydantic import ValidationError

from churnwatch.events import (
    EVENT_CLASSES,
    EXAMPLES,
    Channel,
    CustomerProfileEvent,
    Event,
    EventEnvelope,
    EventType,
    NpsEvent,
    PurchaseAttributes,
    PurchaseEvent,
    event_to_json,
    parse_event,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def example(event_type: EventType) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[event_type])


E = TypeVar("E", bound=EventEnvelope[Any])


def parse_as(cls: type[E], raw: Any) -> E:
    event = parse_event(raw, now=NOW)
    assert isinstance(event, cls)
    return event


def purchase_with(**attributes: Any) -> dict[str, Any]:
    doc = example(EventType.PURCHASE)
    doc["attributes"].update(attributes)
    return doc


@pytest.mark.parametrize("event_type", list(EventType))
def test_example_parses_to_its_class(event_type):
    event = parse_event(orjson.dumps(EXAMPLES[event_type]), now=NOW)
    assert type(event) is EVENT_CLASSES[event_type]
    assert event.event_type == event_type
    assert event.event_id == EXAMPLES[event_type]["event_id"]


@pytest.mark.parametrize("event_type", list(EventType))
def test_bytes_str_and_mapping_inputs_agree(event_type):
    data = orjson.dumps(EXAMPLES[event_type])
    from_bytes = parse_event(data, now=NOW)
    assert parse_event(data.decode(), now=NOW) == from_bytes
    assert parse_event(EXAMPLES[event_type], now=NOW) == from_bytes


@pytest.mark.parametrize("event_type", list(EventType))
def test_round_trip_through_canonical_json(event_type):
    event = parse_event(EXAMPLES[event_type], now=NOW)
    data = event_to_json(event)
    assert parse_event(data, now=NOW) == event
    assert event_to_json(parse_event(data, now=NOW)) == data


@pytest.mark.parametrize("event_type", list(EventType))
def test_canonical_json_ignores_key_order_and_whitespace(event_type):
    doc = EXAMPLES[event_type]
    shuffled = dict(reversed(list(doc.items())))
    shuffled["attributes"] = dict(reversed(list(doc["attributes"].items())))
    pretty = json.dumps(shuffled, indent=4).encode()
    assert event_to_json(parse_event(pretty, now=NOW)) == event_to_json(parse_event(doc, now=NOW))


def test_canonical_json_is_compact_with_string_amounts_and_utc_times():
    event = parse_as(PurchaseEvent, purchase_with(amount=59.9))
    data = event_to_json(event)
    doc = json.loads(data)
    assert data == json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    assert doc["attributes"]["amount"] == str(event.attributes.amount)
    assert doc["occurred_at"].endswith("Z")


@pytest.mark.parametrize("event_type", list(EventType))
def test_timestamps_are_normalised_to_utc(event_type):
    doc = example(event_type)
    original = datetime.fromisoformat(doc["occurred_at"])
    doc["occurred_at"] = original.astimezone(UTC).astimezone().isoformat()  # local offset
    event = parse_event(doc, now=NOW)
    assert event.occurred_at == original
    assert event.occurred_at.tzinfo is UTC


def test_attribute_timestamps_are_normalised_to_utc():
    event = parse_as(CustomerProfileEvent, EXAMPLES[EventType.CUSTOMER_PROFILE])
    raw = EXAMPLES[EventType.CUSTOMER_PROFILE]["attributes"]["signed_up_at"]
    assert event.attributes.signed_up_at == datetime.fromisoformat(raw)
    assert event.attributes.signed_up_at is not None
    assert event.attributes.signed_up_at.tzinfo is UTC


def test_offsets_are_compared_in_utc_for_the_future_check():
    ahead_locally = (NOW - timedelta(hours=1)).astimezone(timezone(timedelta(hours=2)))
    doc = example(EventType.PURCHASE)
    doc["occurred_at"] = ahead_locally.isoformat()
    assert parse_event(doc, now=NOW).occurred_at == NOW - timedelta(hours=1)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("59.90", "59.90"),
        (59.9, "59.9"),
        (10, "10"),
        ("1E+3", "1000"),
        ("0.50000", "0.5000"),
        ("-0", "0"),
        ("0.0000", "0.0000"),
    ],
)
def test_amounts_accept_strings_and_numbers_and_serialise_as_plain_strings(amount, expected):
    event = parse_as(PurchaseEvent, purchase_with(amount=amount))
    assert event.attributes.amount == Decimal(str(amount))
    assert json.loads(event_to_json(event))["attributes"]["amount"] == expected


def test_defaults_are_filled_in():
    doc = example(EventType.PURCHASE)
    doc["attributes"] = {"order_id": "O-1", "amount": "5", "currency": "USD"}
    attributes = parse_event(doc, now=NOW).attributes
    assert isinstance(attributes, PurchaseAttributes)
    assert (attributes.items, attributes.channel) == (1, Channel.WEB)


def test_optional_fields_accept_null():
    doc = example(EventType.CUSTOMER_PROFILE)
    doc["attributes"] = dict.fromkeys(doc["attributes"])
    del doc["attributes"]["consent"]
    event = parse_as(CustomerProfileEvent, doc)
    assert event.attributes.email is None
    assert event.attributes.consent.email is None


def test_events_and_attributes_are_frozen_and_hashable():
    event = parse_as(PurchaseEvent, EXAMPLES[EventType.PURCHASE])
    with pytest.raises(ValidationError):
        event.customer_id = "C-2"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        event.attributes.amount = Decimal(1)  # type: ignore[misc]
    assert hash(event) == hash(parse_event(EXAMPLES[EventType.PURCHASE], now=NOW))


@pytest.mark.parametrize("event_type", list(EventType))
def test_events_survive_pickle(event_type):
    event = parse_event(EXAMPLES[event_type], now=NOW)
    assert pickle.loads(pickle.dumps(event)) == event


def test_python_construction_is_lax_but_checked():
    attributes = PurchaseAttributes(order_id="O-1", amount="12.5", currency="EUR", channel="store")
    assert (attributes.amount, attributes.channel) == (Decimal("12.5"), Channel.STORE)
    when = datetime(2026, 3, 1, 12, tzinfo=UTC)
    event = PurchaseEvent(
        event_id="e-1",
        event_type="purchase",
        customer_id="C-1",
        occurred_at=when,
        source="sim",
        schema_version=1,
        attributes=attributes,
    )
    assert parse_event(event_to_json(event), now=NOW) == event
    with pytest.raises(ValidationError):
        PurchaseAttributes(order_id="O-1", amount="-1", currency="EUR")
    with pytest.raises(ValidationError):
        PurchaseEvent.model_validate({**event.model_dump(), "schema_version": True})


def test_event_union_and_event_classes_agree():
    members = get_args(get_args(Event)[0])
    assert set(members) == set(EVENT_CLASSES.values())
    assert len(members) == len(EventType)


def test_free_text_may_contain_newlines():
    doc = example(EventType.NPS)
    doc["attributes"]["comment"] = "Line one.\nLine two."
    assert parse_as(NpsEvent, doc).attributes.comment == "Line one.\nLine two."


@pytest.mark.parametrize("customer_id", ["C-1042", "jana@example.com", "crm:42", "a" * 64])
def test_customer_id_charset(customer_id):
    doc = example(EventType.PURCHASE)
    doc["customer_id"] = customer_id
    assert parse_event(doc, now=NOW).customer_id == customer_id
