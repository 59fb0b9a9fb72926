"""Every simulated event satisfies the v1 contract (docs/events.md) of churnwatch.events."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import orjson

import churnwatch.events as events_contract
from tests.unit.sim.conftest import Run

ENVELOPE = {
    "event_id", "event_type", "customer_id", "occurred_at", "source", "schema_version",
    "attributes",
}  # fmt: skip
AMOUNT_FIELDS = ("amount", "price", "old_price", "new_price")
TWO_DECIMALS = re.compile(r"^\d+\.\d{2}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_every_event_validates_against_the_contract(mixed_run: Run) -> None:
    now = datetime(2100, 1, 1, tzinfo=UTC)
    seen: Counter[str] = Counter()
    rejected: list[tuple[str, object]] = []
    with mixed_run.events.open("rb") as fh:
        for line in fh:
            raw = line.rstrip(b"\n")
            try:
                event = events_contract.parse_event(raw, now=now)
            except events_contract.EventRejected as exc:
                rejected.append((raw.decode()[:200], exc.errors))
                continue
            seen[str(event.event_type)] += 1
    assert rejected == []
    every_type = {str(t) for t in events_contract.EventType}
    assert set(seen) == every_type, f"types never generated: {every_type - set(seen)}"


def test_envelope_is_exact_and_values_are_formatted(mixed_run: Run) -> None:
    ids: set[str] = set()
    count = 0
    with mixed_run.events.open("rb") as fh:
        for line in fh:
            event = orjson.loads(line)
            count += 1
            assert set(event) == ENVELOPE
            assert event["schema_version"] == 1
            assert re.fullmatch(r"C-\d{6}", event["customer_id"])
            assert TIMESTAMP.match(event["occurred_at"])
            assert event["source"] in {"shop-web", "billing", "app", "crm", "callcentre"}
            for name in AMOUNT_FIELDS:
                if name in event["attributes"]:
                    assert TWO_DECIMALS.match(event["attributes"][name]), event
            ids.add(event["event_id"])
    assert count > 100_000
    assert len(ids) == count, "event ids must be unique"


def test_events_come_in_event_time_order(mixed_run: Run) -> None:
    previous = ""
    with mixed_run.events.open("rb") as fh:
        for line in fh:
            stamp = line[16:40].decode()
            assert stamp >= previous
            previous = stamp
