"""Worker base for churnwatch's consuming services: effectively-once batches and an outbox.

- ``Worker``: consume → ``Processor.process(conn, batch)`` → commit state and offsets in one
  PostgreSQL transaction; partitions resume from the offsets stored in PostgreSQL.
- ``Outbox`` / ``OutboxRelay``: output messages written in that transaction, published afterwards
  (at-least-once, deduped on the ``cw-msg-id`` header).
- ``run_worker``: run them until SIGTERM, finishing the current batch.

See docs/worker.md for the guarantees and the failure cases.
"""

from churnwatch_runtime.worker.batch import Batch, Record, group_records
from churnwatch_runtime.worker.loop import Worker, WorkerConfig
from churnwatch_runtime.worker.offsets import (
    OffsetTracker,
    OffsetUpdate,
    StaleOffsets,
    load_offsets,
    store_offsets,
)
from churnwatch_runtime.worker.outbox import (
    MSG_ID_HEADER,
    OUTBOX_ID_HEADER,
    Outbox,
    OutboxMessage,
    outbox,
    source_msg_id,
)
from churnwatch_runtime.worker.processor import PartitionHooks, Processor
from churnwatch_runtime.worker.relay import OutboxRelay
from churnwatch_runtime.worker.runner import Runnable, run_worker, stop_on_signals
from churnwatch_runtime.worker.status import WorkerStatus

__all__ = [
    "MSG_ID_HEADER",
    "OUTBOX_ID_HEADER",
    "Batch",
    "OffsetTracker",
    "OffsetUpdate",
    "Outbox",
    "OutboxMessage",
    "OutboxRelay",
    "PartitionHooks",
    "Processor",
    "Record",
    "Runnable",
    "StaleOffsets",
    "Worker",
    "WorkerConfig",
    "WorkerStatus",
    "group_records",
    "load_offsets",
    "outbox",
    "run_worker",
    "source_msg_id",
    "stop_on_signals",
    "store_offsets",
]
