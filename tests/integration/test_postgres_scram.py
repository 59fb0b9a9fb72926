"""The local PostgreSQL (demo, `churnwatch infra up`) needs its password on every connection."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from churnwatch_runtime.db import asyncpg_dsn
from churnwatch_runtime.infra import LocalPostgres
from churnwatch_runtime.infra._proc import free_port
from churnwatch_runtime.infra.postgres import with_local_password

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    pg = LocalPostgres(home=tmp_path_factory.mktemp("scram") / "postgres", port=free_port())
    pg.start()
    yield pg
    pg.stop()


def test_the_secret_is_a_0600_file_and_no_line_trusts(server: LocalPostgres) -> None:
    mode = stat.S_IMODE(server.password_file.stat().st_mode)
    assert mode == 0o600
    assert len(server.password()) >= 40  # 32 random bytes, URL-safe base64
    rules = [
        line.split()
        for line in (server.data_dir / "pg_hba.conf").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert {r[0] for r in rules} >= {"local", "host"}
    assert {r[-1] for r in rules} == {"scram-sha-256"}
    assert not (server.home / ".initdb-password").exists()


async def test_without_the_password_the_server_refuses(server: LocalPostgres) -> None:
    bare = f"postgresql://postgres@127.0.0.1:{server.port}/{server.database}"
    with pytest.raises(
        (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)
    ):
        await asyncpg.connect(bare, password="")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(bare, password="guess")
    with pytest.raises(
        (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)
    ):
        await asyncpg.connect(  # the Unix socket too: no local OS user gets in for free
            host=str(server.home),
            port=server.port,
            user="postgres",
            database="postgres",
            password="",
        )
    conn = await asyncpg.connect(asyncpg_dsn(server.url()))
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


def test_a_password_less_url_of_the_running_cluster_gets_the_password(
    server: LocalPostgres, tmp_path: Path
) -> None:
    bare = f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}/churnwatch"
    assert with_local_password(bare, server.home) == server.url()
    other_port = f"postgresql+asyncpg://postgres@127.0.0.1:{server.port + 1}/churnwatch"
    assert with_local_password(other_port, server.home) == other_port
    remote = f"postgresql+asyncpg://postgres@db.example:{server.port}/churnwatch"
    assert with_local_password(remote, server.home) == remote
    assert with_local_password(bare, tmp_path) == bare  # no cluster there
