"""Actions in: parsing, the file source, the cw.actions reader's loop (with a stand-in consumer;
the real broker is in test_sim_kafka.py), and applying them to the simulation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from churnwatch_sim import (
    Action,
    ActionRejected,
    FileActionSource,
    KafkaActionReader,
    Simulator,
    parse_action,
)
from churnwatch_sim.population import ALIVE
from tests.unit.sim.conftest import small_config

T0 = datetime(2025, 1, 6, tzinfo=UTC)


def _action(i: int, kind: str = "offer", at: datetime | None = T0) -> dict[str, object]:
    when = None if at is None else at.isoformat().replace("+00:00", "Z")
    return {"action_id": f"A-{i}", "customer_id": f"C-{i:06d}", "action_type": kind,
            "issued_at": when, "params": {"discount_pct": 10}}  # fmt: skip


def test_parse_action_reports_every_problem() -> None:
    assert parse_action(orjson.dumps(_action(1))).params == {"discount_pct": 10}
    with pytest.raises(ActionRejected) as info:
        parse_action({"action_id": "", "action_type": "hug"})
    fields = {e["field"] for e in info.value.errors}
    assert {"action_id", "customer_id", "action_type"} <= fields
    with pytest.raises(ActionRejected, match="invalid JSON"):
        parse_action(b"{nope")
    with pytest.raises(ActionRejected, match="UTC offset"):
        parse_action({**_action(1), "issued_at": "2025-01-06T10:00:00"})


async def test_file_source_hands_out_actions_when_their_time_comes(tmp_path: Path) -> None:
    path = tmp_path / "actions.jsonl"
    rows = [_action(1, at=T0 + timedelta(days=2)), _action(2), {"junk": 1}, _action(3, at=None)]
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n\n")
    source = FileActionSource(path)
    await source.start()
    assert source.rejected == 1
    assert [a.action_id for a in source.drain(T0)] == ["A-2", "A-3"]
    assert source.drain(T0 + timedelta(days=1)) == []
    assert [a.action_id for a in source.drain(T0 + timedelta(days=2))] == ["A-1"]
    await source.stop()


@dataclass
class Record:
    value: bytes | None


class StubConsumer:
    """An async iterator of records standing in for AIOKafkaConsumer (no broker involved)."""

    def __init__(self, values: list[bytes | None], *, fail: Exception | None = None) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        for v in values:
            self.queue.put_nowait(v)
        self.fail = fail
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def __aiter__(self) -> StubConsumer:
        return self

    async def __anext__(self) -> Record:
        if self.fail is not None and self.queue.empty():
            raise self.fail
        return Record(await self.queue.get())


async def _until(predicate: object, timeout: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)


async def test_kafka_reader_queues_good_actions_and_counts_bad_ones() -> None:
    consumer = StubConsumer([orjson.dumps(_action(1)), b"not json", None, orjson.dumps(_action(2))])
    reader = KafkaActionReader("unused:9092", consumer=consumer)
    await reader.start()
    await _until(lambda: reader.received + reader.rejected >= 4)
    assert [a.action_id for a in reader.drain(T0)] == ["A-1", "A-2"]
    assert reader.rejected == 2
    await reader.stop()
    assert consumer.started
    assert consumer.stopped


async def test_kafka_reader_failure_surfaces_on_drain() -> None:
    reader = KafkaActionReader("unused:9092", consumer=StubConsumer([], fail=OSError("gone")))
    await reader.start()
    await _until(lambda: reader.error is not None)
    with pytest.raises(RuntimeError, match=r"cw\.actions reader failed"):
        reader.drain(T0)
    await reader.stop()


def test_applying_actions_changes_state_once_and_rejects_strangers() -> None:
    sim = Simulator(small_config(days=40, **{"population.customers": 3000}))
    while sim.day < 20:
        sim.step()
    pop = sim.pop
    stuck = ((pop.status == ALIVE) & (pop.complaint_open > 0) & pop.complaint_stuck).nonzero()[0]
    assert len(stuck) >= 5
    results = {}
    for i in stuck.tolist():
        action = Action(
            action_id=f"r-{i}", customer_id=f"C-{i:06d}", action_type="service_recovery"
        )
        results[i] = sim.apply_action(action)
        assert results[i].status == "applied"
        assert sim.apply_action(action).status == "duplicate"
        assert pop.mult_until[i] > sim.day
        assert (pop.complaint_open[i] == 0) == results[i].complaint_resolved
    stranger = Action(action_id="x", customer_id="C-999999", action_type="offer")
    assert sim.apply_action(stranger).status == "unknown_customer"
    day = sim.day
    resolved = {int(line.split('"customer_id":"C-')[1][:6])
                for chunk in sim.step().chunks(10_000) for line in chunk
                if '"complaint"' in line and '"status":"resolved"' in line}  # fmt: skip
    stayed = [i for i in stuck.tolist() if pop.churn_day[i] != day]
    assert {i for i in stayed if results[i].complaint_resolved} == resolved & set(stayed)
    assert any(results[i].complaint_resolved for i in stayed)
