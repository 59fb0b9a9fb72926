"""API keys in PostgreSQL: create (the plaintext is returned once), list, revoke.

Verification is in :mod:`churnwatch_runtime.auth` (ingest needs it too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.auth import generate_key, key_digest, parse_key, parse_scopes

_COLUMNS = "id, name, scopes, agent_id, created_at, revoked_at, last_used_at"
_INSERT = text(
    "INSERT INTO api_keys (id, digest, name, scopes, agent_id)"
    f" VALUES (:id, :digest, :name, :scopes, :agent_id) RETURNING {_COLUMNS}"
)
_AGENT = text("SELECT 1 FROM agents WHERE agent_id = :agent_id")
_LIST = text(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, id")
_LIST_LIVE = text(
    f"SELECT {_COLUMNS} FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id"
)
_REVOKE = text(
    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = :id"
    f" RETURNING {_COLUMNS}"
)
_END_SESSIONS = text("DELETE FROM api_sessions WHERE key_id = :id")
_NAMED = text("SELECT id FROM api_keys WHERE name = :name AND revoked_at IS NULL")


class UnknownAgent(ValueError):
    """A key was to be bound to an agent that does not exist (``churnwatch agents add``)."""


class KeyInfo(BaseModel):
    """A key as listed: everything but its secret (which is never stored)."""

    id: str
    name: str
    scopes: list[str]
    agent_id: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


async def create_key(
    conn: AsyncConnection, *, name: str, scopes: str | list[str], agent_id: str | None = None
) -> tuple[KeyInfo, str]:
    """A new key; returns its row and the plaintext, which exists only in this answer."""
    wanted = sorted(parse_scopes(scopes))
    if not name.strip():
        raise ValueError("a key needs a name (who or what uses it)")
    known = agent_id is None or (await conn.execute(_AGENT, {"agent_id": agent_id})).first()
    if not known:
        raise UnknownAgent(f"no agent {agent_id!r}; add it with `churnwatch agents add`")
    key = generate_key()
    row = await conn.execute(
        _INSERT,
        {
            "id": parse_key(key).key_id,
            "digest": key_digest(key),
            "name": name.strip(),
            "scopes": wanted,
            "agent_id": agent_id,
        },
    )
    return _info(row.mappings().one()), key


async def list_keys(conn: AsyncConnection, *, include_revoked: bool = False) -> list[KeyInfo]:
    rows = await conn.execute(_LIST if include_revoked else _LIST_LIVE)
    return [_info(r) for r in rows.mappings()]


async def revoke_key(conn: AsyncConnection, key_id: str) -> KeyInfo | None:
    """Revoke (idempotent: the first revocation time stays) and end the key's sessions."""
    row = (await conn.execute(_REVOKE, {"id": key_id})).mappings().first()
    if row is None:
        return None
    await conn.execute(_END_SESSIONS, {"id": key_id})
    return _info(row)


def _info(row: Any) -> KeyInfo:
    return KeyInfo.model_validate({**row, "scopes": list(row["scopes"])})


async def revoke_named(conn: AsyncConnection, name: str) -> list[str]:
    """Revoke every live key called ``name`` (``keys create --replace``); returns their ids."""
    ids = [str(r[0]) for r in await conn.execute(_NAMED, {"name": name.strip()})]
    for key_id in ids:
        await revoke_key(conn, key_id)
    return ids
