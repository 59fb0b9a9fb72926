"""Playbook changes people make: apply a YAML document, enable or disable, list, export.

**Versions are immutable.** The version is part of every action id (docs/playbooks.md), and the
uplift of a playbook is reported per id over exposures of all its versions, so a change means a
new version: re-applying an identical version is a no-op, different content under an existing
version is refused with the next free number. Applying an enabled version disables the id's
other versions (one enabled per id, which the parser also checks). The whole resulting enabled
set is parsed again inside the transaction, so a change that would leave it invalid changes
nothing. The alerts workers reload the enabled set every ``playbook_poll_s`` (10 s).

For the CLI and the HTTP API: functions take an open `AsyncConnection` inside the caller's
transaction; the SQL is in `churnwatch_alerts.store.playbooks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import yaml
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.alerts import Playbook, parse_playbooks
from churnwatch.errors import ChurnError
from churnwatch_alerts.playbooks import load_playbooks, parse_playbooks_from_yaml
from churnwatch_alerts.store import playbooks as store

__all__ = [
    "Applied",
    "PlaybookRow",
    "UnknownPlaybook",
    "VersionConflict",
    "apply_document",
    "check_document",
    "export_document",
    "list_playbooks",
    "set_enabled",
]


class UnknownPlaybook(ChurnError):
    """No playbook (or version) with that id is stored."""


class VersionConflict(ChurnError):
    """The document changes a stored version; versions are immutable."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one playbook of a document did."""

    id: str
    version: int
    status: Literal["added", "unchanged", "enabled"]
    disabled: tuple[int, ...] = ()
    """Other versions of the id this disabled."""


@dataclass(frozen=True, slots=True)
class PlaybookRow:
    """One stored playbook version, as listed to people."""

    id: str
    version: int
    enabled: bool
    name: str
    trigger: str
    action: str
    holdout: float
    loaded_at: datetime


def _entries(document: str) -> list[dict[str, Any]]:
    """The raw mappings of a document already accepted by `parse_playbooks`."""
    data = yaml.safe_load(document)
    entries: list[dict[str, Any]] = data["playbooks"] if isinstance(data, dict) else data
    return entries


def _dump(entry: dict[str, Any]) -> str:
    return yaml.safe_dump(entry, sort_keys=False, allow_unicode=True)


async def apply_document(conn: AsyncConnection, document: str) -> list[Applied]:
    """Store every playbook of ``document`` (``{playbooks: [...]}`` or a list), per the module
    rules; raises `PlaybookError` (with paths), `VersionConflict`, or nothing and changes all."""
    playbooks = parse_playbooks(document)
    await store.lock_playbooks(conn)
    out: list[Applied] = []
    for pb, entry in zip(playbooks, _entries(document), strict=True):
        row = await store.fetch_version(conn, pb.id, pb.version)
        status: Literal["added", "unchanged", "enabled"] = "added"
        if row is not None:
            (stored,) = parse_playbooks_from_yaml([row[0]])
            if stored != pb:
                latest = await store.max_version(conn, pb.id)
                raise VersionConflict(
                    f"{pb.id} v{pb.version} is stored with different content; versions are"
                    f" immutable (they are part of every action id): use version {latest + 1}"
                )
            status = "enabled" if pb.enabled and not row[1] else "unchanged"
            await store.set_flag(conn, pb.id, pb.version, pb.enabled)
        else:
            await store.insert_playbooks(conn, [(pb.id, pb.version, _dump(entry), pb.enabled)])
        disabled: tuple[int, ...] = ()
        if pb.enabled:
            disabled = await store.disable_others(conn, pb.id, pb.version)
        out.append(Applied(pb.id, pb.version, status, disabled))
    await load_playbooks(conn)  # the enabled set as the workers will read it: still valid?
    return out


async def set_enabled(
    conn: AsyncConnection, playbook_id: str, enabled: bool, version: int | None = None
) -> int | None:
    """Disable every version of an id, or enable one (the newest unless ``version``) and
    disable the others; returns the version enabled (None when disabling)."""
    versions = await store.versions(conn, playbook_id)
    if not versions or (version is not None and version not in versions):
        which = playbook_id if version is None else f"{playbook_id} v{version}"
        raise UnknownPlaybook(f"no stored playbook {which}")
    target = (version or versions[-1]) if enabled else None
    for v, stored in await store.version_texts(conn, playbook_id):
        entry = yaml.safe_load(stored)
        entry["enabled"] = v == target  # the text and the flag never disagree
        await store.update_version(
            conn, playbook_id, v, enabled=v == target, yaml_text=_dump(entry)
        )
    await load_playbooks(conn)
    return target


async def list_playbooks(conn: AsyncConnection, *, all_versions: bool = False) -> list[PlaybookRow]:
    """Stored playbooks, enabled ones (or every version) by id then version."""
    out: list[PlaybookRow] = []
    for stored, enabled, loaded_at in await store.stored_rows(conn, all_versions=all_versions):
        (pb,) = parse_playbooks_from_yaml([stored])
        out.append(_row(pb, enabled, loaded_at))
    return out


def _row(pb: Playbook, enabled: bool, loaded_at: datetime) -> PlaybookRow:
    return PlaybookRow(
        pb.id, pb.version, enabled, pb.name, pb.trigger.type, pb.action.type, pb.holdout,
        loaded_at,
    )  # fmt: skip


async def export_document(conn: AsyncConnection, playbook_id: str | None = None) -> str:
    """The enabled playbooks (or one id's enabled version) as one YAML document, ready to
    edit, bump and apply again."""
    entries = [yaml.safe_load(t) for t in await store.export_texts(conn, playbook_id)]
    if playbook_id is not None and not entries:
        raise UnknownPlaybook(f"no enabled playbook {playbook_id}")
    return yaml.safe_dump({"playbooks": entries}, sort_keys=False, allow_unicode=True)


def check_document(document: str) -> tuple[Playbook, ...]:
    """Parse without storing (`PlaybookError` with paths): what ``validate`` runs."""
    return parse_playbooks(document)
