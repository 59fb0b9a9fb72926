"""Checks of raw records and the dead-letter headers of the Kafka-native path."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import orjson
import pytest
from aiokafka import ConsumerRecord, TopicPartition

from churnwatch.events import DEFAULT_LIMITS, EXAMPLES, EventRejected, EventType, FieldError
from churnwatch_ingest import dlq
from churnwatch_ingest.raw import plan_batch

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def _value(n: int, customer: str = "C-1042") -> bytes:
    event = copy.deepcopy(dict(EXAMPLES[EventType.SESSION]))
    event["event_id"] = f"e-{n}"
    event["customer_id"] = customer
    return orjson.dumps(event)


def _codes(key: bytes | None, value: bytes | None) -> list[str]:
    with pytest.raises(EventRejected) as info:
        dlq.check_record(key, value, now=NOW, limits=DEFAULT_LIMITS)
    return [str(e.code) for e in info.value.errors]


def test_a_valid_record_keyed_by_its_customer_is_an_event() -> None:
    event = dlq.check_record(b"C-7", _value(1, "C-7"), now=NOW, limits=DEFAULT_LIMITS)
    assert (event.event_id, event.customer_id) == ("e-1", "C-7")


@pytest.mark.parametrize(
    ("key", "value", "codes"),
    [
        (b"C-1042", None, [dlq.EMPTY_VALUE]),
        (None, b"", [dlq.EMPTY_VALUE]),
        (b"C-1042", b"\x00garbage", ["invalid_json"]),
        (b"C-1042", b"\x00\xffgarbage", ["invalid_encoding"]),
        (None, b"[1, 2]", ["not_an_object"]),
        (b"C-other", _value(1), [dlq.KEY_MISMATCH]),
        (
            b"C-1042",
            _value(1).replace(b'"event_id"', b'"source":"x","event_id"'),
            ["duplicate_key"],
        ),
        (b"C-1042", _value(1).replace(b"2026-", b"1970-"), ["too_old"]),
        (b"C-1042", b'{"event_type": "purchase"}', ["missing"]),
    ],
)
def test_bad_records_list_every_problem(
    key: bytes | None, value: bytes | None, codes: list[str]
) -> None:
    got = _codes(key, value)
    assert got[0] == codes[0]
    assert set(codes) <= set(got)


def test_a_record_without_a_key_is_accepted_and_keyed_by_its_customer() -> None:
    event = dlq.check_record(None, _value(1, "C-9"), now=NOW, limits=DEFAULT_LIMITS)
    assert (event.event_id, event.customer_id) == ("e-1", "C-9")  # published under key C-9


def test_a_duplicated_key_is_named_in_the_dead_letter() -> None:
    value = _value(1).replace(b'"event_id"', b'"source":"x","event_id"')
    with pytest.raises(EventRejected) as info:
        dlq.check_record(b"C-1042", value, now=NOW, limits=DEFAULT_LIMITS)
    assert [(e.field, e.code) for e in info.value.errors] == [("source", "duplicate_key")]
    assert info.value.event_id == "e-1"


def test_dlq_headers_keep_the_originals_and_say_why_where_and_when() -> None:
    errors = [
        FieldError("attributes.amount", "negative_amount", "must be >= 0"),
        FieldError("occurred_at", "missing", "required"),
    ]
    at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    original = [("trace-id", b"abc"), (dlq.REASON, b"stale-from-an-earlier-pass")]
    headers = dlq.dlq_headers(
        original, errors, topic="cw.events.raw", partition=3, offset=1234, failed_at=at
    )
    as_dict = dict(headers)
    assert headers[0] == ("trace-id", b"abc")
    assert [k for k, _ in headers].count(dlq.REASON) == 1
    assert as_dict[dlq.REASON] == b"negative_amount"
    assert orjson.loads(as_dict[dlq.ERRORS]) == [e.to_dict() for e in errors]
    assert as_dict[dlq.SOURCE_TOPIC] == b"cw.events.raw"
    assert as_dict[dlq.SOURCE_PARTITION] == b"3"
    assert as_dict[dlq.SOURCE_OFFSET] == b"1234"
    assert datetime.fromisoformat(as_dict[dlq.FAILED_AT].decode()) == at


def _record(offset: int, key: bytes | None, value: bytes | None) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="raw",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=(),
    )


def test_plan_batch_splits_valid_dead_and_in_batch_duplicates() -> None:
    records = [
        _record(0, b"C-1042", _value(1)),
        _record(1, b"C-1042", b"not json"),
        _record(2, b"C-1042", _value(1)),
        _record(3, b"C-1042", _value(2)),
    ]
    plan = plan_batch({TopicPartition("raw", 0): records}, now=NOW, limits=DEFAULT_LIMITS)
    assert [(r.offset, e.event_id) for r, e in plan.valid] == [(0, "e-1"), (3, "e-2")]
    assert [(r.offset, exc.reason) for r, exc in plan.dead] == [(1, "invalid_json")]
    assert plan.in_batch_duplicates == 1
