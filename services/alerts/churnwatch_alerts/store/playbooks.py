"""The SQL of the ``playbooks`` table: one row per playbook version, its YAML text and flag.

Used by `churnwatch_alerts.playbooks` (seed, load) and `churnwatch_alerts.catalog` (the changes
people make); each function runs on the caller's `AsyncConnection`, inside its transaction. The
parsing and the rules stay with the callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_INSERT = text(
    "INSERT INTO playbooks (id, version, yaml, enabled, loaded_at)"
    " VALUES (:id, :version, :yaml, :enabled, now())"
)


async def lock_playbooks(conn: AsyncConnection) -> None:
    """Serialise writers of the table until the transaction ends (readers go on)."""
    await conn.execute(text("LOCK TABLE playbooks IN SHARE ROW EXCLUSIVE MODE"))


async def count_playbooks(conn: AsyncConnection) -> int:
    """How many versions are stored."""
    return int(await conn.scalar(text("SELECT count(*) FROM playbooks")) or 0)


async def insert_playbooks(
    conn: AsyncConnection, rows: Sequence[tuple[str, int, str, bool]]
) -> None:
    """New versions ``(id, version, yaml, enabled)``, loaded now."""
    await conn.execute(
        _INSERT, [{"id": i, "version": v, "yaml": y, "enabled": e} for i, v, y, e in rows]
    )


async def fetch_version(
    conn: AsyncConnection, playbook_id: str, version: int
) -> tuple[str, bool] | None:
    """``(yaml, enabled)`` of one stored version, None when there is none."""
    row = (
        await conn.execute(
            text("SELECT yaml, enabled FROM playbooks WHERE id = :id AND version = :v"),
            {"id": playbook_id, "v": version},
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def max_version(conn: AsyncConnection, playbook_id: str) -> int:
    """The id's highest stored version (asked when one is stored)."""
    latest = await conn.scalar(
        text("SELECT max(version) FROM playbooks WHERE id = :id"), {"id": playbook_id}
    )
    return int(latest)


async def set_flag(conn: AsyncConnection, playbook_id: str, version: int, enabled: bool) -> None:
    """Set one version's ``enabled`` column (the YAML text is left as stored)."""
    await conn.execute(
        text("UPDATE playbooks SET enabled = :e WHERE id = :id AND version = :v"),
        {"e": enabled, "id": playbook_id, "v": version},
    )


async def disable_others(conn: AsyncConnection, playbook_id: str, version: int) -> tuple[int, ...]:
    """Disable the id's enabled versions other than ``version``; the versions disabled."""
    result = await conn.execute(
        text(
            "UPDATE playbooks SET enabled = false"
            " WHERE id = :id AND version <> :v AND enabled RETURNING version"
        ),
        {"id": playbook_id, "v": version},
    )
    return tuple(sorted(r[0] for r in result))


async def versions(conn: AsyncConnection, playbook_id: str) -> list[int]:
    """The id's stored versions, ascending."""
    result = await conn.execute(
        text("SELECT version FROM playbooks WHERE id = :id ORDER BY version"),
        {"id": playbook_id},
    )
    return [r[0] for r in result]


async def version_texts(conn: AsyncConnection, playbook_id: str) -> list[tuple[int, str]]:
    """``(version, yaml)`` of each stored version of the id."""
    rows = await conn.execute(
        text("SELECT version, yaml FROM playbooks WHERE id = :id"), {"id": playbook_id}
    )
    return [(v, y) for v, y in rows.all()]


async def update_version(
    conn: AsyncConnection, playbook_id: str, version: int, *, enabled: bool, yaml_text: str
) -> None:
    """Set one version's flag and text together (they never disagree)."""
    await conn.execute(
        text("UPDATE playbooks SET enabled = :e, yaml = :y WHERE id = :id AND version = :v"),
        {"e": enabled, "y": yaml_text, "id": playbook_id, "v": version},
    )


async def stored_rows(
    conn: AsyncConnection, *, all_versions: bool
) -> list[tuple[str, bool, datetime]]:
    """``(yaml, enabled, loaded_at)`` of the enabled versions (or all), by id then version."""
    where = "" if all_versions else " WHERE enabled"
    rows = await conn.execute(
        text(f"SELECT yaml, enabled, loaded_at FROM playbooks{where} ORDER BY id, version")
    )
    return [(y, bool(e), at) for y, e, at in rows]


async def enabled_texts(conn: AsyncConnection) -> list[str]:
    """The YAML of every enabled version, by id then version (what the workers load)."""
    result = await conn.execute(
        text("SELECT yaml FROM playbooks WHERE enabled ORDER BY id, version")
    )
    return [r[0] for r in result]


async def export_texts(conn: AsyncConnection, playbook_id: str | None) -> list[str]:
    """The YAML of the enabled versions (or the one of ``playbook_id``), by id."""
    sql = "SELECT yaml FROM playbooks WHERE enabled"
    params: dict[str, Any] = {}
    if playbook_id is not None:
        sql += " AND id = :id"
        params["id"] = playbook_id
    return [r[0] for r in await conn.execute(text(sql + " ORDER BY id"), params)]
