"""The alerts service's SQL: batched loads by customer, one ``unnest`` statement per table.

Runs on the raw asyncpg connection of the worker's batch transaction (as scoring does). Every
insert keyed by the action id is ``ON CONFLICT DO NOTHING``: a batch processed again after a
crash finds its rows there and adds none. Tables: migration 0020 (and ``treatments``, 0010;
``agents`` and ``team_cursors``, 0022).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.alerts import Agent
from churnwatch.profile import CustomerProfile
from churnwatch_alerts.assign import Roster
from churnwatch_alerts.plan import CustomerState, OpenTask, Plan
from churnwatch_runtime.db import raw_connection

Pg = Any  # asyncpg.Connection (asyncpg ships no type hints)


async def raw(conn: AsyncConnection) -> Pg:
    """The asyncpg connection under ``conn``, inside its transaction (see ``raw_connection``)."""
    pg: Pg = await raw_connection(conn)
    return pg


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


def _columns(rows: Sequence[tuple[Any, ...]], n: int) -> list[list[Any]]:
    cols: list[list[Any]] = [[] for _ in range(n)]
    for row in rows:
        for col, value in zip(cols, row, strict=True):
            col.append(value)
    return cols


def _unnest(types: Sequence[str]) -> str:
    return "unnest(" + ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(types)) + ")"


async def _insert(
    pg: Pg, table: str, columns: str, types: Sequence[str], rows: Sequence[tuple[Any, ...]],
    *, conflict: str = "ON CONFLICT DO NOTHING", casts: dict[int, str] | None = None,
) -> None:  # fmt: skip
    if not rows:
        return
    names = [f"c{i}" for i in range(len(types))]
    select = ", ".join(
        f"CAST({name} AS {casts[i]})" if casts and i in casts else name
        for i, name in enumerate(names)
    )
    await pg.execute(
        f"INSERT INTO {table} ({columns}) SELECT {select} FROM {_unnest(types)}"
        f" AS u({', '.join(names)}) {conflict}",
        *_columns(rows, len(types)),
    )


_TASK_COLUMNS = (
    "task_id, customer_id, playbook_id, playbook_version, action_type, state, priority,"
    " value_at_risk, churn_probability, tier, reasons, talking_points, team, sla_due_at,"
    " created_at, recover_band, assignee"
)
_TASK_TYPES = (
    "text", "text", "text", "int", "text", "text", "float8", "float8", "float8", "text", "text",
    "text", "text", "timestamptz", "timestamptz", "text", "text",
)  # fmt: skip


async def _update_tasks(pg: Pg, updates: dict[str, tuple[Any, ...]]) -> None:
    if not updates:
        return
    ids = list(updates)
    states, closed, outcomes, below = _columns(list(updates.values()), 4)
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
    new = {row[0] for row in plan.tasks}
    await _update_tasks(pg, {k: v for k, v in plan.task_updates.items() if k not in new})
    await _insert(pg, "tasks", _TASK_COLUMNS, _TASK_TYPES, plan.tasks, casts={10: "jsonb",
                  11: "jsonb"})  # fmt: skip
    await _update_tasks(pg, {k: v for k, v in plan.task_updates.items() if k in new})
    await _insert(
        pg, "task_audit", "task_id, from_state, to_state, actor, assignee, at",
        ("text", "text", "text", "text", "text", "timestamptz"), plan.audits, conflict="",
    )  # fmt: skip
    await _insert(
        pg, "suppressions",
        "action_id, customer_id, playbook_id, playbook_version, reason, message, at",
        ("text", "text", "text", "int", "text", "text", "timestamptz"), plan.suppressions,
    )  # fmt: skip
    await _insert(
        pg, "exposures",
        "action_id, customer_id, playbook_id, playbook_version, arm, trigger_key, exposed_at,"
        " segment, churn_probability, clv, value_at_risk",
        ("text", "text", "text", "int", "text", "text", "timestamptz", "text", "float8",
         "float8", "float8"),
        plan.exposures,
    )  # fmt: skip
    await _insert(
        pg, "contact_log", "action_id, customer_id, playbook_id, arm, channel, at",
        ("text", "text", "text", "text", "text", "timestamptz"), plan.contacts,
    )  # fmt: skip
    await _insert(
        pg, "treatments", "action_id, customer_id, action_type, issued_at",
        ("text", "text", "text", "timestamptz"), plan.treatments,
    )  # fmt: skip
    # auto-closed tasks: the outcome on the treatment too (after its insert: a task may be
    # created and closed in one batch), as people's closes do (worktasks)
    closed = [(k, v[2], v[1]) for k, v in plan.task_updates.items() if v[2] is not None]
    if closed:
        await pg.execute(
            "UPDATE treatments SET outcome = u.o, outcome_at = u.a FROM unnest($1::text[],"
            " $2::text[], $3::timestamptz[]) AS u(id, o, a) WHERE treatments.action_id = u.id",
            *_columns(closed, 3),
        )
    if plan.deliveries:
        ids, bodies = _columns(plan.deliveries, 2)
        await pg.execute(
            "INSERT INTO webhook_deliveries (action_id, endpoint_id, body, status, attempts,"
            " next_attempt_at, created_at) SELECT u.a, e.id, u.b, 'pending', 0, now(), now()"
            " FROM unnest($1::text[], $2::bytea[]) AS u(a, b) CROSS JOIN webhook_endpoints e"
            " WHERE e.enabled ON CONFLICT (action_id, endpoint_id) DO NOTHING",
            ids, bodies,
        )  # fmt: skip
    rows = [(c, band, at, sid) for c, (band, at, sid) in plan.customers.items()]
    await _insert(
        pg, "alert_customers", "customer_id, band, event_time, score_id",
        ("text", "text", "timestamptz", "text"), rows,
        conflict="ON CONFLICT (customer_id) DO UPDATE SET band = EXCLUDED.band,"
        " event_time = EXCLUDED.event_time, score_id = EXCLUDED.score_id",
    )  # fmt: skip
