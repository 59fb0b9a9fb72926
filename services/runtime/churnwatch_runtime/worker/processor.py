"""What a service plugs into the worker: a processor of batches, with optional partition hooks."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, runtime_checkable

from aiokafka import TopicPartition
from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch_runtime.worker.batch import Batch


class Processor(Protocol):
    """Applies a batch to the service's state inside the worker's transaction.

    ``conn`` is in the batch transaction: write state (and outbox rows) through it and do not
    commit; the worker stores the offsets in the same transaction and commits. Raise to roll the
    whole batch back (it is retried). Keep Kafka out of here: output goes through the outbox.
    """

    async def process(self, conn: AsyncConnection, batch: Batch) -> None: ...


@runtime_checkable
class PartitionHooks(Protocol):
    """Optional: per-partition caches (e.g. customer profiles) loaded and dropped on rebalance.

    ``on_assigned`` runs in the transaction that loads the partitions' stored offsets, before any
    of their records is processed. ``on_revoked`` runs after the last batch of those partitions
    committed — and also after a failed batch, whose rolled-back changes may be in the caches:
    the worker then calls ``on_assigned`` again, so caches always match the database.
    """

    async def on_assigned(
        self, conn: AsyncConnection, partitions: Collection[TopicPartition]
    ) -> None: ...

    async def on_revoked(self, partitions: Collection[TopicPartition]) -> None: ...
