"""The KPI hook's moves: an unchanged state is neither unpacked nor written again, a customer
scored twice in a batch moves from its first score, and the last state is the one written."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from churnwatch.kpis import CustomerState, batch_deltas
from churnwatch_scoring.kpi_hook import _moves

D = date(2026, 3, 2)
A = CustomerState("gold", "loyal", "active", "low", "retail", 100.0, 10.0, 0.0, 1, D)


def test_an_unchanged_state_moves_from_itself_and_is_not_written() -> None:
    moves, changed = _moves([("C", 0, A, D)], {"C": A.pack()})
    assert moves[0].old is moves[0].new
    assert changed == {}
    out = batch_deltas(moves, [])
    assert out.sorted_daily() == []
    assert out.sorted_totals() == []


def test_a_changed_state_is_unpacked_and_written() -> None:
    b = replace(A, value_at_risk=30.0)
    moves, changed = _moves([("C", 0, b, D)], {"C": A.pack()})
    assert moves[0].old == A
    assert changed == {"C": b.pack()}
    assert batch_deltas(moves, []).totals[("all", "all", "value_at_risk", 0)] == 20.0


def test_scored_twice_moves_from_the_first_score_and_writes_the_last() -> None:
    b = replace(A, tier="silver")
    moves, changed = _moves([("C", 0, b, D), ("C", 0, A, D)], {"C": A.pack()})
    assert [m.old for m in moves] == [A, b]
    assert changed == {}  # back where it was stored
    totals = batch_deltas(moves, []).sorted_totals()
    assert totals == []  # gold → silver → gold: nothing moved
    _, new = _moves([("N", 0, A, D)], {})
    assert new == {"N": A.pack()}
