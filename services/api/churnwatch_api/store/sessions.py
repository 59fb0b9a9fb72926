"""Dashboard sessions: a random cookie value whose SHA-256 digest is the row's id."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.auth import key_digest

_INSERT = text(
    "INSERT INTO api_sessions (id, key_id, expires_at) VALUES (:id, :key_id, now() + :ttl)"
)
_DELETE = text("DELETE FROM api_sessions WHERE id = :id RETURNING key_id")
_PURGE = text("DELETE FROM api_sessions WHERE expires_at < now()")


async def open_session(conn: AsyncConnection, key_id: str, lifetime: timedelta) -> str:
    """A new session for ``key_id``; returns the cookie value (stored only as its digest).

    Expired sessions are purged on the way (logins are rare; no background job needed).
    """
    await conn.execute(_PURGE)
    token = secrets.token_urlsafe(32)
    await conn.execute(_INSERT, {"id": key_digest(token), "key_id": key_id, "ttl": lifetime})
    return token


async def close_session(conn: AsyncConnection, token: str) -> str | None:
    """End the session; returns its key id, or ``None`` if there was no such session."""
    row = (await conn.execute(_DELETE, {"id": key_digest(token)})).first()
    return None if row is None else str(row[0])
