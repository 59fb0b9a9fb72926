"""Drives a :class:`Simulator` into a sink on one of two clocks, applying incoming actions.

- **replay**: event time is simulated time; events go out as fast as the sink takes them.
- **live**: events go out at ``rate`` per second of wall-clock time and are stamped with the
  wall clock (event time = now); simulated days pass as fast as their events are sent.

A live run may start with a **history** (``history_days``): its first days go out on the replay
clock, then the same simulator carries on live. One loop and one :class:`Simulator` do both
phases, so the population, the pending refunds and actions, and the truth files (written once,
closed once) simply continue; only the clock changes. Live stamps are never earlier than the
history's end, because the services downstream work in event time.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from churnwatch_sim.actions import ActionSource
from churnwatch_sim.blocks import restamp
from churnwatch_sim.engine import Simulator
from churnwatch_sim.sinks import Sink
from churnwatch_sim.timing import format_ms, iso_now

__all__ = ["Clock", "History", "RunSummary", "run"]

Clock = Literal["replay", "live"]
Progress = Callable[[int, int], None]  # (days done, events in the last chunk)


@dataclass(frozen=True, slots=True)
class History:
    """The replayed past of a live run: its days, dates, events and how long it took to send."""

    days: int
    first: date  # the first simulated date
    end: str  # midnight after the last history day: every history event is before it
    events: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "first": self.first.isoformat(),
            "end": self.end,
            "events": self.events,
            "seconds": round(self.seconds, 3),
        }

    def describe(self) -> str:
        """The one-line progress report printed when the history is done.

        >>> History(3, date(2025, 1, 6), "2025-01-09T00:00:00.000Z", 1234, 2.5).describe()
        'history done: 3 days 2025-01-06 .. 2025-01-08, 1,234 events in 2.5 s; live from now'
        """
        last = self.first + timedelta(days=self.days - 1)
        return (
            f"history done: {self.days} days {self.first} .. {last}, "
            f"{self.events:,} events in {self.seconds:.1f} s; live from now"
        )


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
    history: History | None = None

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        history = {} if self.history is None else {"history": self.history.as_dict()}
        return {
            "clock": self.clock,
            **history,
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
    history_days: int = 0,
    rate: float = 1000.0,
    chunk: int = 50_000,
    actions: ActionSource | None = None,
    stop: asyncio.Event | None = None,
    progress: Progress | None = None,
    on_history: Callable[[History], None] | None = None,
) -> RunSummary:
    """Simulate until the configured days are done (or ``stop`` is set); returns the summary.

    With ``clock="live"`` and ``history_days`` > 0, the next ``history_days`` days go out on the
    replay clock first; ``on_history`` hears when they are all sent (``summary.history`` keeps
    the same report). The sink and the action source are started/stopped by the caller; truth
    files are finished here (``sim.finish()``), also when the run is stopped early.
    """
    if history_days < 0 or (history_days and clock != "live"):
        raise ValueError("history_days needs the live clock and must not be negative")
    summary = RunSummary(clock=clock)
    stop = stop or asyncio.Event()
    started = time.perf_counter()
    switch = sim.day + history_days  # the first live day
    floor = format_ms(sim.date_of(switch), 0) if history_days else ""
    first = sim.date_of(sim.day)
    pace: _Pacer | None = None
    try:
        while not sim.done and not stop.is_set():
            if clock == "live" and pace is None and sim.day >= switch:
                pace = _Pacer(rate)
            if actions is not None:
                until = datetime.now(UTC) if pace else sim.start_of(sim.day)
                for action in actions.drain(until):
                    summary.actions[sim.apply_action(action).status] += 1
            events = sim.step()
            summary.days += 1
            step = max(1, min(chunk, int(rate / 10) or 1)) if pace else chunk
            for lines in events.chunks(step):
                if pace is not None:
                    await pace.wait(len(lines))
                    stamp = max(iso_now(), floor)  # fixed-width ISO: text order = time order
                    lines = [restamp(line, stamp) for line in lines]
                await sink.send(lines)
                summary.events += len(lines)
                if progress is not None:
                    progress(sim.day, len(lines))
                if stop.is_set():
                    break
            if progress is not None and not events.count:
                progress(sim.day, 0)
            if history_days and sim.day == switch and not stop.is_set():
                seconds = time.perf_counter() - started
                summary.history = History(history_days, first, floor, summary.events, seconds)
                if on_history is not None:
                    on_history(summary.history)
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
