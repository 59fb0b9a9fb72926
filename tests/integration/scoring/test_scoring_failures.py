"""A scoring batch that fails after the processor changed profiles in memory, on the real broker
and database: the rollback, the requeue that drops the partitions' caches and reloads them, the
doubling backoff, and the worker giving up after ``max_failures`` consecutive failures.

The reference is a clean run of the same events (renamed customers) by a processor that never
fails: the state after the failures must be the state of that run, not a double application nor
a lost batch.

Planted bugs these tests were seen to catch: the requeue not reloading the partitions (stuck:
the records after the failed batch never commit); a processor whose caches survive a failed
batch (on_revoked forgetting nothing, on_assigned keeping the old cache: the retried events are
duplicates of the rolled-back profile, their scores go missing); a backoff that does not
double; giving up one failure late (``>`` for ``>=``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from churnwatch.profile import CustomerProfile
from churnwatch_runtime.worker import Batch, Worker, WorkerConfig
from churnwatch_runtime.worker import loop as worker_loop
from churnwatch_scoring import ScoringConfig, ScoringProcessor
from tests.integration.scoring.support import (
    EventFactory,
    by_customer,
    consumed,
    produce_events,
    rows,
)
from tests.integration.scoring.test_scoring_worker import same_events, two_customers
from tests.integration.worker.support import wait_until
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]
BACKOFF = 0.05


class PlantedFailure(RuntimeError):
    """Raised by the test processor after a batch was fully applied in memory."""


class FailingScoring(ScoringProcessor):
    """The real processor; chosen calls raise *after* `process` changed the profiles in its
    caches, the watermarks and the tier sketch, and wrote its rows in the transaction."""

    def __init__(self, config: ScoringConfig, fail_calls: set[int] | None = None) -> None:
        super().__init__(config)
        self.fail_calls = fail_calls  # None: every call fails
        self.calls = 0
        self.cached_at_failure: list[int] = []

    async def process(self, conn: AsyncConnection, batch: Batch) -> None:
        self.calls += 1
        await super().process(conn, batch)
        if self.fail_calls is None or self.calls in self.fail_calls:
            self.cached_at_failure.append(sum(len(c) for c in self._cache.values()))
            raise PlantedFailure(f"planted failure after batch {self.calls} was applied")


def config(group: str) -> ScoringConfig:
    # no tier seeding from the stored population: the two runs share one database
    return ScoringConfig(group_id=group, silence=False)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The worker loop's sleeps (its backoffs), recorded; the sleeps still happen."""
    recorded: list[float] = []
    real = asyncio.sleep

    async def sleep(delay: float, result: Any = None) -> Any:
        recorded.append(delay)
        return await real(delay, result)

    monkeypatch.setattr(
        worker_loop, "asyncio", SimpleNamespace(**{**vars(asyncio), "sleep": sleep})
    )
    return recorded


def worker(
    db: AsyncEngine, kafka: Broker, topic: str, proc: ScoringProcessor, **cfg: Any
) -> Worker:
    options = {"max_records": 5, "max_wait_ms": 50, "retry_backoff": BACKOFF, **cfg}
    return Worker(
        db, proc, bootstrap=kafka.bootstrap, topics=[topic], group_id=proc.config.group_id,
        config=WorkerConfig(**options),
    )  # fmt: skip


async def run_to_end(w: Worker, db: AsyncEngine, total: int) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(w.run(stop))

    async def done() -> bool:
        if task.done():
            task.result()
        return await consumed(db, w.group_id) >= total

    try:
        await wait_until(done, timeout=90)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_a_batch_failing_after_it_changed_profiles_is_redone_from_the_database(
    db: AsyncEngine, kafka: Broker, topic_factory: Topic, sleeps: list[float]
) -> None:
    base = two_customers(EventFactory(unique("e")))
    states: dict[str, dict[str, Any]] = {}
    for run, fail_calls in (("clean", set()), ("failed", {2, 3, 5})):
        events = [{**e, "customer_id": f"{run}:{e['customer_id']}"} for e in base]
        # one partition, one record a batch: the same clocks and scoring points in both runs
        topic = await topic_factory("sc.fail", partitions=1)
        total = await produce_events(kafka.bootstrap, topic, events)
        proc = FailingScoring(config(unique("g")), fail_calls)
        sleeps.clear()
        w = worker(db, kafka, topic, proc, max_records=1)
        await run_to_end(w, db, total)
        like = {"p": f"{run}:%"}
        latest = await rows(db, "SELECT * FROM latest_scores WHERE customer_id LIKE :p", **like)
        profiles = await rows(
            db, "SELECT customer_id, state FROM customer_profiles WHERE customer_id LIKE :p", **like
        )
        history = await rows(
            db,
            "SELECT customer_id, count(*) AS n FROM score_history WHERE customer_id LIKE :p "
            "GROUP BY customer_id",
            **like,
        )
        outbox = await rows(
            db,
            "SELECT headers::text AS h FROM outbox WHERE convert_from(key, 'UTF8') LIKE :p",
            **like,
        )
        states[run] = {
            "latest": {k.split(":", 1)[1]: v for k, v in by_customer(latest).items()},
            "profiles": {
                r["customer_id"].split(":", 1)[1]: CustomerProfile.from_bytes(r["state"])
                for r in profiles
            },
            "history": {r["customer_id"].split(":", 1)[1]: r["n"] for r in history},
            "messages": sorted(r["h"].replace(f"{run}:", "") for r in outbox),  # ids in headers
            "proc": proc,
            "status": w.status(),
            "sleeps": list(sleeps),
        }
    clean, failed = states["clean"], states["failed"]
    # the failures really happened after the batch had changed the cached profiles
    assert failed["proc"].cached_at_failure
    assert min(failed["proc"].cached_at_failure) > 0
    assert failed["proc"].calls >= clean["proc"].calls + 3
    # and the result is the clean run's: nothing applied twice, nothing lost
    assert set(failed["profiles"]) == set(clean["profiles"]) == {"engaged", "unhappy"}
    for customer in ("engaged", "unhappy"):
        assert same_events(failed["profiles"][customer], clean["profiles"][customer])
        a, b = failed["latest"][customer], clean["latest"][customer]
        for key in ("churn_probability", "band", "reasons", "lifecycle_stage", "cause_event_id"):
            assert a[key] == b[key], (customer, key)
    assert failed["history"] == clean["history"]
    assert failed["messages"] == clean["messages"]
    # backoff doubles over consecutive failures (2 and 3), resets after a success (5)
    assert [s for s in failed["sleeps"] if s >= BACKOFF] == [BACKOFF, 2 * BACKOFF, BACKOFF]
    assert [s for s in clean["sleeps"] if s >= BACKOFF] == []
    assert failed["status"].failures == 0  # the last batch committed
    assert "planted failure after batch 5" in (failed["status"].last_error or "")


async def test_the_worker_gives_up_after_max_failures_and_commits_nothing(
    db: AsyncEngine, kafka: Broker, topic_factory: Topic, sleeps: list[float]
) -> None:
    events = two_customers(EventFactory(unique("e")))
    topic = await topic_factory("sc.giveup", partitions=2)
    total = await produce_events(kafka.bootstrap, topic, events)
    proc = FailingScoring(config(unique("g")), fail_calls=None)
    w = worker(db, kafka, topic, proc, max_failures=3)
    with pytest.raises(PlantedFailure, match="after batch 3"):
        await asyncio.wait_for(w.run(asyncio.Event()), 90)
    assert proc.calls == 3  # three consecutive failures, then run() raises
    assert [s for s in sleeps if s >= BACKOFF] == [BACKOFF, 2 * BACKOFF]  # none after the last
    assert await consumed(db, proc.config.group_id) == 0
    customers = {str(e["customer_id"]) for e in events}
    got = await rows(
        db,
        "SELECT customer_id FROM customer_profiles WHERE customer_id = ANY(:c)",
        c=list(customers),
    )
    assert got == []
    assert total > 0
