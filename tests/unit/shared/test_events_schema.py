"""The generated JSON Schema describes the same contract the validator enforces."""

import copy
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs pinned; used untyped
import pytest

import churnwatch.events as events
from churnwatch.events import (
    EVENT_CLASSES,
    EXAMPLES,
    EventRejected,
    EventType,
    event_json_schema,
    event_type_json_schema,
    parse_event,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)
ENUMS = {
    name: value
    for name, value in vars(events).items()
    if isinstance(value, type) and issubclass(value, StrEnum) and name not in ("ErrorCode",)
}


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def check_structure(schema: dict[str, Any], node: dict[str, Any], value: Any, path: str) -> None:
    """A small structural check: required keys, no unknown keys, const and enum values."""
    node = resolve(schema, node)
    if "anyOf" in node:
        options = [resolve(schema, option) for option in node["anyOf"]]
        if value is None:
            assert any(option.get("type") == "null" for option in options), path
            return
        node = next((o for o in options if o.get("type") != "null"), options[0])
    if "const" in node:
        assert value == node["const"], path
    if "enum" in node:
        assert value in node["enum"], path
    if node.get("type") == "object":
        assert isinstance(value, dict), path
        assert set(node.get("required", [])) <= set(value), path
        assert set(value) <= set(node["properties"]), path
        for key, item in value.items():
            check_structure(schema, node["properties"][key], item, f"{path}.{key}")


@pytest.mark.parametrize("event_type", list(EventType))
def test_example_fits_its_type_schema_structurally(event_type):
    schema = event_type_json_schema(event_type)
    check_structure(schema, schema, EXAMPLES[event_type], "")
    assert schema["examples"] == [EXAMPLES[event_type]]
    assert schema["$schema"].endswith("2020-12/schema")


def test_union_schema_is_keyed_by_event_type():
    schema = event_json_schema()
    mapping = schema["discriminator"]["mapping"]
    assert set(mapping) == {t.value for t in EventType}
    assert len(schema["oneOf"]) == len(EventType)
    for event_type, ref in mapping.items():
        assert ref.rsplit("/", 1)[-1] == EVENT_CLASSES[EventType(event_type)].__name__
        check_structure(schema, {"$ref": ref}, EXAMPLES[EventType(event_type)], event_type)


def test_enum_values_in_schema_match_the_enums():
    defs = event_json_schema()["$defs"]
    used = {name for name in ENUMS if name in defs}
    assert used == set(ENUMS) - {"EventType"}  # event_type is a const per class, not an enum
    for name in used:
        assert defs[name]["enum"] == [member.value for member in ENUMS[name]]


def test_schemas_are_fresh_copies():
    schema = event_json_schema()
    schema["oneOf"].clear()
    assert event_json_schema()["oneOf"]
    one = event_type_json_schema(EventType.NPS)
    one["required"].clear()
    assert event_type_json_schema(EventType.NPS)["required"]


@cache
def validator(event_type: EventType | None = None) -> Any:
    """A checked validator for one type's schema, or for the union when `event_type` is None."""
    schema = event_json_schema() if event_type is None else event_type_json_schema(event_type)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("event_type", list(EventType))
def test_example_validates_against_the_schemas(event_type):
    assert list(validator(event_type).iter_errors(EXAMPLES[event_type])) == []
    assert list(validator().iter_errors(EXAMPLES[event_type])) == []


def mutated(event_type: EventType, path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(EXAMPLES[event_type])
    *parents, last = path.split(".")
    target = doc
    for part in parents:
        target = target[part]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return doc


@pytest.mark.parametrize(
    ("event_type", "path", "value"),
    [
        (EventType.PURCHASE, "attributes.amount", "-1"),
        (EventType.PURCHASE, "attributes.amount", "1.23456"),
        (EventType.PURCHASE, "attributes.amount", 1e12),
        (EventType.REFUND, "attributes.amount", 0),
        (EventType.REFUND, "attributes.amount", "0.00"),
        (EventType.PURCHASE, "attributes.currency", "eur"),
        (EventType.PURCHASE, "attributes.items", "2"),
        (EventType.PURCHASE, "attributes.colour", "red"),
        (EventType.PURCHASE, "attributes.order_id", KeyError),
        (EventType.PURCHASE, "schema_version", 2),
        (EventType.PURCHASE, "event_type", "purchse"),
        (EventType.PURCHASE, "customer_id", "has space"),
        (EventType.NPS, "attributes.score", 11),
        (EventType.SESSION, "attributes.channel", "fax"),
        (EventType.CUSTOMER_PROFILE, "attributes.consent.fax", True),
    ],
)
def test_schema_and_validator_reject_the_same_documents(event_type, path, value):
    doc = mutated(event_type, path, value)
    with pytest.raises(EventRejected):
        parse_event(doc, now=NOW)
    assert list(validator().iter_errors(doc)) != []
