"""``churnwatch keys create / list / revoke``: API keys from a terminal.

Mounted by the ``churnwatch`` command through the ``churnwatch.cli`` entry point. The database is
``DATABASE_URL`` (the shared settings). A created key is printed once; only its SHA-256 digest is
stored, so a lost key cannot be shown again — revoke it and create another.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.auth import SCOPES, UnknownScope
from churnwatch_api.store import audit
from churnwatch_api.store.keys import (
    KeyInfo,
    UnknownAgent,
    create_key,
    list_keys,
    revoke_key,
    revoke_named,
)
from churnwatch_runtime.db import make_engine
from churnwatch_runtime.settings import CommonSettings

__all__ = ["keys_app"]

keys_app = typer.Typer(no_args_is_help=True, help="API keys: create (shown once), list, revoke.")
T = TypeVar("T")
Json = Annotated[bool, typer.Option("--json", help="One JSON document instead of text.")]


def _run(call: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """One call in one transaction on a fresh engine; a refused one exits with 1."""

    async def go() -> T:
        engine = make_engine(CommonSettings().database_url, pool_size=1)
        try:
            async with engine.begin() as conn:
                return await call(conn)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except (UnknownScope, UnknownAgent, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@keys_app.command("create")
def create(
    scopes: Annotated[str, typer.Option(help=f"Comma-separated: {', '.join(sorted(SCOPES))}.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key (audit logs name it).")],
    agent: Annotated[
        str | None, typer.Option(help="Bind the key to a save-team agent (audit names the agent).")
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="First revoke the live keys that have this name.")
    ] = False,
    as_json: Json = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print the key alone (scripts).")] = False,
) -> None:
    """Create a key and print it — the only time it is shown."""

    async def call(conn: AsyncConnection) -> tuple[KeyInfo, str]:
        if replace:
            for old in await revoke_named(conn, name):
                await audit.record(conn, "key.revoke", old)
        info, key = await create_key(conn, name=name, scopes=scopes, agent_id=agent)
        await audit.record(conn, "key.create", info.id)
        return info, key

    info, key = _run(call)
    if quiet:
        typer.echo(key)
        return
    if as_json:
        typer.echo(json.dumps({**info.model_dump(mode="json"), "key": key}))
        return
    typer.echo(f"key {info.id} for {info.name} ({', '.join(info.scopes)})")
    typer.echo(key)
    typer.echo("shown once: store it now (only its hash is kept)", err=True)


@keys_app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    as_json: Json = False,
) -> None:
    """The keys (never their secrets), oldest first."""
    keys = _run(lambda conn: list_keys(conn, include_revoked=all_))
    if as_json:
        typer.echo(json.dumps([k.model_dump(mode="json") for k in keys]))
        return
    for k in keys:
        used = "never used" if k.last_used_at is None else f"used {k.last_used_at:%Y-%m-%d %H:%M}"
        state = "" if k.revoked_at is None else f"  REVOKED {k.revoked_at:%Y-%m-%d %H:%M}"
        agent = f"  agent {k.agent_id}" if k.agent_id else ""
        typer.echo(f"{k.id}  {k.name}  {','.join(k.scopes)}{agent}  {used}{state}")


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (`keys list`).")]) -> None:
    """Revoke a key and end its sessions (running services stop accepting it within seconds)."""

    async def call(conn: AsyncConnection) -> KeyInfo | None:
        info = await revoke_key(conn, key_id)
        if info is not None:
            await audit.record(conn, "key.revoke", key_id)
        return info

    if _run(call) is None:
        typer.echo(f"error: no key {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
