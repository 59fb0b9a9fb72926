"""The processor's in-batch silence index: dues come out earliest first (ties by customer id),
a newer due time replaces an older one, and nothing past the watermark comes out — what makes the
silence rescores a function of the partition's records (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from churnwatch_scoring.processor import _Dues

T0 = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)


def test_dues_come_out_in_event_time_order_ties_by_id() -> None:
    dues = _Dues()
    horizon = T0 + 10 * H
    for cid, at in (("c", T0 + 2 * H), ("a", T0 + 2 * H), ("b", T0 + H), ("d", T0 + 5 * H)):
        dues.set(cid, at, horizon)
    assert dues.pop_due(T0 + 2 * H) == ["b", "a", "c"]
    assert dues.pop_due(T0 + 4 * H) == []
    assert dues.pop_due(T0 + 5 * H) == ["d"]


def test_a_rescheduled_or_cleared_customer_comes_out_at_its_new_time_only() -> None:
    dues = _Dues()
    horizon = T0 + 10 * H
    dues.set("a", T0 + H, horizon)
    dues.set("b", T0 + H, horizon)
    dues.set("a", T0 + 3 * H, horizon)  # scored by an event: its due moved on
    dues.set("b", None, horizon)  # erased: no due
    assert dues.pop_due(T0 + 2 * H) == []
    assert dues.pop_due(T0 + 3 * H) == ["a"]
    assert dues.pop_due(T0 + 9 * H) == []


def test_dues_beyond_the_batch_horizon_stay_in_the_table() -> None:
    dues = _Dues()
    dues.set("a", T0 + 5 * H, T0 + 4 * H)
    assert dues.heap == []  # written to silence_due; a later batch loads it
    assert dues.current == {"a": T0 + 5 * H}
