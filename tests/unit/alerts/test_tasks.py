"""Task lifecycle, SLA due times and assignment."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from churnwatch.alerts import (
    DEFAULT_SLA_HOURS,
    FINAL_STATES,
    TIERS,
    Agent,
    InvalidTransition,
    Task,
    TaskState,
    assign_by_tier,
    assign_round_robin,
    due_at,
    transition,
)
from churnwatch.errors import ChurnError

from .support import T0

S = TaskState


def new_task(tier: str = "gold") -> Task:
    return Task("T-1", "C-1", "save_call_vip", tier, T0, due_at(T0, tier), team="save-team")


def test_the_happy_path_records_everything():
    task, rows = new_task(), []
    for hours, to, assignee in [(1, S.ASSIGNED, "ann"), (2, S.IN_PROGRESS, None), (3, S.WON, None)]:
        task, row = transition(
            task, to, at=T0 + timedelta(hours=hours), actor="ann", assignee=assignee
        )
        rows.append(row)
    assert task.state == S.WON
    assert task.assignee == "ann"
    assert task.first_contact_at == T0 + timedelta(hours=2)
    assert task.closed_at == T0 + timedelta(hours=3)
    assert [(r.from_state, r.to_state) for r in rows] == [
        (S.OPEN, S.ASSIGNED),
        (S.ASSIGNED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.WON),
    ]


# The lifecycle as docs/playbooks.md ("Task lifecycle") and docs/alerts.md ("Working tasks")
# state it, written by hand — never derived from TRANSITIONS, so a wrong table in the code fails
# here: open → assigned → in_progress → won | lost | no_contact; assigned → assigned reassigns,
# assigned → open releases, assigned → no_contact (could not reach); won/lost need in_progress;
# from every non-final state a task may expire or be auto-closed as recovered or churned.
LIFECYCLE = """
from/to        open  assigned  in_progress  won  lost  no_contact  expired  recovered  churned
open           .     x         .            .    .     .           x        x          x
assigned       x     x         x            .    .     x           x        x          x
in_progress    .     .         .            x    x     x           x        x          x
won            .     .         .            .    .     .           .        .          .
lost           .     .         .            .    .     .           .        .          .
no_contact     .     .         .            .    .     .           .        .          .
expired        .     .         .            .    .     .           .        .          .
recovered      .     .         .            .    .     .           .        .          .
churned        .     .         .            .    .     .           .        .          .
"""
DOCUMENTED_FINAL = {"won", "lost", "no_contact", "expired", "recovered", "churned"}


def _grid() -> dict[tuple[str, str], bool]:
    header, *rows = [line.split() for line in LIFECYCLE.strip().splitlines()]
    targets = header[1:]
    return {
        (row[0], to): mark == "x" for row in rows for to, mark in zip(targets, row[1:], strict=True)
    }


GRID = _grid()
ALLOWED = sorted(pair for pair, ok in GRID.items() if ok)
FORBIDDEN = sorted(pair for pair, ok in GRID.items() if not ok)


def test_the_hand_written_table_covers_every_pair_of_states():
    assert len(GRID) == len(TaskState) ** 2 == 81
    assert {a for a, _ in GRID} == {s.value for s in TaskState}
    assert (len(ALLOWED), len(FORBIDDEN)) == (17, 64)


@pytest.mark.parametrize(("start", "to"), FORBIDDEN)
def test_every_move_outside_the_table_is_rejected_precisely(start, to):
    task = Task("T-9", "C-1", "pb", "gold", T0, T0, state=S(start), assignee="ann")
    with pytest.raises(InvalidTransition, match=f"task T-9: cannot go from {start} to {to}"):
        transition(task, S(to), at=T0, actor="x", assignee="bob")


@pytest.mark.parametrize(("start", "to"), ALLOWED)
def test_every_move_in_the_table_is_allowed(start, to):
    task = Task("T-9", "C-1", "pb", "gold", T0, T0, state=S(start), assignee="ann")
    moved, row = transition(task, S(to), at=T0, actor="x", assignee="bob")
    assert (moved.state, row.from_state, row.to_state) == (to, start, to)
    assert (moved.closed_at is not None) == (to in DOCUMENTED_FINAL)


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ("open", "allowed: assigned, churned, expired, recovered"),
        (
            "assigned",
            "allowed: assigned, churned, expired, in_progress, no_contact, open, recovered",
        ),
        ("in_progress", "allowed: churned, expired, lost, no_contact, recovered, won"),
        *[(final, f"{final} is final") for final in sorted(DOCUMENTED_FINAL)],
    ],
)
def test_a_refusal_names_what_is_allowed_instead(start, reason):
    task = Task("T-9", "C-1", "pb", "gold", T0, T0, state=S(start), assignee="ann")
    to = S.WON if start != "in_progress" else S.IN_PROGRESS
    with pytest.raises(InvalidTransition) as refused:
        transition(task, to, at=T0, actor="x")
    assert str(refused.value).endswith(f"({reason})")


def test_the_lifecycle_shape():
    assert {s.value for s in FINAL_STATES} == DOCUMENTED_FINAL
    assert issubclass(InvalidTransition, ChurnError)


def test_assigning_needs_an_assignee_and_time_runs_forward():
    with pytest.raises(InvalidTransition, match="needs an assignee"):
        transition(new_task(), S.ASSIGNED, at=T0, actor="router")
    with pytest.raises(InvalidTransition, match="before its creation"):
        transition(new_task(), S.EXPIRED, at=T0 - timedelta(seconds=1), actor="sweeper")


def test_releasing_a_task_clears_the_assignee_and_the_first_contact_is_kept():
    task, _ = transition(new_task(), S.ASSIGNED, at=T0, actor="r", assignee="ann")
    released, _ = transition(task, S.OPEN, at=T0, actor="ann")
    assert released.assignee is None
    task, _ = transition(task, S.IN_PROGRESS, at=T0 + timedelta(hours=1), actor="ann")
    done, _ = transition(task, S.NO_CONTACT, at=T0 + timedelta(hours=5), actor="ann")
    assert done.first_contact_at == T0 + timedelta(hours=1)


def test_sla_puts_platinum_first_and_is_configurable():
    dues = [due_at(T0, tier) for tier in reversed(TIERS)]  # platinum, gold, silver, bronze
    assert dues == sorted(dues)
    assert due_at(T0, "platinum") - T0 == timedelta(hours=DEFAULT_SLA_HOURS["platinum"])
    assert due_at(T0, "bronze", {"bronze": 1}) == T0 + timedelta(hours=1)
    with pytest.raises(ValueError, match="no SLA"):
        due_at(T0, "diamond")


def test_round_robin_is_fair_and_skips_full_or_absent_agents():
    agents = [
        Agent("ann", "save"),
        Agent("bob", "save"),
        Agent("cy", "save"),
        Agent("dee", "save", load=20),
        Agent("eve", "save", available=False),
        Agent("fay", "billing"),
    ]
    last, picks = None, []
    for _ in range(9):
        agent = assign_round_robin(agents, "save", last)
        assert agent is not None
        picks.append(agent.agent_id)
        last = agent.agent_id
    assert Counter(picks) == {"ann": 3, "bob": 3, "cy": 3}
    assert assign_round_robin(agents, "nobody", None) is None


def test_top_tiers_go_to_senior_agents_by_load():
    agents = [
        Agent("ann", "save", senior=True, load=5),
        Agent("ben", "save", senior=True, load=2),
        Agent("cat", "save", load=0),
    ]

    def pick(pool: list[Agent], tier: str) -> str | None:
        agent = assign_by_tier(pool, "save", tier)
        return agent.agent_id if agent else None

    assert pick(agents, "platinum") == "ben"
    assert pick(agents, "bronze") == "cat"
    busy = [a if not a.senior else Agent(a.agent_id, a.team, True, load=20) for a in agents]
    assert pick(busy, "gold") == "cat"  # no senior free: anyone
    assert assign_by_tier([], "save", "gold") is None
