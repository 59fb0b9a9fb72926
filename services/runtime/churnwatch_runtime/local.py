"""Local infrastructure for the demo and for users without Docker.

The broker and database are started from the project's own launchers under ``var/`` unless the
user points ``CW_KAFKA_BOOTSTRAP`` / ``DATABASE_URL`` elsewhere: then nothing is started and
the configured servers are used as they are. ``CW_INFRA=local`` forces the local launchers (on
the configured ports), ``CW_INFRA=external`` forbids them.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from sqlalchemy.engine import make_url

from churnwatch_runtime.db import upgrade
from churnwatch_runtime.infra import KafkaBroker, LocalPostgres
from churnwatch_runtime.infra.postgres import with_local_password
from churnwatch_runtime.kafka import ensure_topics
from churnwatch_runtime.paths import cw_home
from churnwatch_runtime.settings import CommonSettings


def _managed(*env_names: str) -> bool:
    mode = os.environ.get("CW_INFRA", "auto")
    if mode not in ("auto", "local", "external"):
        raise ValueError(f"CW_INFRA must be auto, local or external, not {mode!r}")
    if mode == "auto":
        return not any(os.environ.get(name) for name in env_names)
    return mode == "local"


def local_broker(settings: CommonSettings) -> KafkaBroker | None:
    """The broker we manage, or None when CW_KAFKA_BOOTSTRAP names an external one."""
    if not _managed("CW_KAFKA_BOOTSTRAP"):
        return None
    host, _, port = settings.kafka_bootstrap.partition(":")
    return KafkaBroker(
        home=cw_home() / "kafka",
        host=host,
        port=int(port or 9092),
        controller_port=int(port or 9092) + 1,
    )


def local_postgres(settings: CommonSettings) -> LocalPostgres | None:
    """The database we manage, or None when DATABASE_URL names an external one."""
    if not _managed("DATABASE_URL", "CW_DATABASE_URL"):
        return None
    url = make_url(settings.database_url)
    return LocalPostgres(
        home=cw_home() / "postgres", port=url.port or 5432, database=url.database or "churnwatch"
    )


async def create_topics(settings: CommonSettings, *, partitions: int | None = None) -> list[str]:
    return await ensure_topics(
        settings.kafka_bootstrap,
        settings.topics.all(),
        partitions=partitions or settings.topic_partitions,
        per_topic=settings.topic_configs(),
    )


def start_infra(settings: CommonSettings) -> dict[str, str]:
    """Start what we manage, create topics, migrate; return the env the services need."""
    broker = local_broker(settings)
    if broker is not None:
        broker.start()
    database = local_postgres(settings)
    url = settings.database_url
    if database is not None:
        database.start()
        url = with_local_password(url, database.home)  # SCRAM: the services need the password
    asyncio.run(create_topics(settings))
    upgrade(url)
    return {"CW_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "DATABASE_URL": url}


def stop_infra() -> None:
    settings = CommonSettings()
    broker = local_broker(settings)
    if broker is not None:
        broker.stop()
    database = local_postgres(settings)
    if database is not None:
        database.stop()


def infra_status() -> dict[str, Any]:
    settings = CommonSettings()
    broker = local_broker(settings)
    database = local_postgres(settings)
    return {
        "kafka": {
            "bootstrap": settings.kafka_bootstrap,
            "managed": broker is not None,
            "pid": broker.pid() if broker else None,
        },
        "postgres": {
            "url": make_url(settings.database_url).render_as_string(hide_password=True),
            "managed": database is not None,
            "running": database.running() if database else None,
        },
    }
