"""The one read of stored playbooks the catalog has no function for: a given version's YAML."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["playbook_yaml"]


async def playbook_yaml(conn: AsyncConnection, playbook_id: str, version: int) -> str | None:
    """The stored YAML of one playbook version (None: not stored)."""
    value = await conn.scalar(
        text("SELECT yaml FROM playbooks WHERE id = :id AND version = :v"),
        {"id": playbook_id, "v": version},
    )
    return None if value is None else str(value)
