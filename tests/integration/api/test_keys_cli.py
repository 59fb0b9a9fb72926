"""``churnwatch keys create / list / revoke`` against a real database."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from churnwatch_api.cli import keys_app
from churnwatch_runtime.db import sync_url

pytestmark = pytest.mark.integration


def test_create_list_revoke(fresh_database: str) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": fresh_database}
    made = runner.invoke(
        keys_app, ["create", "--scopes", "read,tasks:write", "--name", "alice"], env=env
    )
    assert made.exit_code == 0, made.output
    key = made.stdout.splitlines()[1]
    assert key.startswith("cwk_")
    key_id = key.split("_")[1]

    listed = runner.invoke(keys_app, ["list", "--json"], env=env)
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["name"], row["scopes"]) == (key_id, "alice", ["read", "tasks:write"])
    assert key not in listed.stdout

    bad = runner.invoke(keys_app, ["create", "--scopes", "read,root", "--name", "x"], env=env)
    assert bad.exit_code == 1
    assert "unknown scope 'root'" in bad.stderr
    no_agent = runner.invoke(
        keys_app, ["create", "--scopes", "read", "--name", "x", "--agent", "A-404"], env=env
    )
    assert no_agent.exit_code == 1
    assert "no agent 'A-404'" in no_agent.stderr

    again = runner.invoke(
        keys_app, ["create", "--scopes", "read", "--name", "alice", "--replace", "--quiet"], env=env
    )
    assert again.exit_code == 0
    assert again.stdout.strip().startswith("cwk_")
    revoked = runner.invoke(keys_app, ["list", "--all", "--json"], env=env)
    states = {(k["name"], k["revoked_at"] is None) for k in json.loads(revoked.stdout)}
    assert states == {("alice", False), ("alice", True)}  # --replace revoked the first one

    assert runner.invoke(keys_app, ["revoke", key_id], env=env).exit_code == 0
    assert runner.invoke(keys_app, ["revoke", "nope"], env=env).exit_code == 1

    engine = create_engine(sync_url(fresh_database))
    with engine.connect() as conn:
        digest = conn.execute(
            text("SELECT digest FROM api_keys WHERE id = :id"), {"id": key_id}
        ).scalar_one()
        actions = conn.execute(text("SELECT actor, action FROM api_audit ORDER BY id")).all()
    engine.dispose()
    assert digest == hashlib.sha256(key.encode()).hexdigest()
    assert [tuple(a) for a in actions] == [
        ("cli", "key.create"), ("cli", "key.revoke"), ("cli", "key.create"), ("cli", "key.revoke")
    ]  # fmt: skip
