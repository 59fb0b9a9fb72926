"""The worker's per-batch activity volumes: per (event day, name), bounded to the largest names."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from churnwatch.events import EXAMPLES, EventType, parse_event
from churnwatch_scoring.activity_volumes import PER_BATCH, batch_volumes

FAR = datetime(2100, 1, 1, tzinfo=UTC)


def use(name: str, count: int, at: str, n: int) -> Any:
    doc = dict(EXAMPLES[EventType.FEATURE_USE])
    doc.update(event_id=f"u-{n}", occurred_at=at, attributes={"feature": name, "count": count})
    return parse_event(doc, now=FAR)


def test_uses_add_up_per_utc_day_and_name_and_other_events_are_ignored() -> None:
    events = [
        use("like", 3, "2026-03-01T23:30:00+00:00", 1),
        use("like", 2, "2026-03-02T00:30:00+01:00", 2),  # 23:30 UTC on March 1st
        use("like", 4, "2026-03-02T08:00:00Z", 3),
        use("post", 1, "2026-03-02T09:00:00Z", 4),
        parse_event(EXAMPLES[EventType.SESSION], now=FAR),
    ]
    assert batch_volumes(events) == {
        (date(2026, 3, 1), "like"): 5,
        (date(2026, 3, 2), "like"): 4,
        (date(2026, 3, 2), "post"): 1,
    }


def test_only_the_largest_names_of_a_batch_are_kept() -> None:
    # 70 names used 1..70 times: the 64 largest are those used 7 times or more
    events = [use(f"n{k:02d}", k, "2026-03-01T10:00:00Z", k) for k in range(1, 71)]
    kept = batch_volumes(events)
    assert PER_BATCH == 64
    assert {name for _, name in kept} == {f"n{k:02d}" for k in range(7, 71)}
    # ties at the edge go by name: 'a' and 'b' used once each, 63 names used twice
    events = [use(f"m{k:02d}", 2, "2026-03-01T10:00:00Z", k) for k in range(63)]
    events += [use("b", 1, "2026-03-01T11:00:00Z", 100), use("a", 1, "2026-03-01T11:00:00Z", 101)]
    names = {name for _, name in batch_volumes(events)}
    assert "a" in names
    assert "b" not in names
