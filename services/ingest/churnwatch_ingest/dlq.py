"""Pure rules of the Kafka-native path: check a raw record, and describe a dead letter.

A dead letter keeps the original key, value and headers untouched (so it can be replayed as it
was) and adds ``cw-dlq-*`` headers that say why, from where and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from churnwatch.events import (
    Event,
    EventRejected,
    FieldError,
    ValidationLimits,
    duplicate_key_errors,
    duplicate_keys,
    may_have_duplicate_keys,
    parse_event,
)

Headers = list[tuple[str, bytes]]

REASON = "cw-dlq-reason"
ERRORS = "cw-dlq-errors"
SOURCE_TOPIC = "cw-dlq-source-topic"
SOURCE_PARTITION = "cw-dlq-source-partition"
SOURCE_OFFSET = "cw-dlq-source-offset"
FAILED_AT = "cw-dlq-failed-at"
DLQ_HEADERS = (REASON, ERRORS, SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET, FAILED_AT)

KEY_MISMATCH = "key_mismatch"
EMPTY_VALUE = "empty_value"


def check_record(
    key: bytes | None, value: bytes | None, *, now: datetime, limits: ValidationLimits
) -> Event:
    """The event in a raw record, or `EventRejected` listing every problem with it.

    Besides the contract: no key written twice in one object (``duplicate_key``: a parser would
    silently keep the last), and a key, if the record has one, equal to its ``customer_id`` (a
    disagreeing key is a producer bug: which customer is meant?). A record *without* a key is
    accepted and published keyed by its ``customer_id`` like every other: a key-less producer
    spreads one customer's records over partitions anyway, so no order was promised for them
    (docs/ingest.md).
    """
    if not value:
        raise EventRejected(
            [FieldError("", EMPTY_VALUE, "the record has no value (tombstone or empty)")]
        )
    event = parse_event(value, now=now, limits=limits)
    if may_have_duplicate_keys(value, orjson.loads(value)):  # parse_event accepted: it is JSON
        raise _keyed(event, *duplicate_key_errors(duplicate_keys(value)))
    if key is not None and key != event.customer_id.encode():
        shown = key[:64].decode(errors="replace")
        message = f"the record key {shown!r} is not the event's customer_id"
        raise _keyed(event, FieldError("", KEY_MISMATCH, message))
    return event


def _keyed(event: Event, *errors: FieldError) -> EventRejected:
    return EventRejected(
        list(errors),
        event_id=event.event_id,
        customer_id=event.customer_id,
        event_type=str(event.event_type),
    )


def dlq_headers(
    original: Sequence[tuple[str, bytes]],
    errors: Sequence[FieldError],
    *,
    topic: str,
    partition: int,
    offset: int,
    failed_at: datetime,
) -> Headers:
    """The original headers (minus stale ``cw-dlq-*`` ones), then why, from where and when.

    >>> from datetime import UTC
    >>> hs = dlq_headers([("trace", b"t1")], [FieldError("", "invalid_json", "bad")],
    ...                  topic="cw.events.raw", partition=2, offset=41,
    ...                  failed_at=datetime(2026, 1, 1, tzinfo=UTC))
    >>> [k for k, _ in hs][:3], dict(hs)["cw-dlq-reason"], dict(hs)["cw-dlq-source-offset"]
    (['trace', 'cw-dlq-reason', 'cw-dlq-errors'], b'invalid_json', b'41')
    """
    kept = [(k, v) for k, v in original if k not in DLQ_HEADERS]
    reason = str(errors[0].code) if errors else "unknown"
    return [
        *kept,
        (REASON, reason.encode()),
        (ERRORS, orjson.dumps([e.to_dict() for e in errors])),
        (SOURCE_TOPIC, topic.encode()),
        (SOURCE_PARTITION, str(partition).encode()),
        (SOURCE_OFFSET, str(offset).encode()),
        (FAILED_AT, failed_at.isoformat().encode()),
    ]
