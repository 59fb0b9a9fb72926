"""Working tasks by hand on the real database: the lifecycle with its audit rows and treatment
outcome, refused moves, concurrent closes and assignments, ``max_open``, agent deactivation,
the expiry sweep, the batch's lock on open tasks, and the ``churnwatch task|agents`` CLI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from churnwatch.alerts import InvalidTransition, TaskState
from churnwatch_alerts import ExpiryConfig, run_expiry
from churnwatch_alerts import agents as ag
from churnwatch_alerts import worktasks as wt
from churnwatch_alerts.store import load_states
from churnwatch_runtime.db import raw_connection, sync_url
from tests.support.infra import unique

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 10, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
_INSERT = (
    "INSERT INTO tasks (task_id, customer_id, playbook_id, playbook_version, action_type, state,"
    " priority, value_at_risk, churn_probability, tier, reasons, talking_points, team, assignee,"
    " sla_due_at, created_at, first_contact_at, recover_band)"
    " VALUES (:id, :customer, :playbook, 1, 'save_call', :state, :priority, 100, 0.6, 'gold',"
    ' \'[{"text": "NPS 3"}]\', \'["ask about the outage"]\', :team, :assignee,'
    " CAST(:created AS timestamptz) + interval '8 hours', :created, :contact, 'high')"
)


def task_row(task_id: str, **kw: Any) -> dict[str, Any]:
    row = {"id": task_id, "customer": f"C-{task_id}", "playbook": "save_call_vip",
           "state": "open", "priority": 1.0, "team": "save", "assignee": None, "created": T0,
           "contact": None}  # fmt: skip
    row.update(kw)
    return row


async def add_tasks(engine: AsyncEngine, *rows: dict[str, Any]) -> None:
    """Tasks and their treatments rows (as the alerts batch writes them: same id)."""
    async with engine.begin() as conn:
        await conn.execute(text(_INSERT), list(rows))
        await conn.execute(
            text("INSERT INTO treatments (action_id, customer_id, action_type, issued_at)"
                 " VALUES (:id, :customer, 'save_call', :created)"),
            list(rows),
        )  # fmt: skip


async def fetch(engine: AsyncEngine, sql: str, *args: Any) -> list[Any]:
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        return [tuple(r) for r in await pg.fetch(sql, *args)]


async def audit(engine: AsyncEngine, task_id: str) -> list[Any]:
    return await fetch(
        engine,
        "SELECT from_state, to_state, actor, assignee, at, note FROM task_audit"
        " WHERE task_id = $1 ORDER BY id",
        task_id,
    )


async def test_happy_path_open_assigned_in_progress_won(engine: AsyncEngine) -> None:
    tid, agent = unique("T"), unique("ann")
    await ag.add_agent(engine, agent, "save", senior=True, max_open=3)
    await add_tasks(engine, task_row(tid))
    t1, t2, t3 = T0 + HOUR, T0 + 2 * HOUR, T0 + 30 * HOUR

    assigned = await wt.assign(engine, tid, agent, actor="lead", now=t1)
    started = await wt.start(engine, tid, actor=agent, now=t2)
    won = await wt.close(engine, tid, "won", actor=agent, note="renewed for a year", now=t3)

    assert (assigned.state, assigned.assignee) == (TaskState.ASSIGNED, agent)
    assert (started.state, started.first_contact_at, started.in_sla) == ("in_progress", t2, True)
    assert (won.state, won.outcome, won.closed_at, won.assignee) == ("won", "won", t3, agent)
    assert await audit(engine, tid) == [
        ("open", "assigned", "lead", agent, t1, None),
        ("assigned", "in_progress", agent, agent, t2, None),
        ("in_progress", "won", agent, agent, t3, "renewed for a year"),
    ]
    stored = await fetch(
        engine,
        "SELECT t.state, t.outcome, t.first_contact_at, t.closed_at, t.first_contact_at"
        " <= t.sla_due_at, r.outcome, r.outcome_at FROM tasks t JOIN treatments r"
        " ON r.action_id = t.task_id WHERE t.task_id = $1",
        tid,
    )
    assert stored == [("won", "won", t2, t3, True, "won", t3)]
    shown = await wt.get_task(engine, tid)
    assert [(a.from_state, a.to_state, a.note) for a in shown.audit] == [
        ("open", "assigned", None), ("assigned", "in_progress", None),
        ("in_progress", "won", "renewed for a year"),
    ]  # fmt: skip
    assert (shown.reasons, shown.talking_points) == ([{"text": "NPS 3"}], ["ask about the outage"])


async def test_refused_moves_name_the_state_and_change_nothing(engine: AsyncEngine) -> None:
    tid, agent, other, idle = unique("T"), unique("ann"), unique("cy"), unique("dee")
    await ag.add_agent(engine, agent, "save")
    await ag.add_agent(engine, other, "care")
    await ag.add_agent(engine, idle, "save")
    await ag.update_agent(engine, idle, active=False)
    await add_tasks(engine, task_row(tid))

    with pytest.raises(InvalidTransition, match=r"from open to in_progress \(allowed: .*assigned"):
        await wt.start(engine, tid, actor="x", now=T0 + HOUR)
    with pytest.raises(InvalidTransition, match="from open to won"):  # won needs in_progress
        await wt.close(engine, tid, "won", actor="x", now=T0 + HOUR)
    with pytest.raises(InvalidTransition, match="not an outcome"):
        await wt.close(engine, tid, "expired", actor="x", now=T0 + HOUR)
    with pytest.raises(wt.TaskNotFound, match="no task"):
        await wt.assign(engine, unique("nope"), agent, actor="x")
    with pytest.raises(wt.AgentNotFound, match="no agent"):
        await wt.assign(engine, tid, unique("ghost"), actor="x")
    with pytest.raises(wt.AgentUnavailable, match="inactive"):
        await wt.assign(engine, tid, idle, actor="x")
    with pytest.raises(wt.AgentUnavailable, match="team care"):
        await wt.assign(engine, tid, other, actor="x")
    await wt.assign(engine, tid, agent, actor="x", now=T0 + HOUR)
    with pytest.raises(InvalidTransition, match="from assigned to won"):
        await wt.close(engine, tid, "won", actor="x", now=T0 + 2 * HOUR)
    await wt.close(engine, tid, "no_contact", actor="x", now=T0 + 2 * HOUR)
    with pytest.raises(InvalidTransition, match="no_contact is final"):
        await wt.assign(engine, tid, agent, actor="x")  # the lifecycle before the agent

    assert [row[:2] for row in await audit(engine, tid)] == [
        ("open", "assigned"), ("assigned", "no_contact"),
    ]  # fmt: skip


async def test_two_concurrent_closes_exactly_one_wins(engine: AsyncEngine) -> None:
    tid, agent = unique("T"), unique("ann")
    await ag.add_agent(engine, agent, "save")
    await add_tasks(engine, task_row(tid, state="in_progress", assignee=agent, contact=T0))
    async with engine.begin() as holder:  # someone else is mid-change: both closes must wait
        await holder.execute(text("SELECT 1 FROM tasks WHERE task_id = :t FOR UPDATE"), {"t": tid})
        closes = [
            asyncio.create_task(wt.close(engine, tid, outcome, actor=outcome, now=T0 + HOUR))
            for outcome in ("won", "lost")
        ]
        await asyncio.sleep(0.3)
        assert not any(c.done() for c in closes)
    results = await asyncio.gather(*closes, return_exceptions=True)

    winners = [r for r in results if isinstance(r, wt.TaskView)]
    losers = [r for r in results if isinstance(r, InvalidTransition)]
    assert len(winners) == 1
    assert len(losers) == 1
    outcome = winners[0].outcome
    assert f"cannot go from {outcome}" in str(losers[0])
    assert f"{outcome} is final" in str(losers[0])
    closes_audited = [r for r in await audit(engine, tid) if r[1] in ("won", "lost")]
    assert [(r[1], r[2]) for r in closes_audited] == [(outcome, outcome)]
    treatment = await fetch(engine, "SELECT outcome FROM treatments WHERE action_id = $1", tid)
    assert treatment == [(outcome,)]


async def test_max_open_is_respected_also_by_concurrent_assignments(engine: AsyncEngine) -> None:
    agent = unique("bob")
    ids = [unique("T") for _ in range(4)]
    await ag.add_agent(engine, agent, "save", max_open=2)
    await add_tasks(engine, *(task_row(t) for t in ids))
    await wt.assign(engine, ids[0], agent, actor="lead", now=T0 + HOUR)

    # one slot left, two people take it at once: the team's cursor lock serialises them
    results = await asyncio.gather(
        *(wt.assign(engine, t, agent, actor="lead", now=T0 + HOUR) for t in ids[1:3]),
        return_exceptions=True,
    )
    full = [r for r in results if isinstance(r, wt.AgentFull)]
    assert len(full) == 1
    assert "has 2 open tasks (max_open 2)" in str(full[0])
    assert sum(isinstance(r, wt.TaskView) for r in results) == 1
    await wt.assign(engine, ids[0], agent, actor="lead", now=T0 + HOUR)  # itself: no extra slot
    with pytest.raises(wt.AgentFull):
        await wt.assign(engine, ids[3], agent, actor="lead", now=T0 + HOUR)

    await wt.close(engine, ids[0], "no_contact", actor=agent, now=T0 + 2 * HOUR)  # frees one
    done = await wt.assign(engine, ids[3], agent, actor="lead", now=T0 + 3 * HOUR)
    assert done.assignee == agent
    (listed,) = [a for a in await ag.list_agents(engine, team="save") if a.agent_id == agent]
    assert (listed.load, listed.max_open) == (2, 2)


async def test_release_and_deactivation_put_assigned_tasks_back(engine: AsyncEngine) -> None:
    agent = unique("eve")
    a, b, c = unique("T"), unique("T"), unique("T")
    await ag.add_agent(engine, agent, "save")
    await add_tasks(engine, task_row(a), task_row(b), task_row(c))
    for tid in (a, b, c):
        await wt.assign(engine, tid, agent, actor="lead", now=T0 + HOUR)
    released = await wt.release(engine, a, actor=agent, now=T0 + 2 * HOUR)
    assert (released.state, released.assignee) == ("open", None)
    await wt.start(engine, c, actor=agent, now=T0 + 2 * HOUR)

    view, freed = await ag.deactivate_agent(engine, agent, actor="lead", now=T0 + 3 * HOUR)

    assert (view.active, freed) == (False, [b])
    assert (await wt.get_task(engine, b)).state == "open"
    assert (await wt.get_task(engine, c)).assignee == agent  # a conversation under way stays
    assert (await audit(engine, b))[-1] == ("assigned", "open", "lead", None, T0 + 3 * HOUR, None)
    assert agent not in {x.agent_id for x in await ag.list_agents(engine)}
    assert agent in {x.agent_id for x in await ag.list_agents(engine, include_inactive=True)}
    with pytest.raises(ag.AgentExists):
        await ag.add_agent(engine, agent, "save")


async def test_list_tasks_in_queue_order_with_filters(engine: AsyncEngine) -> None:
    team, agent = unique("team"), unique("fay")
    await ag.add_agent(engine, agent, team)
    low, high, later, done = (unique("T") for _ in range(4))
    await add_tasks(
        engine,
        task_row(low, team=team, priority=1.0),
        task_row(high, team=team, priority=9.0),
        task_row(later, team=team, priority=9.0, created=T0 + HOUR),  # same priority, due later
        task_row(done, team=team, priority=50.0, state="won"),
    )
    await wt.assign(engine, low, agent, actor="lead", now=T0 + HOUR)

    assert [t.task_id for t in await wt.list_tasks(engine, team=team)] == [high, later, low]
    assert [t.task_id for t in await wt.list_tasks(engine, team=team, limit=1)] == [high]
    assert [t.task_id for t in await wt.list_tasks(engine, assignee=agent)] == [low]
    assert [t.task_id for t in await wt.list_tasks(engine, team=team, state="won")] == [done]


async def test_a_batch_waits_for_a_person_changing_its_customers_task(engine: AsyncEngine) -> None:
    """The alerts batch locks its customers' open tasks (store.load_states): a close under way
    makes it wait, and it then sees the task closed instead of auto-closing it over the
    person's outcome."""
    tid, agent = unique("T"), unique("gus")
    await ag.add_agent(engine, agent, "save")
    await add_tasks(engine, task_row(tid, state="in_progress", assignee=agent, contact=T0))

    async def batch_loads() -> dict[str, Any]:
        async with engine.begin() as conn:
            pg = await raw_connection(conn)
            states = await load_states(pg, [f"C-{tid}"], T0 - 30 * 24 * HOUR)
            return states[f"C-{tid}"].open_tasks

    async with engine.begin() as person:  # commits at the end of the block
        await person.execute(text("SELECT 1 FROM tasks WHERE task_id = :t FOR UPDATE"), {"t": tid})
        await person.execute(text("UPDATE tasks SET state = 'won' WHERE task_id = :t"), {"t": tid})
        loading = asyncio.create_task(batch_loads())
        await asyncio.sleep(0.3)
        assert not loading.done()
    assert await loading == {}


EXPIRY_PLAYBOOK = {
    "id": "quick_call", "version": 1, "name": "quick", "holdout": 0,
    "trigger": {"type": "band_entered", "bands": ["high"]},
    "action": {"type": "save_call", "team": "save", "params": {"expire_after_hours": 24}},
}  # fmt: skip


async def test_expiry_expires_only_due_unfinished_tasks(db: AsyncEngine) -> None:
    agent = "hal"
    await ag.add_agent(db, agent, "save")
    day = timedelta(days=1)
    watermark = T0 + 40 * day
    rows = {
        "old-open": task_row("old-open", created=T0),
        "old-assigned": task_row("old-assigned", created=T0, state="assigned", assignee=agent),
        "old-started": task_row("old-started", created=T0 + day, state="in_progress",
                                assignee=agent, contact=T0 + day),
        "old-won": task_row("old-won", created=T0, state="won"),
        "young": task_row("young", created=watermark - 29 * day),
        "quick-due": task_row("quick-due", created=watermark - 2 * day, playbook="quick_call"),
        "quick-young": task_row("quick-young", created=watermark - 12 * HOUR,
                                playbook="quick_call"),
        "locked": task_row("locked", created=T0),
    }  # fmt: skip
    await add_tasks(db, *rows.values())
    async with db.begin() as conn:
        await conn.execute(
            text("INSERT INTO playbooks (id, version, yaml, enabled, loaded_at)"
                 " VALUES ('quick_call', 1, :y, true, now())"),
            {"y": yaml.safe_dump(EXPIRY_PLAYBOOK)},
        )  # fmt: skip
    cfg = ExpiryConfig(expire_after=timedelta(days=30))
    assert (await run_expiry(db, cfg)).status == "no_clock"  # no watermark yet
    async with db.begin() as conn:
        await conn.execute(
            text("INSERT INTO partition_watermarks (group_id, topic, partition, watermark)"
                 " VALUES ('scoring', 'cw.events', 0, :w), ('scoring', 'cw.events', 1, :later),"
                 " ('other', 'cw.events', 0, :early)"),
            {"w": watermark, "later": watermark + 5 * day, "early": T0},
        )  # fmt: skip

    async with db.connect() as person:  # a task someone is changing is skipped, not waited for
        tx = await person.begin()
        await person.execute(text("SELECT 1 FROM tasks WHERE task_id = 'locked' FOR UPDATE"))
        run = await asyncio.wait_for(run_expiry(db, cfg), timeout=10)
        await tx.rollback()
    again = await run_expiry(db, cfg)

    expected = {"old-open": T0 + 30 * day, "old-assigned": T0 + 30 * day,
                "old-started": T0 + 31 * day, "quick-due": watermark - day}  # fmt: skip
    assert (run.status, run.clock, set(run.expired)) == ("done", watermark, set(expected))
    assert again.expired == ("locked",)
    expected["locked"] = T0 + 30 * day
    states = dict(await fetch(db, "SELECT task_id, state FROM tasks"))
    assert {k for k, s in states.items() if s == "expired"} == set(expected)
    assert (states["old-won"], states["young"], states["quick-young"]) == ("won", "open", "open")
    audited = await fetch(
        db, "SELECT task_id, from_state, actor, at FROM task_audit WHERE to_state = 'expired'"
    )
    assert sorted(audited) == sorted(
        (tid, rows[tid]["state"], "alerts", at) for tid, at in expected.items()
    )
    outcomes = dict(await fetch(db, "SELECT action_id, outcome FROM treatments"))
    assert {k for k, o in outcomes.items() if o == "expired"} == set(expected)
    assert (await run_expiry(db, cfg)).expired == ()

    wall = await run_expiry(db, ExpiryConfig(clock="wall"), now=T0 + 60 * day)
    assert set(wall.expired) == {"young", "quick-young"}


def test_cli_smoke(fresh_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from churnwatch_runtime.cli import app

    monkeypatch.setenv("DATABASE_URL", fresh_database)
    monkeypatch.setenv("CW_ACTOR", "lead")
    sync = create_engine(sync_url(fresh_database))
    with sync.begin() as conn:
        conn.execute(text(_INSERT), [task_row("T-1", created=datetime.now(UTC) - HOUR)])
    runner = CliRunner()

    def ok(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    assert "ann  save  senior  active  load 0/2" in ok(
        "agents", "add", "ann", "--team", "save", "--senior", "--max-open", "2"
    )
    assert "T-1  assigned" in ok("task", "list")  # the waiting task went to the new agent
    assert "assigned" in ok("task", "assign", "T-1", "ann")
    assert "T-1  assigned" in ok("task", "list", "--mine", "ann")
    assert "load 1/2" in ok("agents", "list")
    ok("task", "start", "T-1", "--actor", "ann")
    assert "T-1  won" in ok("task", "close", "T-1", "--outcome", "won", "--note", "stays")
    shown = ok("task", "show", "T-1")
    assert 'in_progress → won  by lead  "stays"' in shown
    assert "(SLA met)" in shown
    assert "T-1  won" in ok("task", "list", "--state", "won")
    refused = runner.invoke(app, ["task", "close", "T-1", "--outcome", "lost"])
    assert refused.exit_code == 1
    assert "error: task T-1: cannot go from won to lost (won is final)" in refused.output
    missing = runner.invoke(app, ["task", "show", "T-404"])
    assert (missing.exit_code, "error: no task 'T-404'" in missing.output) == (1, True)
    assert "released 0 task(s)" in ok("agents", "deactivate", "ann")
    assert "no agents" in ok("agents", "list")
    assert "inactive" in ok("agents", "update", "ann", "--max-open", "5")
    ok("tasks")  # the read-only listing still works
    with sync.connect() as conn:
        stored = conn.execute(
            text("SELECT state, outcome, first_contact_at IS NOT NULL FROM tasks")
        ).one()
        actors = conn.execute(text("SELECT actor FROM task_audit ORDER BY id")).scalars().all()
    sync.dispose()
    assert tuple(stored) == ("won", "won", True)
    assert actors == ["lead", "lead", "ann", "lead"]


def test_migration_0023_downgrades_and_upgrades(fresh_database: str) -> None:
    from alembic import command

    from churnwatch_runtime.db import upgrade
    from churnwatch_runtime.db.migrate import alembic_config

    def columns() -> set[tuple[str, str]]:
        sync = create_engine(sync_url(fresh_database))
        with sync.connect() as conn:
            found = conn.execute(
                text("SELECT table_name, column_name FROM information_schema.columns"
                     " WHERE table_name IN ('treatments', 'task_audit')")
            ).all()  # fmt: skip
        sync.dispose()
        return {(t, c) for t, c in found}

    new = {("treatments", "outcome"), ("treatments", "outcome_at"), ("task_audit", "note")}
    assert new <= columns()
    command.downgrade(alembic_config(fresh_database), "0022")
    assert not new & columns()
    upgrade(fresh_database)
    assert new <= columns()


async def test_an_auto_close_of_the_batch_puts_its_outcome_on_the_treatment(
    engine: AsyncEngine,
) -> None:
    from churnwatch_alerts import Plan
    from churnwatch_alerts.store import write_plan

    tid = unique("T")
    await add_tasks(engine, task_row(tid, state="assigned", assignee="x"))
    at = T0 + 200 * HOUR
    plan = Plan(task_updates={tid: ("recovered", at, "recovered", None)},
                audits=[(tid, "assigned", "recovered", "alerts", None, at)])  # fmt: skip
    async with engine.begin() as conn:
        await write_plan(await raw_connection(conn), plan)
    assert await fetch(
        engine, "SELECT t.state, r.outcome, r.outcome_at FROM tasks t JOIN treatments r"
        " ON r.action_id = t.task_id WHERE t.task_id = $1", tid,
    ) == [("recovered", "recovered", at)]  # fmt: skip
