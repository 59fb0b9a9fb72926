"""The save team's queue: its one order and its one query, for the CLI, the API and the dashboard.

**Order** (`QUEUE_ORDER`): priority descending (the playbook's priority fact, value at risk by
default), then the SLA due time ascending — among equal priorities the most overdue task first,
then the one closest to its due time — then the creation time (the oldest first), then the task
id (a unique last key, so keyset pages never skip or repeat a task). `queue_key` is the same
order in Python (the backlog assignment sorts with it). Partial indexes on the unfinished
tasks, ``(priority DESC, sla_due_at, created_at, task_id)`` with and without ``team`` in front
(migration 0039), serve a page as an index range scan at any queue length.

The states are written into the statement as literals (checked against `TaskState`), never
as a parameter: a prepared statement's generic plan can match ``state IN ('open', …)`` to the
partial indexes' predicate, while ``state = ANY($1)`` would make the planner sort every row.

**Contact details** (`queue_contacts`): name, e-mail and phone of a page's customers from the
customer directory, for the callers allowed to see them (``pii:read`` over the API; the operator
with ``--contact`` on the command line). Each read writes one ``api_audit`` row per customer
whose details were returned (action ``pii.queue``, target the customer id) in the caller's
transaction. An erased customer has no directory row: nothing is returned, nothing audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from churnwatch.alerts import TaskState
from churnwatch_alerts.store.tasks import TASK_COLUMNS, task_view
from churnwatch_alerts.taskrules import UNFINISHED, TaskView
from churnwatch_runtime.db import Pg

__all__ = [
    "QUEUE_ORDER",
    "Contact",
    "ContactReader",
    "QueueFilter",
    "cursor_of",
    "fetch_queue",
    "queue_contacts",
    "queue_key",
    "queue_sql",
]

QUEUE_ORDER = "priority DESC, sla_due_at, created_at, task_id"
"""The queue's ORDER BY: every listing of the queue uses this text."""

QueueKey = tuple[float, datetime, datetime, str]


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which tasks: ``states`` empty means every unfinished one (open, assigned, in progress);
    ``overdue`` True/False keeps only the tasks that are / are not waiting for the first
    contact past their SLA due time (None: both)."""

    team: str | None = None
    assignee: str | None = None
    states: tuple[str, ...] = ()
    overdue: bool | None = None
    customer: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A customer's contact details (personal data; each field None when never given)."""

    name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class ContactReader:
    """Who reads contact details, as the audit names them: an API key (``key_id``, its actor)
    or the operator at the command line (``key_id`` None)."""

    actor: str
    key_id: str | None = None


def queue_key(view: TaskView) -> QueueKey:
    """`QUEUE_ORDER` in Python: sort ascending by this key.

    >>> from datetime import UTC, timedelta
    >>> at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    >>> def task(i, prio, due_h, created_h):
    ...     return TaskView(i, "C", "pb", 1, "save_call", TaskState.OPEN, prio, prio, 0.5,
    ...                     "gold", "save", None, at + timedelta(hours=due_h),
    ...                     at + timedelta(hours=created_h), None, None, None, [], [])
    >>> views = [task("T-4", 5.0, 8, 0), task("T-3", 5.0, -20, -2), task("T-2", 9.0, 30, 0),
    ...          task("T-1", 5.0, -20, -3), task("T-0", 5.0, -20, -3)]
    >>> [v.task_id for v in sorted(views, key=queue_key)]
    ['T-2', 'T-0', 'T-1', 'T-3', 'T-4']
    """
    return (-view.priority, view.sla_due_at, view.created_at, view.task_id)


def cursor_of(view: TaskView) -> QueueKey:
    """The keyset position after ``view`` (what `queue_sql`'s ``after`` takes)."""
    return (view.priority, view.sla_due_at, view.created_at, view.task_id)


def _states(states: Sequence[str]) -> str:
    """``state IN (…)`` with the states as literals, each checked to be a `TaskState`.

    >>> _states([])
    "state IN ('open', 'assigned', 'in_progress')"
    >>> _states(["won", "won"])
    "state IN ('won')"
    >>> _states(["x'); DROP TABLE tasks; --"])
    Traceback (most recent call last):
    ValueError: "x'); DROP TABLE tasks; --" is not a valid TaskState
    """
    values = [TaskState(s).value for s in states] or [s.value for s in UNFINISHED]
    return "state IN (" + ", ".join(f"'{v}'" for v in dict.fromkeys(values)) + ")"


def queue_sql(
    f: QueueFilter, now: datetime, after: QueueKey | None, limit: int
) -> tuple[str, list[Any]]:
    """The statement and parameters of one page in `QUEUE_ORDER`, after ``after``
    (`cursor_of` the previous page's last task; None: the first page).

    >>> from datetime import UTC
    >>> at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    >>> sql, params = queue_sql(QueueFilter(team="save", overdue=True), at,
    ...                         (2.5, at, at, "T-9"), 51)
    >>> print(sql[sql.index("WHERE"):].replace(" AND ", "\\n AND ").replace(" ORDER", "\\n ORDER"))
    WHERE state IN ('open', 'assigned', 'in_progress')
     AND team = $1
     AND (state IN ('open', 'assigned')
     AND first_contact_at IS NULL
     AND sla_due_at < $2)
     AND priority <= $3
     AND (priority < $3 OR (sla_due_at, created_at, task_id) > ($4, $5, $6))
     ORDER BY priority DESC, sla_due_at, created_at, task_id LIMIT 51
    >>> params == ["save", at, 2.5, at, at, "T-9"]
    True
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    params: list[Any] = []

    def p(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    where = [_states(f.states)]
    for column, value in (("team", f.team), ("assignee", f.assignee),
                          ("customer_id", f.customer)):  # fmt: skip
        if value is not None:
            where.append(f"{column} = {p(value)}")
    if f.overdue is not None:
        due = (
            "(state IN ('open', 'assigned') AND first_contact_at IS NULL"
            f" AND sla_due_at < {p(now)})"
        )
        where.append(due if f.overdue else f"NOT {due}")
    if after is not None:
        prio = p(after[0])
        rest = ", ".join(p(v) for v in after[1:])
        # the first condition bounds the index scan; the second skips the rows of equal
        # priority up to the cursor (mixed directions: no single row comparison says it)
        where.append(f"priority <= {prio}")
        where.append(f"(priority < {prio} OR (sla_due_at, created_at, task_id) > ({rest}))")
    sql = (
        f"SELECT {TASK_COLUMNS} FROM tasks WHERE {' AND '.join(where)}"
        f" ORDER BY {QUEUE_ORDER} LIMIT {int(limit)}"
    )
    return sql, params


async def fetch_queue(
    pg: Pg, f: QueueFilter, *, now: datetime, after: QueueKey | None = None, limit: int = 50
) -> list[TaskView]:
    """Up to ``limit`` tasks of the queue in `QUEUE_ORDER` after ``after``."""
    sql, params = queue_sql(f, now, after, limit)
    return [task_view(r) for r in await pg.fetch(sql, *params)]


_CONTACTS = (
    "SELECT customer_id, name, email, phone FROM customer_directory"
    " WHERE customer_id = ANY($1::text[])"
)
_AUDIT = (
    "INSERT INTO api_audit (key_id, actor, action, target)"
    " SELECT $1, $2, 'pii.queue', t FROM unnest($3::text[]) AS t"
)


async def queue_contacts(
    pg: Pg, customer_ids: Sequence[str], *, reader: ContactReader
) -> dict[str, Contact]:
    """Contact details of ``customer_ids`` found in the directory, by customer id, with one
    audit row per customer returned, in the caller's transaction (run it in one)."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return {}
    rows = await pg.fetch(_CONTACTS, wanted)
    found = {r["customer_id"]: Contact(r["name"], r["email"], r["phone"]) for r in rows}
    if found:
        await pg.execute(_AUDIT, reader.key_id, reader.actor, sorted(found))
    return found
