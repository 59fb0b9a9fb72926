"""The alerts batch's SQL: batched loads by customer, one ``unnest`` statement per table.

Runs on the raw asyncpg connection of the worker's batch transaction (as scoring does). Every
insert keyed by the action id is ``ON CONFLICT DO NOTHING``: a batch processed again after a
crash finds its rows there and adds none. Tables: migration 0020 (and ``treatments``, 0010;
``agents`` and ``team_cursors``, 0022).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from churnwatch.alerts import Agent
from churnwatch.profile import CustomerProfile
from churnwatch_alerts.assign import Roster
from churnwatch_alerts.plan import CustomerState, OpenTask
from churnwatch_alerts.rows import ExposureRow, Plan, TaskRow
from churnwatch_runtime.db import BulkInsert, Pg, transpose


async def load_states(pg: Pg, ids: Sequence[str], since: datetime) -> dict[str, CustomerState]:
    """Every customer of ``ids`` (empty state if unknown): profile, last band, open tasks, the
    action ids of every exposure, and contacts after ``since``. Five statements, whatever the
    number of customers.

    The open tasks are locked (``FOR UPDATE``, in id order) until the batch commits: a person
    closing or reassigning one of them (``worktasks``) either commits first, and the batch sees
    the new state, or waits for the batch; otherwise an auto-close planned from a stale read
    would overwrite a human outcome."""
    states = {c: CustomerState() for c in ids}
    ids = list(states)
    for cid, state in await pg.fetch(
        "SELECT customer_id, state FROM customer_profiles WHERE customer_id = ANY($1::text[])", ids
    ):
        states[cid].profile = CustomerProfile.from_bytes(bytes(state))
    for cid, band, at, score_id in await pg.fetch(
        "SELECT customer_id, band, event_time, score_id FROM alert_customers"
        " WHERE customer_id = ANY($1::text[])",
        ids,
    ):
        s = states[cid]
        s.band, s.event_time, s.score_id = band, at, score_id
    for cid, task_id, playbook_id, state, band, below, assignee in await pg.fetch(
        "SELECT customer_id, task_id, playbook_id, state, recover_band, below_since, assignee"
        " FROM tasks WHERE customer_id = ANY($1::text[])"
        " AND state IN ('open', 'assigned', 'in_progress') ORDER BY task_id FOR UPDATE",
        ids,
    ):
        states[cid].open_tasks[playbook_id] = OpenTask(
            task_id, playbook_id, state, band, below, assignee
        )
    for cid, action_id in await pg.fetch(
        "SELECT customer_id, action_id FROM exposures WHERE customer_id = ANY($1::text[])", ids
    ):
        states[cid].decided.add(action_id)
    for cid, playbook_id, at, action_id in await pg.fetch(
        "SELECT customer_id, playbook_id, at, action_id FROM contact_log"
        " WHERE customer_id = ANY($1::text[]) AND at > $2 ORDER BY at",
        ids, since,
    ):  # fmt: skip
        states[cid].contacts.append((playbook_id, at, action_id))
    return states


async def load_roster(pg: Pg, teams: Sequence[str]) -> Roster | None:
    """The active agents of ``teams`` with their open (assigned, in progress) task counts and
    the teams' round-robin cursors, or None if no team has an active agent (nothing locked).

    The teams' ``team_cursors`` rows are created if missing and locked (sorted, so concurrent
    instances never deadlock) until the batch commits; the loads are counted after the lock, so
    they include everything the previous holder committed."""
    if not teams:
        return None
    rows = await pg.fetch(
        "SELECT agent_id, team, seniority, max_open FROM agents"
        " WHERE active AND team = ANY($1::text[]) ORDER BY agent_id",
        list(teams),
    )
    if not rows:
        return None
    busy = sorted({r["team"] for r in rows})
    await pg.execute(
        "INSERT INTO team_cursors (team) SELECT t FROM unnest($1::text[]) AS t ORDER BY t"
        " ON CONFLICT DO NOTHING",
        busy,
    )
    cursors = {
        team: last
        for team, last in await pg.fetch(
            "SELECT team, last_agent FROM team_cursors WHERE team = ANY($1::text[])"
            " ORDER BY team FOR UPDATE",
            busy,
        )
    }
    agents = [Agent(r["agent_id"], r["team"], senior=r["seniority"] == "senior",
                    capacity=r["max_open"]) for r in rows]  # fmt: skip
    load = {
        agent: n
        for agent, n in await pg.fetch(
            "SELECT assignee, count(*) FROM tasks WHERE assignee = ANY($1::text[])"
            " AND state IN ('assigned', 'in_progress') GROUP BY assignee",
            [a.agent_id for a in agents],
        )
    }
    return Roster.of(agents, load, cursors)


async def save_cursors(pg: Pg, roster: Roster) -> None:
    """Write back the round-robin cursors ``plan_batch`` moved."""
    if not roster.moved:
        return
    teams = sorted(roster.moved)
    await pg.execute(
        "UPDATE team_cursors SET last_agent = u.a FROM unnest($1::text[], $2::text[]) AS u(t, a)"
        " WHERE team_cursors.team = u.t",
        teams, [roster.cursors[t] for t in teams],
    )  # fmt: skip
    roster.moved.clear()


_NOTHING = "ON CONFLICT DO NOTHING"
_TASKS = BulkInsert.of(
    TaskRow, "tasks", conflict=_NOTHING, casts={"reasons": "jsonb", "talking_points": "jsonb"}
)
_EXPOSURES = BulkInsert.of(ExposureRow, "exposures", conflict=_NOTHING)
_AUDITS = BulkInsert(
    "task_audit",
    (("task_id", "text"), ("from_state", "text"), ("to_state", "text"), ("actor", "text"),
     ("assignee", "text"), ("at", "timestamptz")),
)  # fmt: skip
_SUPPRESSIONS = BulkInsert(
    "suppressions",
    (("action_id", "text"), ("customer_id", "text"), ("playbook_id", "text"),
     ("playbook_version", "int"), ("reason", "text"), ("message", "text"),
     ("at", "timestamptz")),
    conflict=_NOTHING,
)  # fmt: skip
_CONTACTS = BulkInsert(
    "contact_log",
    (("action_id", "text"), ("customer_id", "text"), ("playbook_id", "text"), ("arm", "text"),
     ("channel", "text"), ("at", "timestamptz")),
    conflict=_NOTHING,
)  # fmt: skip
_TREATMENTS = BulkInsert(
    "treatments",
    (("action_id", "text"), ("customer_id", "text"), ("action_type", "text"),
     ("issued_at", "timestamptz")),
    conflict=_NOTHING,
)  # fmt: skip
_CUSTOMERS = BulkInsert(
    "alert_customers",
    (("customer_id", "text"), ("band", "text"), ("event_time", "timestamptz"),
     ("score_id", "text")),
    conflict="ON CONFLICT (customer_id) DO UPDATE SET band = EXCLUDED.band,"
    " event_time = EXCLUDED.event_time, score_id = EXCLUDED.score_id",
)  # fmt: skip


async def _update_tasks(pg: Pg, updates: dict[str, tuple[Any, ...]]) -> None:
    if not updates:
        return
    ids = list(updates)
    states, closed, outcomes, below = transpose(list(updates.values()), 4)
    await pg.execute(
        "UPDATE tasks SET state = u.s, closed_at = coalesce(u.c, tasks.closed_at),"
        " outcome = coalesce(u.o, tasks.outcome), below_since = u.b"
        " FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::timestamptz[])"
        " AS u(id, s, c, o, b) WHERE tasks.task_id = u.id",
        ids, states, closed, outcomes, below,
    )  # fmt: skip


async def write_plan(pg: Pg, plan: Plan) -> None:
    """Every row of ``plan`` (the outbox messages are the processor's)."""
    # updates of existing tasks first: a task closed in this batch frees the (customer,
    # playbook) slot of the unique open-task index for a new task of the same batch
    new = {row.task_id for row in plan.tasks}
    await _update_tasks(pg, {k: v for k, v in plan.task_updates.items() if k not in new})
    await _TASKS.run(pg, plan.tasks)
    await _update_tasks(pg, {k: v for k, v in plan.task_updates.items() if k in new})
    await _AUDITS.run(pg, plan.audits)
    await _SUPPRESSIONS.run(pg, plan.suppressions)
    await _EXPOSURES.run(pg, plan.exposures)
    await _CONTACTS.run(pg, plan.contacts)
    await _TREATMENTS.run(pg, plan.treatments)
    # auto-closed tasks: the outcome on the treatment too (after its insert: a task may be
    # created and closed in one batch), as people's closes do (worktasks)
    closed = [(k, v[2], v[1]) for k, v in plan.task_updates.items() if v[2] is not None]
    if closed:
        await pg.execute(
            "UPDATE treatments SET outcome = u.o, outcome_at = u.a FROM unnest($1::text[],"
            " $2::text[], $3::timestamptz[]) AS u(id, o, a) WHERE treatments.action_id = u.id",
            *transpose(closed, 3),
        )
    if plan.deliveries:
        ids, bodies = transpose(plan.deliveries, 2)
        await pg.execute(
            "INSERT INTO webhook_deliveries (action_id, endpoint_id, body, status, attempts,"
            " next_attempt_at, created_at) SELECT u.a, e.id, u.b, 'pending', 0, now(), now()"
            " FROM unnest($1::text[], $2::bytea[]) AS u(a, b) CROSS JOIN webhook_endpoints e"
            " WHERE e.enabled ON CONFLICT (action_id, endpoint_id) DO NOTHING",
            ids, bodies,
        )  # fmt: skip
    rows = [(c, band, at, sid) for c, (band, at, sid) in plan.customers.items()]
    await _CUSTOMERS.run(pg, rows)
