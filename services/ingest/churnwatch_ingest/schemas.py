"""Wire format of the ingest API for OpenAPI: response models, the request schema, examples.

The endpoint writes its JSON with orjson (a 1,000-event answer is built in microseconds); these
models document exactly that shape, and a test checks real answers against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from churnwatch.events import EXAMPLES, EventType, event_json_schema

_REF_PREFIX = "#/components/schemas/"


class ErrorItem(BaseModel):
    field: str = Field(description='Dotted path of the offending field; "" for the whole event.')
    code: str = Field(description="Stable error code, e.g. missing, negative_amount, too_large.")
    message: str


class EventResultModel(BaseModel):
    index: int = Field(description="Position of the event in the request (0 for a single event).")
    event_id: str | None = Field(description="The event's id, when it could be read.")
    status: Literal["accepted", "duplicate", "rejected", "unavailable"] = Field(
        description="accepted: on Kafka, acknowledged. duplicate: this event_id was accepted "
        "before (or earlier in this batch); nothing published. rejected: broke the contract, see "
        "errors. unavailable (503 only): Kafka did not acknowledge it; retry it."
    )
    errors: list[ErrorItem] = Field(default_factory=list)


class IngestResponse(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    unavailable: int | None = Field(None, description="Only in 503 answers.")
    detail: str | None = Field(None, description="Only in 503 answers.")
    results: list[EventResultModel]


class ProblemModel(BaseModel):
    """RFC 9457 problem details: every ingest answer that is not a success (docs/ingest.md)."""

    type: str = Field(examples=["https://churnwatch.dev/problems/unsupported-media-type"])
    title: str = Field(examples=["Unsupported Media Type"])
    status: int = Field(examples=[415])
    detail: str = Field(examples=["Content-Type 'text/plain' is not accepted; send JSON"])
    instance: str = Field(examples=["/v1/events"])


def request_schema(max_batch: int) -> dict[str, Any]:
    """One event, or an array of them (the contract's JSON Schema, referenced from components)."""
    return {
        "oneOf": [
            {"$ref": _REF_PREFIX + "Event"},
            {
                "type": "array",
                "items": {"$ref": _REF_PREFIX + "Event"},
                "minItems": 1,
                "maxItems": max_batch,
            },
        ]
    }


def event_components() -> dict[str, Any]:
    """The contract's schema and its definitions, with refs rewritten for OpenAPI components."""
    schema = event_json_schema()
    defs = schema.pop("$defs", {})
    schema.pop("$schema", None)
    components = {name: _rewrite_refs(body) for name, body in defs.items()}
    components["Event"] = _rewrite_refs(schema)
    return components


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _rewrite_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    if isinstance(node, str) and node.startswith("#/$defs/"):
        return _REF_PREFIX + node.removeprefix("#/$defs/")
    return node


def request_examples() -> dict[str, Any]:
    purchase = EXAMPLES[EventType.PURCHASE]
    bad = {**EXAMPLES[EventType.REFUND], "event_id": "evt_bad_1"}
    bad["attributes"] = {**bad["attributes"], "amount": "-5.00"}
    return {
        "single": {"summary": "One event", "value": purchase},
        "batch": {"summary": "A batch (array) of events", "value": list(EXAMPLES.values())[:3]},
        "mixed": {"summary": "A batch with one bad event (answer: 207)", "value": [purchase, bad]},
    }


def _result(
    index: int, status: str, event_id: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"index": index, "event_id": event_id, "status": status, "errors": errors or []}


def response_examples() -> dict[int, dict[str, Any]]:
    """Examples per status code, as OpenAPI ``responses`` content."""
    eid = EXAMPLES[EventType.PURCHASE]["event_id"]
    neg = {"field": "attributes.amount", "code": "negative_amount", "message": "must be > 0"}
    ok = {"accepted": 1, "duplicates": 0, "rejected": 0, "results": [_result(0, "accepted", eid)]}
    mixed = {
        "accepted": 1,
        "duplicates": 0,
        "rejected": 1,
        "results": [_result(0, "accepted", eid), _result(1, "rejected", "evt_bad_1", [neg])],
    }
    bad = {
        "accepted": 0,
        "duplicates": 0,
        "rejected": 1,
        "results": [_result(0, "rejected", "evt_bad_1", [neg])],
    }
    down = {
        "accepted": 0,
        "duplicates": 0,
        "rejected": 0,
        "unavailable": 1,
        "detail": "Kafka did not acknowledge every event; retry after Retry-After seconds",
        "results": [_result(0, "unavailable", eid)],
    }
    none = "no event was accepted; see results[].errors"
    bad = {**_problem(422, "Every event rejected", none), **bad}
    down = {**_problem(503, "Service Unavailable", str(down["detail"])), **down}
    return {200: ok, 207: mixed, 422: bad, 503: down}


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    slug = "-".join(title.lower().split())
    return {
        "type": f"https://churnwatch.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "/v1/events",
    }
