"""Session-wide fixtures: one real Kafka broker and one real PostgreSQL server per test run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db import make_engine, upgrade
from churnwatch_runtime.kafka import ensure_topics
from tests.support.infra import (
    Broker,
    LocalBroker,
    docker_available,
    env_override,
    pg_server,
    unique,
)

# Hypothesis: no per-example deadline anywhere (two cores shared by a whole CI run make any
# wall-clock limit flaky). "ci", the default, is derandomized: the same examples every run, so a
# red build is reproducible and a green one is not luck; "dev" explores new examples each run
# (HYPOTHESIS_PROFILE=dev) and keeps failures in .hypothesis/ to replay them.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def infra_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("infra")


@pytest.fixture(scope="session")
def kafka(infra_home: Path) -> Iterator[Broker]:
    """The broker: our launcher's (local jars) unless CW_TEST_KAFKA_BOOTSTRAP or Docker is there."""
    given = env_override("CW_TEST_KAFKA_BOOTSTRAP")
    if given:
        yield _ExternalBroker(given)
        return
    if docker_available() and os.environ.get("CW_TEST_USE_DOCKER", "1") == "1":
        from tests.support.containers import ContainerBroker

        container = ContainerBroker()
        container.start()
        yield container
        container.stop()
        return
    broker = LocalBroker(infra_home / "kafka")
    broker.start()
    yield broker
    broker.stop()


class _ExternalBroker:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    def start(self) -> None:
        pytest.skip("the broker is external: this test stops and starts it")

    stop = kill = start


@pytest.fixture(scope="session")
def postgres_url(infra_home: Path) -> Iterator[str]:
    """A server URL ending in a database name; each test module makes its own database from it."""
    given = env_override("CW_TEST_DATABASE_URL")
    if given:
        yield given
        return
    server = pg_server(infra_home / "postgres")
    server.start()
    yield server.url()
    server.stop()


@pytest.fixture(scope="session")
def database_url(postgres_url: str) -> str:
    """A migrated database shared by the session's tests (tests use unique ids to stay apart)."""
    url = _with_database(postgres_url, unique("cw_test"))
    _create_database(postgres_url, url)
    upgrade(url)
    return url


@pytest.fixture
def fresh_database(postgres_url: str) -> str:
    """A brand-new migrated database for tests that count rows across a whole table."""
    url = _with_database(postgres_url, unique("cw_test"))
    _create_database(postgres_url, url)
    upgrade(url)
    return url


@pytest.fixture
async def db(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a brand-new migrated database, for tests that count whole tables."""
    eng = make_engine(fresh_database)
    yield eng
    await eng.dispose()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def topic_factory(kafka: Broker) -> Callable[..., Awaitable[str]]:
    """``await topic_factory("prefix")`` creates a unique topic (6 partitions unless told)."""

    async def make(prefix: str = "t", partitions: int = 6) -> str:
        name = unique(prefix).replace("_", ".")
        await ensure_topics(kafka.bootstrap, [name], partitions=partitions)
        return name

    return make


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _create_database(server_url: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from churnwatch_runtime.db import sync_url

    name = make_url(url).database
    admin = create_engine(
        sync_url(_with_database(server_url, "postgres")), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
