"""Pure bits of the worker: batch grouping, offset bookkeeping, outbox headers, exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import pytest
from aiokafka import TopicPartition
from hypothesis import given
from hypothesis import strategies as st

import churnwatch_runtime.worker as worker_pkg
from churnwatch_runtime.worker import (
    MSG_ID_HEADER,
    Batch,
    OffsetTracker,
    OffsetUpdate,
    OutboxMessage,
    WorkerStatus,
    group_records,
    source_msg_id,
)

T0, T1 = TopicPartition("t", 0), TopicPartition("t", 1)


@dataclass(frozen=True)
class Rec:
    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    value: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


def recs(tp: TopicPartition, *offsets: int) -> list[Rec]:
    return [Rec(tp.topic, tp.partition, o) for o in offsets]


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10_000)), max_size=200))
def test_grouping_keeps_every_record_and_per_partition_order(items: list[tuple[int, int]]) -> None:
    records = [Rec("t", p, o) for p, o in items]
    grouped = group_records(records)
    assert sum(len(v) for v in grouped.values()) == len(records)
    for tp, group in grouped.items():
        assert group == [r for r in records if r.partition == tp.partition]
    batch = Batch(grouped)
    assert len(batch) == len(records)
    assert list(batch) == [r for group in grouped.values() for r in group]
    assert batch.partitions == {TopicPartition("t", p) for p, _ in items}


def test_next_offsets_are_one_past_the_last_record_per_partition() -> None:
    batch = Batch({T0: recs(T0, 3, 4, 9), T1: recs(T1, 0), TopicPartition("t", 2): []})
    assert batch.next_offsets() == {T0: 10, T1: 1}
    assert batch.partitions == {T0, T1}
    assert len(batch) == 4


def test_tracker_drops_unowned_partitions_and_records_below_the_position() -> None:
    tracker = OffsetTracker()
    tracker.reset(T0, stored=5, position=5)
    kept = tracker.accept({T0: recs(T0, 3, 4, 5, 7), T1: recs(T1, 0, 1)})
    assert kept == {T0: recs(T0, 5, 7)}  # 7: a gap above the position is legal in Kafka
    assert tracker.accept({T0: recs(T0, 1, 2)}) == {}


def test_tracker_moves_only_after_commit() -> None:
    tracker = OffsetTracker()
    tracker.reset(T0, stored=None, position=0)
    tracker.reset(T1, stored=40, position=40)
    batch = Batch(tracker.accept({T0: recs(T0, 0, 1, 2), T1: recs(T1, 40)}))
    updates = tracker.updates(batch)
    assert updates == [OffsetUpdate(T0, None, 3), OffsetUpdate(T1, 40, 41)]
    assert (tracker.position(T0), tracker.stored(T0)) == (0, None)  # a rollback leaves it here
    tracker.committed(updates)
    assert tracker.positions() == {T0: 3, T1: 41}
    assert (tracker.stored(T0), tracker.stored(T1)) == (3, 41)
    again = Batch(tracker.accept({T0: recs(T0, 3), T1: recs(T1, 41)}))
    assert tracker.updates(again) == [OffsetUpdate(T0, 3, 4), OffsetUpdate(T1, 41, 42)]


def test_tracker_forgets_revoked_partitions_and_ignores_their_late_commits() -> None:
    tracker = OffsetTracker()
    tracker.reset(T0, stored=1, position=1)
    updates = tracker.updates(Batch({T0: recs(T0, 1)}))
    tracker.forget([T0, T1])
    assert not tracker.owns(T0)
    assert tracker.partitions == frozenset()
    tracker.committed(updates)
    assert tracker.positions() == {}
    with pytest.raises(KeyError):
        tracker.updates(Batch({T0: recs(T0, 2)}))


def test_outbox_headers_put_the_message_id_first_and_once() -> None:
    message = OutboxMessage(
        "out", b"k", b"v", [("a", "1"), (MSG_ID_HEADER, "old"), ("a", "2")], "m-1"
    )
    assert orjson.loads(message.header_json()) == [[MSG_ID_HEADER, "m-1"], ["a", "1"], ["a", "2"]]
    plain = OutboxMessage("out", None, None, {"x": "y"})
    assert orjson.loads(plain.header_json()) == [["x", "y"]]


def test_source_message_ids_are_deterministic_and_distinct() -> None:
    ids = {source_msg_id("t", p, o, n) for p in range(3) for o in range(50) for n in range(2)}
    assert len(ids) == 300
    assert source_msg_id("t", 1, 2) == source_msg_id("t", 1, 2, 0)


def test_status_serialises_for_readyz() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    status = WorkerStatus("g", True, True, ("t:0",), (), at, None, 2, 10, {"t:0": 3}, 0, None)
    doc = status.to_dict()
    assert doc["last_poll_at"] == at.isoformat()
    assert doc["last_batch_at"] is None
    assert doc["total_lag"] == 3
    assert orjson.loads(orjson.dumps(doc))["assigned"] == ["t:0"]


def test_exports_are_complete() -> None:
    public = {
        name
        for name, value in vars(worker_pkg).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith(worker_pkg.__name__)
    }
    assert public <= set(worker_pkg.__all__)
    assert all(hasattr(worker_pkg, name) for name in worker_pkg.__all__)
