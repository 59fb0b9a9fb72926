"""`repeat`: the loop every periodic job runs (uplift, task expiry, webhook rounds)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from churnwatch_runtime.worker.periodic import repeat

log = logging.getLogger("test.periodic")


async def test_busy_steps_run_back_to_back_then_it_sleeps_until_stopped() -> None:
    stop, idle, calls = asyncio.Event(), asyncio.Event(), []

    async def step() -> bool:
        calls.append(1)
        if len(calls) == 3:
            idle.set()
        return len(calls) < 3  # a backlog of three rounds, then idle

    # an hour's interval: the three calls can only come back to back, and the end only by stop
    task = asyncio.create_task(repeat(stop, step, 3600.0, what="step", log=log))
    await asyncio.wait_for(idle.wait(), timeout=30)
    for _ in range(20):  # let it run on: an idle step must not be called again before stop
        await asyncio.sleep(0)
    assert len(calls) == 3
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, timeout=30)
    assert len(calls) == 3


async def test_a_failing_step_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    stop, calls = asyncio.Event(), []

    async def step() -> bool:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("database away")
        stop.set()
        return False

    caplog.set_level(logging.ERROR, logger="test.periodic")
    await asyncio.wait_for(repeat(stop, step, 0.01, what="nightly", log=log), timeout=5)
    assert len(calls) == 3
    failures = [r for r in caplog.records if r.getMessage().startswith("nightly failed")]
    assert len(failures) == 2
    assert all(r.exc_info and r.exc_info[0] is ConnectionError for r in failures)
