"""The demo's supervisor restarts a SIGKILLed child with backoff while the others run on.

Real short-lived subprocesses (``python -c`` sleeping), a test clock for the backoff: nothing
here waits for wall time except the kernel delivering SIGKILL.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from churnwatch_runtime.supervise import Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(300)"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def spawn(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, env=env)


@pytest.fixture
def sup() -> Iterator[tuple[Supervisor, Clock, list[str]]]:
    clock, said = Clock(), list[str]()
    supervisor = Supervisor(spawn, clock=clock, say=said.append, cap=4.0, stable_after=60.0)
    yield supervisor, clock, said
    supervisor.stop_all(timeout=10)


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()  # exited for sure before the next tick


def test_a_sigkilled_child_is_restarted_with_growing_backoff(
    sup: tuple[Supervisor, Clock, list[str]],
) -> None:
    supervisor, clock, said = sup
    other = supervisor.start("ingest", SLEEPER, {})
    first = supervisor.start("scoring", SLEEPER, {})
    supervisor.tick()
    assert said == []

    kill(first)
    supervisor.tick()
    assert said == [
        "scoring exited with -9; restarting it in 1 s (failure 1 in a row) — the other"
        " services go on"
    ]
    clock.now += 0.5
    supervisor.tick()
    assert supervisor.child("scoring").proc is first  # not yet due
    clock.now += 0.5
    supervisor.tick()
    second = supervisor.child("scoring").proc
    assert second is not first
    assert second.poll() is None  # a live new process
    assert said[-1] == f"scoring restarted (pid {second.pid}, restart 1)"

    delays = []
    for _ in range(3):  # keeps dying: 2 s, 4 s, then the cap (4 s)
        kill(supervisor.child("scoring").proc)
        supervisor.tick()
        delays.append(said[-1].split("restarting it in ")[1].split(" s")[0])
        clock.now += 10
        supervisor.tick()
    assert delays == ["2", "4", "4"]
    assert supervisor.child("scoring").restarts == 4
    assert supervisor.child("ingest").proc is other  # the others went on, untouched
    assert other.poll() is None


def test_a_child_that_stays_up_is_forgiven(sup: tuple[Supervisor, Clock, list[str]]) -> None:
    supervisor, clock, said = sup
    supervisor.start("alerts", SLEEPER, {})
    for _ in range(2):
        kill(supervisor.child("alerts").proc)
        supervisor.tick()
        clock.now += 10
        supervisor.tick()
    assert supervisor.child("alerts").failures == 2
    clock.now += 61  # up for longer than stable_after
    supervisor.tick()
    assert supervisor.child("alerts").failures == 0
    kill(supervisor.child("alerts").proc)
    supervisor.tick()
    assert "restarting it in 1 s" in said[-1]


def test_stop_all_ends_every_child(sup: tuple[Supervisor, Clock, list[str]]) -> None:
    supervisor, _, _ = sup
    procs = [supervisor.start(name, SLEEPER, {}) for name in ("a", "b")]
    supervisor.stop_all(timeout=10)
    assert [p.returncode for p in procs] == [-signal.SIGTERM, -signal.SIGTERM]
