"""Property tests: generated valid purchases round-trip; nothing but EventRejected escapes."""

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from churnwatch.events import (
    EXAMPLES,
    MONEY_MAX,
    Channel,
    ErrorCode,
    EventRejected,
    EventType,
    PurchaseEvent,
    ValidationLimits,
    event_to_json,
    parse_event,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)
CODES = {code.value for code in ErrorCode}

offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_times = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2026, 3, 1)),
    offsets,
)
amounts = st.decimals(min_value=0, max_value=MONEY_MAX - Decimal("0.0001"), places=4)
names = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=128
)  # no control characters, no lone surrogates
ids = st.from_regex(r"\A[A-Za-z0-9._:-]{1,128}\Z")
customer_ids = st.from_regex(r"\A[A-Za-z0-9._:@-]{1,64}\Z")
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def purchases(draw: st.DrawFn) -> dict[str, Any]:
    amount = draw(amounts)
    return {
        "event_id": draw(ids),
        "event_type": "purchase",
        "customer_id": draw(customer_ids),
        "occurred_at": draw(aware_times).isoformat(),
        "source": draw(names.filter(lambda s: len(s) <= 64)),
        "schema_version": 1,
        "attributes": {
            "order_id": draw(names),
            "amount": draw(st.sampled_from([str(amount), float(amount)]))
            if amount < 10**9
            else str(amount),
            "currency": draw(st.from_regex(r"\A[A-Z]{3}\Z")),
            "items": draw(st.integers(min_value=1, max_value=10**6)),
            "channel": draw(st.sampled_from(list(Channel))).value,
        },
    }


def rejection_or_none(raw: Any, **limits: Any) -> EventRejected | None:
    """The rejection, or None when `raw` is a valid event; any other exception propagates."""
    try:
        event = parse_event(raw, now=NOW, limits=ValidationLimits(**limits))
    except EventRejected as exc:
        return exc
    assert event_to_json(event)
    return None


def assert_well_formed(exc: EventRejected | None) -> None:
    if exc is None:
        return
    assert exc.errors
    for error in exc.errors:
        assert error.code in CODES
        assert error.message
        assert error.field == "" or not error.field.startswith(".")


@given(purchases())
def test_generated_purchase_round_trips(doc):
    event = parse_event(orjson.dumps(doc), now=NOW)
    assert isinstance(event, PurchaseEvent)
    assert event.attributes.amount == Decimal(str(doc["attributes"]["amount"]))
    assert event.occurred_at == datetime.fromisoformat(doc["occurred_at"])
    data = event_to_json(event)
    assert parse_event(data, now=NOW) == event
    assert event_to_json(parse_event(json.loads(data), now=NOW)) == data


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_event_rejected(data):
    assert_well_formed(rejection_or_none(data, max_bytes=200))


@given(json_values)
def test_arbitrary_json_documents_only_ever_raise_event_rejected(value):
    for raw in (json.dumps(value).encode(), value):
        assert_well_formed(rejection_or_none(raw))


@given(
    st.sampled_from(list(EventType)),
    st.data(),
    json_values,
)
def test_one_corrupted_field_is_rejected_at_that_field_or_accepted(event_type, data, value):
    doc = copy.deepcopy(EXAMPLES[event_type])
    in_attributes = data.draw(st.booleans()) and bool(doc["attributes"])
    target = doc["attributes"] if in_attributes else doc
    key = data.draw(st.sampled_from(sorted(target)))
    target[key] = value
    path = f"attributes.{key}" if in_attributes else key
    assume(not (path == "event_type" and isinstance(value, str) and value in set(EventType)))
    exc = rejection_or_none(doc)
    assert_well_formed(exc)
    for error in exc.errors if exc else ():
        assert error.field == path or error.field.startswith((f"{path}.", f"{path}[")), exc
