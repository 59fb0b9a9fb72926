"""The task queue as the API pages it: per team, per agent, by state, overdue or not.

No SQL here: the queue's order and statement are the alerts service's
(`churnwatch_alerts.worktasks.queue`, the same function behind ``churnwatch tasks`` and
``churnwatch task list``), keyset-paged on its order's columns so a team's queue of thousands
pages without OFFSET. *Overdue* means waiting for the first contact (open or assigned) past the
SLA due time, by the wall clock (the clock of people's work, as in worktasks). A key with
``pii:read`` also gets the page's contact details, audited in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.auth import Principal
from churnwatch_alerts import worktasks as wt

__all__ = ["Cursor", "fetch_page"]

Cursor = tuple[float, datetime, datetime, str]
"""Where a page ends: the queue order's columns of its last task (`worktasks.cursor_of`)."""


async def fetch_page(
    engine: AsyncEngine, f: wt.QueueFilter, *, who: Principal, now: datetime,
    after: Cursor | None = None, limit: int = 50,
) -> wt.QueuePage:  # fmt: skip
    """One page of the queue after ``after`` for ``who``: with ``pii:read`` its customers'
    contact details too (audited: one ``pii.queue`` row per customer returned)."""
    reader = wt.ContactReader(who.actor, who.key_id) if who.allows("pii:read") else None
    return await wt.queue(engine, f, now=now, after=after, limit=limit, contacts_for=reader)
