"""Keep child processes running: a crashed one is restarted with backoff, the others go on.

The demo runs every service as its own process (as in production). A process that dies — a bug,
the OOM killer, someone's ``kill -9`` — used to stop the whole demo; a supervisor restarts it
after 1 s, then 2 s, 4 s … up to ``cap`` if it keeps dying, and says so on the terminal. A child
that then stays up for ``stable_after`` seconds is forgiven (its next crash waits 1 s again).

:meth:`Supervisor.tick` does one round and never sleeps, so the loop is tested with real
subprocesses and a test clock.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Child", "Supervisor", "backoff"]

Spawn = Callable[[str, list[str], dict[str, str]], "subprocess.Popen[bytes]"]


def _terminal(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def backoff(failures: int, *, base: float = 1.0, cap: float = 30.0) -> float:
    """Seconds to wait before restarting a child that has failed ``failures`` times in a row.

    >>> [backoff(n) for n in range(1, 8)]
    [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    """
    return float(min(cap, base * 2.0 ** max(failures - 1, 0)))


@dataclass
class Child:
    """One supervised process and its restart bookkeeping."""

    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    started: float
    failures: int = 0  # crashes in a row (reset once it stays up for stable_after)
    restarts: int = 0  # in all, for the banner
    due: float | None = None  # when it is down: the time of its restart
    history: list[int] = field(default_factory=list)  # exit codes seen


class Supervisor:
    """Start named children and keep them up (:meth:`tick`); stop them all newest first."""

    def __init__(
        self,
        spawn: Spawn,
        *,
        base: float = 1.0,
        cap: float = 30.0,
        stable_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self._spawn = spawn
        self.base, self.cap, self.stable_after = base, cap, stable_after
        self.clock = clock
        self.say = say or _terminal
        self.children: list[Child] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        proc = self._spawn(name, argv, env)
        self.children.append(Child(name, argv, env, proc, started=self.clock()))
        return proc

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def tick(self) -> None:
        """Notice exits, schedule restarts with backoff, restart those that are due."""
        now = self.clock()
        for c in self.children:
            if c.due is None:
                code = c.proc.poll()
                if code is None:
                    if c.failures and now - c.started >= self.stable_after:
                        c.failures = 0
                    continue
                c.failures += 1
                c.history.append(code)
                delay = backoff(c.failures, base=self.base, cap=self.cap)
                c.due = now + delay
                self.say(
                    f"{c.name} exited with {code}; restarting it in {delay:g} s"
                    f" (failure {c.failures} in a row) — the other services go on"
                )
            elif now >= c.due:
                c.proc = self._spawn(c.name, c.argv, c.env)
                c.started, c.due = now, None
                c.restarts += 1
                self.say(f"{c.name} restarted (pid {c.proc.pid}, restart {c.restarts})")

    def stop_all(self, timeout: float = 20) -> None:
        """SIGTERM newest first, one at a time (the simulator flushes to ingest before ingest
        stops); SIGKILL what does not stop within ``timeout``."""
        for c in reversed(self.children):
            if c.proc.poll() is None:
                c.proc.send_signal(signal.SIGTERM)
            try:
                c.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                c.proc.kill()
                c.proc.wait()
