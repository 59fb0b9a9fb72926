"""Long suite (``make test-long``): the learner process SIGKILLed while a standby process waits.

Two real ``python -m churnwatch_scoring.learner`` processes on one database: the first holds the
advisory lock and learns; the second logs that it is standing by. The leader is SIGKILLed (no
cleanup, its session dies with it); the standby must take the lock, resume from the leader's
last checkpoint and learn the labels that come due after the kill — every label exactly once
(``labels_seen`` of the last checkpoint = all seeded customers, no label left unlearned).

Planted bug this test was seen to catch: a standby that never retries the lock after its first
refusal (the labels after the kill stay unlearned).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.scoring.test_learner import (
    DAY,
    GROUP,
    ROOT,
    T0,
    scalar,
    seed_population,
    set_watermark,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def _until(db: AsyncEngine, sql: str, want: Any, timeout: float = 60) -> None:
    for _ in range(int(timeout / 0.1)):
        if await scalar(db, sql) == want:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{sql} never became {want!r} (last {await scalar(db, sql)!r})")


async def _learner(db: AsyncEngine) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": db.url.render_as_string(hide_password=False),
        "CW_LEARNER_GROUP_ID": GROUP,
        "CW_LEARNER_CHECKPOINT_EVERY_S": "0",
        "CW_LEARNER_POLL_S": "0.1",
        "CW_LEARNER_STANDBY_POLL_S": "0.2",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "churnwatch_scoring.learner",
        cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _lines(proc: asyncio.subprocess.Process, into: list[str]) -> None:
    assert proc.stderr is not None
    async for line in proc.stderr:
        into.append(line.decode())


def _messages(lines: list[str]) -> list[str]:
    return [orjson.loads(x)["msg"] for x in lines if x.startswith("{")]


async def test_a_standby_takes_over_from_a_sigkilled_learner(db: AsyncEngine) -> None:
    first = await seed_population(db, 30, prefix="A")
    await set_watermark(db, T0 + 30 * DAY)
    leader_log: list[str] = []
    standby_log: list[str] = []
    leader = await _learner(db)
    leader_reader = asyncio.create_task(_lines(leader, leader_log))
    standby: asyncio.subprocess.Process | None = None
    try:
        await _until(db, "SELECT max(labels_seen) FROM model_checkpoints", first)
        standby = await _learner(db)
        standby_reader = asyncio.create_task(_lines(standby, standby_log))
        for _ in range(300):
            if "standby: another learner holds the lock" in _messages(standby_log):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the second learner never reported standing by")

        leader.send_signal(signal.SIGKILL)
        await asyncio.wait_for(leader.wait(), 30)
        await leader_reader

        second = await seed_population(db, 30, prefix="B")  # labels due after the kill
        await _until(db, "SELECT max(labels_seen) FROM model_checkpoints", first + second, 90)
        await _until(db, "SELECT count(*) FROM label_snapshots WHERE label IS NULL", 0)
        assert "learner active" in _messages(standby_log)
    finally:
        for proc in (leader, standby):
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 30)
    await standby_reader
    assert leader.returncode == -signal.SIGKILL
    assert standby is not None
    assert standby.returncode == 0, "".join(standby_log)[-2000:]
