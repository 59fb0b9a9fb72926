"""The real broker and database the service benchmarks run against.

Given ones (``CW_BENCH_KAFKA_BOOTSTRAP`` and ``CW_BENCH_DATABASE_URL``), or a Kafka broker and a
PostgreSQL started by the project's launchers under the run's work directory.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from bench.harness import Context


def service_available(module: str, name: str) -> str | None:
    """Why a benchmark of ``module`` can't run here (None: it can)."""
    if importlib.util.find_spec(module) is None:
        return f"{name} is not built yet"
    if os.environ.get("CW_BENCH_KAFKA_BOOTSTRAP") and os.environ.get("CW_BENCH_DATABASE_URL"):
        return None
    if shutil.which("java") is None:
        return "java is missing (the local Kafka broker needs it)"
    return None


def services_available(*services: tuple[str, str]) -> Callable[[], str | None]:
    """The ``available`` check of a benchmark of several services (``(module, name)`` pairs):
    the first reason one of them can't run here."""

    def check() -> str | None:
        for module, name in services:
            if (reason := service_available(module, name)) is not None:
                return reason
        return None

    return check


@contextmanager
def infra(ctx: Context) -> Iterator[tuple[str, str]]:
    """(bootstrap, database URL): given ones, or a broker and PostgreSQL started for the run."""
    given = os.environ.get("CW_BENCH_KAFKA_BOOTSTRAP"), os.environ.get("CW_BENCH_DATABASE_URL")
    if given[0] and given[1]:
        yield given[0], given[1]
        return
    from churnwatch_runtime.db import upgrade
    from churnwatch_runtime.infra import KafkaBroker, LocalPostgres
    from churnwatch_runtime.infra._proc import free_port

    broker = KafkaBroker(
        home=ctx.workdir / "kafka", port=free_port(), controller_port=free_port(), heap="512m"
    )
    pg = LocalPostgres(home=ctx.workdir / "pg", port=free_port())
    broker.start(timeout=120)
    try:
        pg.start()
        try:
            upgrade(pg.url())
            yield broker.bootstrap, pg.url()
        finally:
            pg.stop()
    finally:
        broker.stop()


@contextmanager
def service(
    ctx: Context, args: Sequence[str], env: dict[str, str], log_name: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m <args>`` as a subprocess logging to ``workdir/<log_name>``; SIGTERM on exit
    (SIGKILL after 30 s) so a wedged service never outlives the benchmark."""
    with (ctx.workdir / log_name).open("wb") as log:
        proc = subprocess.Popen(
            [ctx.python, "-m", *args], env=env, stdout=log, stderr=log, cwd=ctx.root
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def wait_ready(url: str, proc: subprocess.Popen[bytes] | None, timeout: float = 90) -> None:
    """Poll ``url`` (a ``/readyz``) until it answers 200; fail at once if ``proc`` exits
    (None: a supervisor restarts the process, so an exit is only a wait)."""
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise TimeoutError(f"{url} not ready in {timeout:.0f} s")


async def ingest_key(db_url: str) -> str:
    """A fresh key with ``events:write`` (ingest requires one on ``POST /v1/events``)."""
    from churnwatch_api.store.keys import create_key
    from churnwatch_runtime.db import make_engine

    engine = make_engine(db_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            _, key = await create_key(conn, name="bench", scopes=["events:write"])
    finally:
        await engine.dispose()
    return key


async def worker_progress(db_url: str, group: str) -> tuple[int, int]:
    """(offsets committed by a worker group, outbox rows left) — a worker is done when both
    say so: everything consumed is committed and everything it wrote was relayed."""
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("+asyncpg", "").replace("+psycopg", ""))
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets"
            " WHERE group_id = $1), (SELECT count(*) FROM outbox)",
            group,
        )
        assert row is not None
        return int(row[0]), int(row[1])
    finally:
        await conn.close()


async def wait_for_worker(
    db_url: str,
    group: str,
    done: Callable[[int, int], bool],
    proc: subprocess.Popen[bytes],
    *,
    name: str,
    timeout: float = 900,
) -> tuple[float, int]:
    """Poll `worker_progress` until ``done(committed, outbox_left)``; (perf_counter, committed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        n, left = await worker_progress(db_url, group)
        if done(n, left):
            return time.perf_counter(), n
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{name} did not finish")
