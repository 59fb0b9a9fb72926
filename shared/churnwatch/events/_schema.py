"""JSON Schema of the contract, generated from the models; the API serves it, the CLI writes it."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from ._enums import EventType
from ._models import EVENT_CLASSES
from ._validate import EVENT_ADAPTER

__all__ = ["event_json_schema", "event_type_json_schema"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of any event: a ``oneOf`` keyed by ``event_type``.

    Returns a fresh copy, which the caller may change.

    >>> schema = event_json_schema()
    >>> schema["discriminator"]["propertyName"], len(schema["oneOf"])
    ('event_type', 17)
    """
    return copy.deepcopy(_union_schema())


def event_type_json_schema(event_type: EventType) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of one event type, with its example.

    >>> schema = event_type_json_schema(EventType.PURCHASE)
    >>> schema["properties"]["event_type"]["const"], schema["required"][:2]
    ('purchase', ['event_id', 'event_type'])
    """
    return copy.deepcopy(_type_schema(EventType(event_type)))


@cache
def _union_schema() -> dict[str, Any]:
    schema = EVENT_ADAPTER.json_schema()
    return {"$schema": _DIALECT, "title": "churnwatch event (contract v1)", **schema}


@cache
def _type_schema(event_type: EventType) -> dict[str, Any]:
    return {"$schema": _DIALECT, **EVENT_CLASSES[event_type].model_json_schema()}
