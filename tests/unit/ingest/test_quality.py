"""Data-quality tallies of ingest (`churnwatch_ingest.quality`), without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime

from aiokafka import TopicPartition

from churnwatch.events import DEFAULT_LIMITS
from churnwatch_ingest.quality import Tally, source_of_bytes
from churnwatch_ingest.raw import _tally, plan_batch
from tests.unit.ingest.test_dlq import _record, _value

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_a_raw_batch_counts_published_duplicates_and_dead_letters_by_source_and_reason() -> None:
    records = [
        _record(0, b"C-1042", _value(1)),
        _record(1, b"C-1042", _value(1)),  # again in the batch
        _record(2, b"C-1042", _value(2)),  # reserved by an earlier batch: not fresh
        _record(3, b"C-1042", b"\x00 not json"),
        _record(4, b"C-9", _value(3)),  # keyed by another customer
    ]
    plan = plan_batch({TopicPartition("raw", 0): records}, now=NOW, limits=DEFAULT_LIMITS)
    fresh = [(r, e) for r, e in plan.valid if e.event_id == "e-1"]
    tally = _tally(plan, fresh, plan.dead, NOW)
    source = plan.valid[0][1].source
    assert (tally.day, tally.path) == (date(2026, 3, 2), "raw")
    assert tally.counts == {
        (source, "accepted", ""): 1,
        (source, "duplicate", ""): 2,
        ("unknown", "dlq", "invalid_json"): 1,
        (source, "dlq", "key_mismatch"): 1,
    }


def test_a_re_delivered_dead_letter_is_not_counted_again() -> None:
    records = [_record(0, b"C-1042", b"\x00 not json"), _record(1, b"C-9", _value(3))]
    plan = plan_batch({TopicPartition("raw", 0): records}, now=NOW, limits=DEFAULT_LIMITS)
    again = [d for d in plan.dead if d[0].offset == 1]  # offset 0 was dead-lettered before
    tally = _tally(plan, [], again, NOW)
    assert tally.counts == {(source_of_bytes(_value(3)), "dlq", "key_mismatch"): 1}


def test_rows_come_out_in_key_order_whatever_the_order_of_counting() -> None:
    a, b = Tally(NOW.date(), "http"), Tally(NOW.date(), "http")
    for t, order in ((a, ["z", "a", "m"]), (b, ["m", "z", "a"])):
        for s in order:
            t.add(s, "accepted")
    assert a.columns() == b.columns() == (["a", "m", "z"], ["accepted"] * 3, [""] * 3, [1] * 3)
    assert not Tally(NOW.date(), "raw")
