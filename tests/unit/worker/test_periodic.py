"""`repeat`: the loop every periodic job runs (uplift, task expiry, webhook rounds)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from churnwatch_runtime.worker.periodic import repeat

log = logging.getLogger("test.periodic")


async def test_busy_steps_run_back_to_back_then_it_sleeps_until_stopped() -> None:
    stop, calls = asyncio.Event(), []

    async def step() -> bool:
        calls.append(asyncio.get_running_loop().time())
        return len(calls) < 3  # a backlog of three rounds, then idle

    task = asyncio.create_task(repeat(stop, step, 30.0, what="step", log=log))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if len(calls) >= 3:
            break
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=2)  # woken by stop, not after the 30 s interval
    assert len(calls) == 3
    assert calls[2] - calls[0] < 1.0


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
