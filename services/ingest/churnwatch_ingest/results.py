"""Pure helpers of ``POST /v1/events``: split a body into events, tally results, pick the status.

No I/O here, so the rules the API documents are tested in microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from churnwatch.events import (
    EventRejected,
    FieldError,
    duplicate_key_errors,
    duplicate_keys,
    may_have_duplicate_keys,
)

EventStatus = Literal["accepted", "duplicate", "rejected", "unavailable"]
"""``unavailable`` appears only in 503 answers: Kafka did not acknowledge that event."""


class TooManyEvents(ValueError):
    """The batch holds more events than ``max_batch`` (HTTP 413)."""


class EmptyBatch(ValueError):
    """The body is an empty JSON array (HTTP 422): almost surely a client bug."""


ERASE_SCOPE = "events:erase"
DESTRUCTIVE: frozenset[str] = frozenset({"customer_erased"})
"""Event types that destroy data (an erasure crypto-shreds a customer's personal data and
removes them from the at-risk list): accepted only from a key with ``events:erase``."""


class ScopeRequired(PermissionError):
    """The body holds an event type the sender's key may not send (HTTP 403)."""

    def __init__(self, index: int, event_type: str, scope: str) -> None:
        self.index, self.event_type, self.scope = index, event_type, scope
        super().__init__(
            f"event {index} is a {event_type}, which only a key with the scope {scope} (or admin)"
            " may send; nothing in this request was published"
        )


def check_guarded(items: Sequence[Any], guarded: frozenset[str], scope: str) -> None:
    """Raise `ScopeRequired` for the first item whose ``event_type`` is in ``guarded``.

    >>> check_guarded([{"event_type": "purchase"}], DESTRUCTIVE, "events:erase")
    >>> check_guarded([{}, {"event_type": "customer_erased"}], DESTRUCTIVE, "events:erase")
    Traceback (most recent call last):
    ...
    churnwatch_ingest.results.ScopeRequired: event 1 is a customer_erased, which only a key \
with the scope events:erase (or admin) may send; nothing in this request was published
    """
    for index, item in enumerate(items):
        if type(item) is dict and item.get("event_type") in guarded:
            raise ScopeRequired(index, item["event_type"], scope)


def media_type_error(content_type: str | None) -> str | None:
    """Why a ``Content-Type`` is refused (HTTP 415), or None for JSON in UTF-8.

    Only ``application/json`` is parsed: a browser may send ``text/plain`` or a form to another
    site without asking first (no CORS preflight), so accepting them would let any web page a
    user visits post events.

    >>> media_type_error("application/json"), media_type_error("Application/JSON; charset=UTF-8")
    (None, None)
    >>> media_type_error("text/plain;charset=UTF-8")
    "Content-Type 'text/plain' is not accepted; send application/json"
    >>> media_type_error("application/json; charset=latin-1")
    "charset 'latin-1' is not accepted; send UTF-8 (or no charset)"
    >>> media_type_error(None)
    'no Content-Type; send application/json'
    """
    if not content_type:
        return "no Content-Type; send application/json"
    mime, _, params = content_type.partition(";")
    mime = mime.strip().lower()
    if mime != "application/json":
        return f"Content-Type {mime!r} is not accepted; send application/json"
    for param in params.split(";"):
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            return f"charset {charset!r} is not accepted; send UTF-8 (or no charset)"
    return None


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
    An event that writes a key twice becomes an `EventRejected` (``duplicate_key``) in its place.

    >>> split_body(b'{"event_id": "e1"}', max_batch=10)
    [{'event_id': 'e1'}]
    >>> split_body(b'[{"a": 1}, 2]', max_batch=10)
    [{'a': 1}, 2]
    >>> split_body(b'not json', max_batch=10)
    [b'not json']
    >>> split_body(b'[{"a": 1}, {"a": 1, "a": 2}]', max_batch=10)[1].errors[0].field
    'a'
    """
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [body]
    if isinstance(doc, list):
        if len(doc) > max_batch:
            raise TooManyEvents(f"{len(doc)} events in one request; at most {max_batch}")
        if not doc:
            raise EmptyBatch("the batch is empty: send one event or an array of 1 or more")
    if may_have_duplicate_keys(body, doc):  # cheap; the slow path only if there may be some
        return _duplicates_rejected(body, doc)
    return doc if isinstance(doc, list) else [doc]


def _duplicates_rejected(body: bytes, doc: Any) -> list[Any]:
    """The items, each one with a duplicated key replaced by its rejection."""
    items = doc if isinstance(doc, list) else [doc]
    per_item: dict[int, list[str]] = {}
    for path in duplicate_keys(body):
        if isinstance(doc, list):  # "[3].attributes.amount" -> item 3, "attributes.amount"
            position, _, rest = path[1:].partition("]")
            per_item.setdefault(int(position), []).append(rest.removeprefix("."))
        else:
            per_item.setdefault(0, []).append(path)
    out = list(items)
    for i, paths in per_item.items():
        keys = items[i] if isinstance(items[i], dict) else {}
        out[i] = EventRejected(
            duplicate_key_errors(paths),
            **{k: v if isinstance(v := keys.get(k), str) else None for k in _KEYS},
        )
    return out


_KEYS = ("event_id", "customer_id", "event_type")


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
