"""The API audit log: who did what to which target, when. No personal data, no keys."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.auth import Principal

_INSERT = text(
    "INSERT INTO api_audit (key_id, actor, action, target)"
    " VALUES (:key_id, :actor, :action, :target)"
)


async def record(
    conn: AsyncConnection,
    action: str,
    target: str | None = None,
    *,
    who: Principal | None = None,
    actor: str = "cli",
) -> None:
    """One audit row in the caller's transaction (so it commits with what it describes).

    ``who`` is the request's principal; without one (the command line) ``actor`` names it.
    ``target`` is an id (customer, task, key), never a name or an email.
    """
    await conn.execute(
        _INSERT,
        {
            "key_id": who.key_id if who else None,
            "actor": who.actor if who else actor,
            "action": action,
            "target": target,
        },
    )
