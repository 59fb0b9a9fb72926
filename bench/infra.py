"""The real broker and database the service benchmarks run against.

Given ones (``CW_BENCH_KAFKA_BOOTSTRAP`` and ``CW_BENCH_DATABASE_URL``), or a Kafka broker and a
PostgreSQL started by the project's launchers under the run's work directory.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
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
