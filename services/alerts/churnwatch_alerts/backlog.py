"""Give unassigned open tasks to agents: the backlog left when a team had nobody with room.

The alerts batch assigns a task when it creates it; a task created while its team had no
active agent with room stays ``open`` with no assignee, and nothing looked at it again — so tasks
created before an agent was added stayed unassigned. `assign_backlog` runs the batch's own
assignment policy (`Roster.pick`: the playbook's ``action.params.assign``, else the service
default) over those tasks, highest priority first; it runs when an agent is added or
reactivated, and on demand (``POST /v1/tasks/assign-unassigned``).

Lock order is the one of `churnwatch_alerts.worktasks` and the batch: the tasks first (by id),
then the teams' cursor rows (`load_roster`), so it never deadlocks with either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import TaskState
from churnwatch_alerts.assign import assign_policy
from churnwatch_alerts.playbooks import load_playbooks
from churnwatch_alerts.store import load_roster, save_cursors
from churnwatch_alerts.store.tasks import unassigned_open
from churnwatch_alerts.worktasks import apply_transition, queue_key, wall_clock
from churnwatch_runtime.db import raw_connection

__all__ = ["Backlog", "assign_backlog"]


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a run did: ``assigned`` (task id, agent id) pairs, and tasks left open (no agent
    of their team active with room, or a playbook whose policy is ``none``)."""

    assigned: tuple[tuple[str, str], ...]
    left: int


async def assign_backlog(
    engine: AsyncEngine, *, actor: str, team: str | None = None,
    default_policy: str = "round_robin", now: datetime | None = None, limit: int = 1_000,
) -> Backlog:  # fmt: skip
    """Assign up to ``limit`` unassigned open tasks (of ``team``, or all teams) in queue order
    (`worktasks.QUEUE_ORDER`); one transaction, one audit row per task naming ``actor``."""
    at = wall_clock(now)
    async with engine.begin() as conn:
        playbooks = await load_playbooks(conn)
        pg = await raw_connection(conn)
        views = sorted(await unassigned_open(pg, team), key=queue_key)[:limit]
        roster = await load_roster(pg, sorted({v.team for v in views}))
        if roster is None:
            return Backlog((), len(views))
        done: list[tuple[str, str]] = []
        for view in views:
            pb = playbooks.get(view.playbook_id)
            policy = assign_policy(pb, default_policy) if pb is not None else default_policy
            agent = roster.pick(view.team, view.tier, policy)
            if agent is None:
                continue
            await apply_transition(
                pg, view, TaskState.ASSIGNED, at=max(at, view.created_at), actor=actor,
                assignee=agent,
            )  # fmt: skip
            done.append((view.task_id, agent))
        await save_cursors(pg, roster)
    return Backlog(tuple(done), len(views) - len(done))
