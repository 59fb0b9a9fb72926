"""Pure helpers of ``POST /v1/events``: split a body into events, tally results, pick the status.

No I/O here, so the rules the API documents are tested in microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from churnwatch.events import FieldError

EventStatus = Literal["accepted", "duplicate", "rejected", "unavailable"]
"""``unavailable`` appears only in 503 answers: Kafka did not acknowledge that event."""


class TooManyEvents(ValueError):
    """The batch holds more events than ``max_batch`` (HTTP 413)."""


class EmptyBatch(ValueError):
    """The body is an empty JSON array (HTTP 422): almost surely a client bug."""


@dataclass(slots=True)
class EventResult:
    """What happened to the event at ``index`` of the request."""

    index: int
    event_id: str | None
    status: EventStatus
    errors: tuple[FieldError, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "event_id": self.event_id,
            "status": self.status,
            "errors": [e.to_dict() for e in self.errors],
        }


def split_body(body: bytes, *, max_batch: int) -> list[Any]:
    """The events of a body: one object, or an array of up to ``max_batch`` items.

    A body that is not JSON, or JSON but neither object nor array, is returned as one item that
    `parse_event` then rejects with the contract's own code (``invalid_json``, ``not_an_object``).

    >>> split_body(b'{"event_id": "e1"}', max_batch=10)
    [{'event_id': 'e1'}]
    >>> split_body(b'[{"a": 1}, 2]', max_batch=10)
    [{'a': 1}, 2]
    >>> split_body(b'not json', max_batch=10)
    [b'not json']
    """
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [body]
    if isinstance(doc, list):
        if len(doc) > max_batch:
            raise TooManyEvents(f"{len(doc)} events in one request; at most {max_batch}")
        if not doc:
            raise EmptyBatch("the batch is empty")
        return doc
    return [doc]


def counts(results: Sequence[EventResult]) -> dict[EventStatus, int]:
    """How many results have each status.

    >>> counts([EventResult(0, "a", "accepted"), EventResult(1, "a", "duplicate")])["accepted"]
    1
    """
    tally: dict[EventStatus, int] = {"accepted": 0, "duplicate": 0, "rejected": 0, "unavailable": 0}
    for result in results:
        tally[result.status] += 1
    return tally


def status_code(results: Sequence[EventResult]) -> int:
    """The HTTP status of a request from its per-event results.

    503 if Kafka did not acknowledge some event; else 200 if nothing was rejected, 422 if
    everything was, 207 for a mix.

    >>> ok, bad = EventResult(0, "a", "accepted"), EventResult(1, None, "rejected")
    >>> status_code([ok]), status_code([ok, bad]), status_code([bad])
    (200, 207, 422)
    >>> status_code([ok, EventResult(1, "b", "unavailable")])
    503
    """
    tally = counts(results)
    if tally["unavailable"]:
        return 503
    if not tally["rejected"]:
        return 200
    if tally["accepted"] or tally["duplicate"]:
        return 207
    return 422


def response_body(results: Sequence[EventResult], *, detail: str | None = None) -> dict[str, Any]:
    """The JSON answer: totals first, then one entry per event in request order."""
    tally = counts(results)
    body: dict[str, Any] = {
        "accepted": tally["accepted"],
        "duplicates": tally["duplicate"],
        "rejected": tally["rejected"],
    }
    if tally["unavailable"] or detail:
        body["unavailable"] = tally["unavailable"]
        body["detail"] = detail
    body["results"] = [r.to_dict() for r in sorted(results, key=lambda r: r.index)]
    return body
