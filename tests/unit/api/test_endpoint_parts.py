"""Pure parts of the endpoints: cursors, filters → SQL parameters, CSV rows, SSE framing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from churnwatch_alerts.store.queue import queue_sql
from churnwatch_alerts.worktasks import QueueFilter
from churnwatch_api.live import parse_event_id, sse
from churnwatch_api.paging import BadCursor, decode_cursor, encode_cursor, parse_time
from churnwatch_api.routes._shapes import is_overdue
from churnwatch_api.routes.at_risk import csv_lines
from churnwatch_api.store import at_risk

values = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
                   st.integers(min_value=-(2**53), max_value=2**53))  # fmt: skip


@given(kind=st.text(min_size=1, max_size=30), items=st.lists(values, max_size=4))
def test_cursor_round_trip(kind: str, items: list[object]) -> None:
    assert decode_cursor(encode_cursor(kind, *items), kind, len(items)) == items


def test_cursor_refuses_other_listings_arity_and_garbage() -> None:
    token = encode_cursor("at-risk:clv:desc", 1.0, "C-1")
    with pytest.raises(BadCursor):
        decode_cursor(token, "at-risk:clv:asc", 2)
    with pytest.raises(BadCursor):
        decode_cursor(token, "at-risk:clv:desc", 3)
    for junk in ("", "%%%", "bnVsbA", "e30"):  # empty, not base64, JSON null, {}
        with pytest.raises(BadCursor):
            decode_cursor(junk, "tasks", 1)
    at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert parse_time(decode_cursor(encode_cursor("t", at), "t", 1)[0]) == at
    with pytest.raises(BadCursor):
        parse_time("2026-03-10T09:00:00")  # naive


def test_at_risk_filters_become_parameters_never_sql() -> None:
    nasty = "x'); DROP TABLE tasks; --"
    sql, params = at_risk.build_query(
        at_risk.AtRiskFilter(bands=("low",), segments=("lost",), stages=("lapsed",),
                             playbook=nasty, has_open_task=False),
        "event_time", "asc", (datetime(2026, 1, 1, tzinfo=UTC), "C-1"), 11,
    )  # fmt: skip
    assert nasty not in sql
    assert params == [["low"], ["lost"], ["lapsed"], nasty, datetime(2026, 1, 1, tzinfo=UTC), "C-1"]
    assert "NOT EXISTS (SELECT 1 FROM tasks" in sql
    assert "(s.event_time, s.customer_id) > ($5, $6)" in sql
    assert sql.endswith("ORDER BY s.event_time ASC, s.customer_id ASC LIMIT 11")
    export_sql, _ = at_risk.build_query(at_risk.AtRiskFilter(), "clv", "desc", None, None)
    assert "LIMIT" not in export_sql
    with pytest.raises(ValueError, match="order"):
        at_risk.build_query(at_risk.AtRiskFilter(), "clv", "sideways", None, 1)


def test_task_queue_cursor_continues_in_queue_order() -> None:
    due = datetime(2026, 3, 10, 17, tzinfo=UTC)
    made = due - timedelta(hours=8)
    query = QueueFilter(assignee="A-1", states=("assigned",), overdue=False)
    sql, params = queue_sql(query, due, (2.5, due, made, "T-9"), 21)
    assert params == ["A-1", due, 2.5, due, made, "T-9"]
    assert "WHERE state IN ('assigned') AND assignee = $1" in sql
    assert "NOT (state IN ('open', 'assigned')" in sql
    assert "AND priority <= $3 AND (priority < $3 OR (sla_due_at, created_at, task_id) >" \
        " ($4, $5, $6))" in sql  # fmt: skip
    assert sql.endswith("ORDER BY priority DESC, sla_due_at, created_at, task_id LIMIT 21")
    nasty = "x'); DROP TABLE tasks; --"
    sql, params = queue_sql(QueueFilter(team=nasty, customer=nasty), due, None, 5)
    assert nasty not in sql
    assert params == [nasty, nasty]
    with pytest.raises(ValueError, match="TaskState"):
        queue_sql(QueueFilter(states=(nasty,)), due, None, 5)


def test_overdue_is_about_the_first_contact() -> None:
    due = datetime(2026, 3, 10, 17, tzinfo=UTC)
    late = due + timedelta(minutes=1)
    assert is_overdue("open", None, due, late)
    assert not is_overdue("open", None, due, due)  # at the due time: still in time
    assert not is_overdue("won", None, due, late)  # finished
    assert not is_overdue("in_progress", due - timedelta(hours=1), due, late)


def test_csv_rows_keep_ids_whole_and_quote() -> None:
    row = at_risk.AtRiskRow(
        customer_id="C-0000000000000001, with comma", band="high", churn_probability=0.5,
        tier="gold", lifecycle_stage="at_risk", rfm_segment=None, clv=10.0, clv_low=None,
        clv_high=None, value_if_retained=None, value_at_risk=5.0,
        reasons=[{"feature": "f", "text": "NPS 3", "weight": 0.2}, "plain"],
        event_time=datetime(2026, 3, 10, tzinfo=UTC), has_open_task=True,
    )  # fmt: skip
    header, line = csv_lines([row], True).splitlines()
    assert header.startswith("customer_id,band,churn_probability")
    assert line.startswith('"C-0000000000000001, with comma",high,0.5000,gold')
    assert line.endswith(",yes,NPS 3; plain")


def test_sse_framing_and_event_ids() -> None:
    assert sse("band_change", {"a": 1}).endswith('data: {"a":1}\n\n')
    assert parse_event_id("0.0") == (0, 0)
    for foreign in ("", "1", "1.2.3", "-1.2", "a.b"):
        assert parse_event_id(foreign) is None
