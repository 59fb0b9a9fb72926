"""Body splitting, per-event validation, tallies and the status-code rule of POST /v1/events."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import orjson
import pytest

from churnwatch.events import DEFAULT_LIMITS, EXAMPLES, EventType
from churnwatch_ingest.results import (
    EmptyBatch,
    EventResult,
    TooManyEvents,
    counts,
    response_body,
    split_body,
    status_code,
)
from churnwatch_ingest.schemas import IngestResponse
from churnwatch_ingest.service import validate_all

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def _event(n: int, event_type: EventType = EventType.PURCHASE) -> dict[str, object]:
    event = copy.deepcopy(dict(EXAMPLES[event_type]))
    event["event_id"] = f"e-{n}"
    return event


def test_a_single_object_is_one_event() -> None:
    assert split_body(orjson.dumps(_event(1)), max_batch=1) == [_event(1)]


def test_an_array_is_a_batch_in_order() -> None:
    events = [_event(i) for i in range(5)]
    assert split_body(orjson.dumps(events), max_batch=5) == events


def test_more_than_max_batch_is_refused() -> None:
    with pytest.raises(TooManyEvents, match="6 events"):
        split_body(orjson.dumps([_event(i) for i in range(6)]), max_batch=5)


def test_an_empty_array_is_refused() -> None:
    with pytest.raises(EmptyBatch):
        split_body(b"[]", max_batch=5)


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"{not json", "invalid_json"), (b"42", "not_an_object"), (b'"text"', "not_an_object")],
)
def test_a_body_that_is_no_event_is_one_rejected_item(body: bytes, code: str) -> None:
    results, valid = validate_all(split_body(body, max_batch=5), now=NOW, limits=DEFAULT_LIMITS)
    assert valid == []
    assert [(r.index, r.status, r.errors[0].code) for r in results] == [(0, "rejected", code)]


def test_validate_all_rejects_exactly_the_bad_items_and_flags_in_batch_duplicates() -> None:
    negative = _event(2, EventType.REFUND)
    negative["attributes"]["amount"] = "-1.00"  # type: ignore[index]
    as_string = orjson.dumps(_event(4)).decode()  # a JSON string holding an event is no event
    items = [_event(0), _event(1), negative, _event(0), as_string, [], _event(5)]

    results, valid = validate_all(items, now=NOW, limits=DEFAULT_LIMITS)

    assert [i for i, _ in valid] == [0, 1, 6]
    assert [e.event_id for _, e in valid] == ["e-0", "e-1", "e-5"]
    by_index = {r.index: r for r in results}
    assert by_index[2].status == "rejected"
    assert by_index[2].event_id == "e-2"
    assert by_index[2].errors[0].field == "attributes.amount"
    assert by_index[3].status == "duplicate"
    assert by_index[3].event_id == "e-0"
    assert by_index[4].errors[0].code == "not_an_object"
    assert by_index[5].errors[0].code == "not_an_object"


def test_an_oversized_event_is_rejected_as_too_large() -> None:
    big = _event(1, EventType.NPS)
    big["attributes"]["comment"] = "x" * 1900  # type: ignore[index]
    limits = type(DEFAULT_LIMITS)(max_bytes=1024)
    results, valid = validate_all([big], now=NOW, limits=limits)
    assert valid == []
    assert results[0].errors[0].code == "too_large"


def _r(index: int, status: str) -> EventResult:
    return EventResult(index, f"e-{index}", status)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["accepted"], 200),
        (["accepted", "duplicate"], 200),
        (["duplicate"], 200),
        (["accepted", "rejected"], 207),
        (["duplicate", "rejected"], 207),
        (["rejected", "rejected"], 422),
        (["accepted", "unavailable"], 503),
        (["rejected", "unavailable"], 503),
    ],
)
def test_status_code_rule(statuses: list[str], expected: int) -> None:
    assert status_code([_r(i, s) for i, s in enumerate(statuses)]) == expected


def test_response_body_lists_results_in_request_order_with_totals() -> None:
    results = [_r(2, "rejected"), _r(0, "accepted"), _r(1, "duplicate"), _r(3, "accepted")]
    body = response_body(results)
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 1)
    assert "unavailable" not in body
    IngestResponse.model_validate(body)


def test_an_unavailable_answer_says_how_many_and_why() -> None:
    body = response_body([_r(0, "accepted"), _r(1, "unavailable")], detail="broker down")
    assert body["unavailable"] == 1
    assert body["detail"] == "broker down"
    assert counts([_r(0, "accepted"), _r(1, "unavailable")])["unavailable"] == 1
    IngestResponse.model_validate(body)
