"""Playbook changes on the real database: versions immutable, one enabled per id, all or
nothing, and what the alerts workers then load; plus the ``churnwatch playbooks`` CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from churnwatch.alerts import PlaybookError
from churnwatch_alerts import catalog, playbook_cli
from churnwatch_alerts.playbooks import load_playbooks, seed_defaults

pytestmark = pytest.mark.integration


def vip(version: int, holdout: float = 0.1, **extra: object) -> dict[str, object]:
    return {
        "id": "save_call_vip", "version": version, "name": "VIP save call",
        "trigger": {"type": "band_entered", "bands": ["high", "critical"]},
        "condition": {"all": [{"field": "tier", "op": "in", "value": ["gold", "platinum"]}]},
        "action": {"type": "save_call", "team": "save-team"},
        "holdout": holdout, **extra,
    }  # fmt: skip


def doc(*playbooks: dict[str, object]) -> str:
    return yaml.safe_dump({"playbooks": list(playbooks)}, sort_keys=False)


async def seeded(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        assert await seed_defaults(conn) == 6


async def versions(db: AsyncEngine, playbook_id: str) -> dict[int, bool]:
    async with db.connect() as conn:
        rows = await conn.execute(
            text("SELECT version, enabled FROM playbooks WHERE id = :id"), {"id": playbook_id}
        )
        return {v: e for v, e in rows}


async def test_a_new_version_replaces_the_enabled_one_and_the_workers_load_it(
    db: AsyncEngine,
) -> None:
    await seeded(db)
    async with db.begin() as conn:
        applied = await catalog.apply_document(conn, doc(vip(2, holdout=0.3)))
    assert applied == [catalog.Applied("save_call_vip", 2, "added", (1,))]
    assert await versions(db, "save_call_vip") == {1: False, 2: True}
    async with db.connect() as conn:
        loaded = await load_playbooks(conn)
    assert loaded["save_call_vip"].version == 2
    assert loaded["save_call_vip"].holdout == 0.3
    assert len(loaded) == 6
    async with db.begin() as conn:  # the same document again changes nothing
        again = await catalog.apply_document(conn, doc(vip(2, holdout=0.3)))
    assert again == [catalog.Applied("save_call_vip", 2, "unchanged", ())]


async def test_changing_a_stored_version_is_refused_with_the_next_number(db: AsyncEngine) -> None:
    await seeded(db)
    async with db.begin() as conn:
        await catalog.apply_document(conn, doc(vip(2)))
    with pytest.raises(catalog.VersionConflict, match="use version 3"):
        async with db.begin() as conn:
            await catalog.apply_document(conn, doc(vip(2, holdout=0.25)))
    assert await versions(db, "save_call_vip") == {1: False, 2: True}


async def test_a_bad_document_changes_nothing(db: AsyncEngine) -> None:
    await seeded(db)
    good, bad = vip(2), {**vip(1), "id": "other", "cooldown": "soon"}
    with pytest.raises(PlaybookError, match=r"playbooks\[1\]\.cooldown"):
        async with db.begin() as conn:
            await catalog.apply_document(conn, doc(good, bad))
    assert await versions(db, "save_call_vip") == {1: True}
    assert await versions(db, "other") == {}


async def test_disable_then_enable_an_older_version(db: AsyncEngine) -> None:
    await seeded(db)
    async with db.begin() as conn:
        await catalog.apply_document(conn, doc(vip(2, holdout=0.3)))
        assert await catalog.set_enabled(conn, "save_call_vip", False) is None
    async with db.connect() as conn:
        assert "save_call_vip" not in await load_playbooks(conn)
    async with db.begin() as conn:
        assert await catalog.set_enabled(conn, "save_call_vip", True, version=1) == 1
    async with db.connect() as conn:
        loaded = await load_playbooks(conn)
        rows = await catalog.list_playbooks(conn, all_versions=True)
    assert loaded["save_call_vip"].version == 1
    assert loaded["save_call_vip"].enabled  # the stored text agrees with the flag
    assert [(r.version, r.enabled) for r in rows if r.id == "save_call_vip"] == [
        (1, True),
        (2, False),
    ]
    with pytest.raises(catalog.UnknownPlaybook, match="nope"):
        async with db.begin() as conn:
            await catalog.set_enabled(conn, "nope", True)


async def test_export_round_trips_through_apply(db: AsyncEngine) -> None:
    await seeded(db)
    async with db.connect() as conn:
        exported = await catalog.export_document(conn)
    async with db.begin() as conn:
        applied = await catalog.apply_document(conn, exported)
    assert {a.status for a in applied} == {"unchanged"}
    assert len(applied) == 6


def test_cli_validate_apply_list_and_uplift(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables to the terminal width
    runner = CliRunner()
    bad = tmp_path / "bad.yaml"
    bad.write_text(doc({**vip(2), "condition": {"all": [{"field": "tierr", "op": "eq"}]}}))
    result = runner.invoke(playbook_cli.app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "unknown field 'tierr'" in result.output
    good = tmp_path / "good.yaml"
    good.write_text(doc(vip(2, holdout=0.2)))
    assert runner.invoke(playbook_cli.app, ["validate", str(good)]).exit_code == 0
    result = runner.invoke(playbook_cli.app, ["apply", str(good)])
    assert result.exit_code == 0, result.output
    assert "save_call_vip v2: added" in result.output
    listing = runner.invoke(playbook_cli.app, ["list"])
    assert listing.exit_code == 0
    assert "save_call_vip" in listing.output
    assert "20%" in listing.output
    shown = runner.invoke(playbook_cli.app, ["show", "save_call_vip"])
    assert yaml.safe_load(shown.output)["playbooks"][0]["version"] == 2
    result = runner.invoke(playbook_cli.app, ["apply", str(good.with_name("missing.yaml"))])
    assert result.exit_code != 0
    empty = runner.invoke(playbook_cli.uplift_app, [])
    assert empty.exit_code == 0
    assert "no uplift report yet" in empty.output
