"""`batch_deltas` sums the amount-only moves per (cut values, day, partition) before building
keys (a speed-up of the scoring hook); its output must equal the per-customer definition:
``contributions(new) − contributions(old)`` of every move, added up."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from churnwatch.kpis import CustomerState, Move, batch_deltas
from churnwatch.kpis._state import state_delta

D = date(2026, 3, 2)


def _state(rnd: random.Random) -> CustomerState:
    model = rnd.choice(("retail", "subscription"))
    return CustomerState(
        rnd.choice(("gold", "silver")), rnd.choice(("loyal", "")), rnd.choice(("active", "new")),
        rnd.choice(("low", "high")), model, rnd.uniform(1, 500), rnd.uniform(0, 50),
        rnd.uniform(5, 30) if model == "subscription" else 0.0, rnd.randint(0, 2), None,
        rnd.randint(0, 5), rnd.randint(0, 5),
    )  # fmt: skip


def test_grouped_amount_moves_add_up_to_the_per_customer_deltas() -> None:
    rnd = random.Random(7)
    moves = []
    for i in range(400):
        old = _state(rnd)
        kind = i % 4
        if kind == 0:  # a new customer
            moves.append(Move(f"C{i}", i % 3, None, old, D))
        elif kind == 1:  # moved cells
            moves.append(Move(f"C{i}", i % 3, old, _state(rnd), D + timedelta(days=i % 2)))
        else:  # amounts only (MRR too, for subscriptions)
            mrr = old.mrr * rnd.uniform(0.5, 1.5) if old.mrr else 0.0
            new = replace(old, value=old.value * 1.1, value_at_risk=old.value_at_risk + 1, mrr=mrr)
            moves.append(Move(f"C{i}", i % 3, old, new, D + timedelta(days=i % 2)))
    expected: dict[tuple[str, str, str, int], float] = {}
    for m in moves:
        for (cut, value, metric), x in state_delta(m.old, m.new).items():
            expected[(cut, value, metric, m.partition)] = (
                expected.get((cut, value, metric, m.partition), 0.0) + x
            )
    expected = {k: v for k, v in expected.items() if v != 0.0}
    totals = dict(batch_deltas(moves, []).sorted_totals())
    assert totals == pytest.approx(expected)  # the same rows; floats summed in another order
    existing = sum(m.new.mrr - m.old.mrr for m in moves if m.old is not None and m.old.mrr > 0)
    daily = batch_deltas(moves, []).daily
    assert sum(v for k, v in daily.items() if k[0] == "all" and k[3] == "mrr_change_existing") == (
        pytest.approx(existing)
    )
