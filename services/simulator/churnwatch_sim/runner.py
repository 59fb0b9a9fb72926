"""Drives a :class:`Simulator` into a sink on one of two clocks, applying incoming actions.

- **replay**: event time is simulated time; events go out as fast as the sink takes them.
- **live**: events go out at ``rate`` per second of wall-clock time and are stamped with the
  wall clock (event time = now); simulated days pass as fast as their events are sent.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from churnwatch_sim.actions import ActionSource
from churnwatch_sim.blocks import restamp
from churnwatch_sim.engine import Simulator
from churnwatch_sim.sinks import Sink
from churnwatch_sim.timing import iso_now

__all__ = ["Clock", "RunSummary", "run"]

Clock = Literal["replay", "live"]
Progress = Callable[[int, int], None]  # (days done, events in the last chunk)


@dataclass(slots=True)
class RunSummary:
    """What a run did: counts by type, churns by cause, actions, and the sink's report."""

    clock: str
    days: int = 0
    events: int = 0
    seconds: float = 0.0
    events_by_type: Counter[str] = field(default_factory=Counter)
    churns_by_cause: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    sink: dict[str, Any] = field(default_factory=dict)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "clock": self.clock,
            "days": self.days,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.events_per_s),
            "events_by_type": dict(sorted(self.events_by_type.items())),
            "churns_by_cause": dict(sorted(self.churns_by_cause.items())),
            "actions": dict(sorted(self.actions.items())),
            "sink": self.sink,
            "stopped_early": self.stopped_early,
        }


async def run(
    sim: Simulator,
    sink: Sink,
    *,
    clock: Clock = "replay",
    rate: float = 1000.0,
    chunk: int = 50_000,
    actions: ActionSource | None = None,
    stop: asyncio.Event | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Simulate until the configured days are done (or ``stop`` is set); returns the summary.

    The sink and the action source are started/stopped by the caller; truth files are finished
    here (``sim.finish()``), also when the run is stopped early.
    """
    summary = RunSummary(clock=clock)
    stop = stop or asyncio.Event()
    started = time.perf_counter()
    pace = _Pacer(rate) if clock == "live" else None
    step = max(1, min(chunk, int(rate / 10) or 1)) if pace else chunk
    try:
        while not sim.done and not stop.is_set():
            if actions is not None:
                until = datetime.now(UTC) if pace else sim.start_of(sim.day)
                for action in actions.drain(until):
                    summary.actions[sim.apply_action(action).status] += 1
            events = sim.step()
            summary.days += 1
            for lines in events.chunks(step):
                if pace is not None:
                    await pace.wait(len(lines))
                    stamp = iso_now()
                    lines = [restamp(line, stamp) for line in lines]
                await sink.send(lines)
                summary.events += len(lines)
                if progress is not None:
                    progress(sim.day, len(lines))
                if stop.is_set():
                    break
            if progress is not None and not events.count:
                progress(sim.day, 0)
            await asyncio.sleep(0)
    finally:
        summary.stopped_early = not sim.done
        summary.seconds = time.perf_counter() - started
        sim.finish()
    summary.events_by_type = sim.events_by_type
    summary.churns_by_cause = sim.churns_by_cause
    summary.sink = sink.stats.as_dict()
    summary.rejections = list(sink.stats.rejections)
    if actions is not None:
        summary.actions["rejected_messages"] += actions.rejected
    return summary


class _Pacer:
    """Lets ``rate`` events per second through, measured from the first call."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.start: float | None = None
        self.sent = 0

    async def wait(self, n: int) -> None:
        now = time.monotonic()
        if self.start is None:
            self.start = now
        due = self.start + self.sent / self.rate
        if due > now:
            await asyncio.sleep(due - now)
        self.sent += n
