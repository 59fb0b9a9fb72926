"""Run a real processor as two workers of one group through a rebalance, mid-stream.

The stream comes in three chunks: the first is consumed by worker A alone until about a quarter
of it is done; then B joins (a rebalance splits the partitions while records are pending) and the
second chunk follows; the third is produced while B is still there and B leaves at once (A takes
every partition back, with records pending on the ones B had). The processors are the services'
own; the caller compares the final state with a single worker's clean run of the same events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.worker import Processor, Worker, WorkerConfig, WorkerStatus
from tests.integration.scoring.support import consumed
from tests.integration.worker.support import wait_until


class Running:
    """A worker running as a task, with its own stop event."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(worker.run(self.stop))

    def check(self) -> None:
        """Raise the worker's error if it died (a wait would otherwise just time out)."""
        if self.task.done():
            self.task.result()

    async def close(self) -> WorkerStatus:
        """Stop after the batch in flight; the status then counts every committed record."""
        self.stop.set()
        await asyncio.wait_for(self.task, 60)
        return self.worker.status()


@dataclass
class Rebalanced:
    """What each worker did: records processed, and the partitions each held at its peak."""

    a_records: int
    b_records: int
    a_partitions_with_b: int
    b_partitions: int
    a_partitions_at_end: int


async def run_with_a_rebalance(
    db: AsyncEngine,
    *,
    bootstrap: str,
    topic: str,
    group: str,
    make_processor: Callable[[], Processor],
    produce_chunk: Callable[[int], Awaitable[int]],
    partitions: int = 6,
    max_records: int = 20,
    timeout: float = 60,
) -> Rebalanced:
    """Chunks 0, 1, 2 through A, A+B, then A alone again (see the module docstring)."""
    config = WorkerConfig(max_records=max_records, max_wait_ms=50, kafka_commit_interval=0.2)

    def start() -> Running:
        worker = Worker(
            db, make_processor(), bootstrap=bootstrap, topics=[topic], group_id=group,
            config=config,
        )  # fmt: skip
        return Running(worker)

    async def reached(n: int, *running: Running) -> bool:
        for r in running:
            r.check()
        return await consumed(db, group) >= n

    first = await produce_chunk(0)
    a = start()
    await wait_until(lambda: reached(max(1, first // 4), a), timeout=timeout)
    b = start()  # joins mid-stream: the group rebalances with records pending
    await wait_until(lambda: _split(a, b, partitions), timeout=timeout)
    a_with_b = len(a.worker.status().assigned)
    b_partitions = len(b.worker.status().assigned)
    second = await produce_chunk(1)
    await wait_until(lambda: reached(first + second, a, b), timeout=timeout)
    third = await produce_chunk(2)
    b_status = await b.close()  # leaves at once: A takes every partition back
    await wait_until(lambda: _owns_all(a, partitions), timeout=timeout)
    await wait_until(lambda: reached(first + second + third, a), timeout=timeout)
    await asyncio.sleep(0.5)  # a re-read after the last rebalance would show up now
    a_at_end = len(a.worker.status().assigned)
    a_status = await a.close()
    return Rebalanced(
        a_records=a_status.records,
        b_records=b_status.records,
        a_partitions_with_b=a_with_b,
        b_partitions=b_partitions,
        a_partitions_at_end=a_at_end,
    )


async def _split(a: Running, b: Running, partitions: int) -> bool:
    a.check()
    b.check()
    sa, sb = a.worker.status(), b.worker.status()
    return (
        bool(sa.assigned and sb.assigned)
        and len(sa.assigned) + len(sb.assigned) == partitions
        and not sa.loading
        and not sb.loading
    )


async def _owns_all(a: Running, partitions: int) -> bool:
    a.check()
    status = a.worker.status()
    return len(status.assigned) == partitions and not status.loading
