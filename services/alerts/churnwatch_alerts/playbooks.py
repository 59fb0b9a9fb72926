"""Playbooks in PostgreSQL: seeded from the shipped defaults, read back through the parser.

A row holds one playbook as YAML (the form people edit); `load_playbooks` parses all enabled
rows as one document, so the checks across playbooks (two enabled with one id) still apply.
The SQL is in `churnwatch_alerts.store.playbooks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.alerts import Playbook, parse_playbooks
from churnwatch_alerts.store import playbooks as store


def default_rows() -> list[tuple[str, int, str, bool]]:
    """``(id, version, yaml, enabled)`` of each shipped default playbook, as written in
    ``churnwatch/alerts/defaults/playbooks.yaml`` (validated by parsing it back).

    >>> [(i, v, e) for i, v, _, e in default_rows()][:2]
    [('save_call_vip', 1, True), ('offer_at_risk', 1, True)]
    """
    source = resources.files("churnwatch.alerts").joinpath("defaults/playbooks.yaml")
    entries: list[dict[str, Any]] = yaml.safe_load(source.read_text())["playbooks"]
    rows = [
        (
            str(e["id"]),
            int(e["version"]),
            yaml.safe_dump(e, sort_keys=False),
            e.get("enabled", True),
        )
        for e in entries
    ]
    parse_playbooks_from_yaml([r[2] for r in rows])
    return rows


def parse_playbooks_from_yaml(texts: Sequence[str]) -> tuple[Playbook, ...]:
    """Parse one-playbook YAML texts as a single document (`PlaybookError` on any problem)."""
    docs = [yaml.safe_load(t) for t in texts]
    return parse_playbooks(yaml.safe_dump({"playbooks": docs}, sort_keys=False))


async def seed_defaults(conn: AsyncConnection) -> int:
    """Insert the default playbooks if the table is empty; the number inserted."""
    await store.lock_playbooks(conn)
    if await store.count_playbooks(conn):
        return 0
    rows = default_rows()
    await store.insert_playbooks(conn, rows)
    return len(rows)


async def load_playbooks(conn: AsyncConnection) -> dict[str, Playbook]:
    """The enabled playbooks by id."""
    return {pb.id: pb for pb in parse_playbooks_from_yaml(await store.enabled_texts(conn))}
