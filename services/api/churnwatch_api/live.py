"""The live stream's engine: one poller per API process, fanned out to every subscriber.

`LiveHub` polls `churnwatch_api.store.live` every ``poll_s`` while at least one client listens
(and not at all otherwise), and puts each new band change or task step on every subscriber's
queue. A subscriber resuming with ``Last-Event-ID`` first reads what it missed straight from the
tables, then follows the hub, dropping what it already sent. Event ids are the pair of positions
``<score_history id>.<task_audit id>`` after the event, so any event id is a resume point.

A subscriber that cannot keep up (its queue full) is dropped; its client reconnects with its
last id and catches up from the tables — slow clients never hold the poller back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_api.store.live import LiveRow, changes, heads

__all__ = ["LiveHub", "parse_event_id", "sse"]

log = logging.getLogger(__name__)
EVENT_NAMES = {"score": "band_change", "task": "task"}


def parse_event_id(value: str | None) -> tuple[int, int] | None:
    """A ``Last-Event-ID`` of this stream as (score id, audit id); None if absent or foreign.

    >>> parse_event_id("120.45"), parse_event_id("x"), parse_event_id(None)
    ((120, 45), None, None)
    """
    try:
        score, audit = (value or "").split(".")
        pos = int(score), int(audit)
    except ValueError:
        return None
    return pos if min(pos) >= 0 else None


def sse(event: str, data: object, event_id: str | None = None) -> str:
    """One server-sent event.

    >>> sse("task", {"task_id": "T-1"}, "3.9")
    'id: 3.9\\nevent: task\\ndata: {"task_id":"T-1"}\\n\\n'
    """
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {orjson.dumps(data).decode()}\n\n"


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[LiveRow | None] = field(default_factory=lambda: asyncio.Queue(1000))


class LiveHub:
    """Poll while anyone listens; fan out."""

    def __init__(self, engine: AsyncEngine, *, poll_s: float = 1.0, window: int = 256) -> None:
        self.engine, self.poll_s, self.window = engine, poll_s, window
        self.position: tuple[int, int] | None = None
        self._seen: dict[str, set[int]] = {"score": set(), "task": set()}
        self._subscribers: set[_Subscriber] = set()
        self._task: asyncio.Task[None] | None = None

    async def _poll_once(self) -> None:
        assert self.position is not None
        score, audit = self.position
        floor = (max(0, score - self.window), max(0, audit - self.window))
        rows = await changes(self.engine, floor)
        fresh = [r for r in rows if r.id not in self._seen[r.source]]
        for r in fresh:
            self._seen[r.source].add(r.id)
        self.position = (
            max([score, *(r.id for r in rows if r.source == "score")]),
            max([audit, *(r.id for r in rows if r.source == "task")]),
        )
        for src, pos in zip(("score", "task"), self.position, strict=True):
            self._seen[src] = {i for i in self._seen[src] if i > pos - self.window}
        for sub in list(self._subscribers):
            for r in fresh:
                try:
                    sub.queue.put_nowait(r)
                except asyncio.QueueFull:
                    self._drop(sub)
                    break

    def _drop(self, sub: _Subscriber) -> None:
        self._subscribers.discard(sub)
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)  # the end: the client reconnects with its last id

    async def _run(self) -> None:
        while self._subscribers:
            try:
                await self._poll_once()
            except Exception:  # a database hiccup must not end the stream for everyone
                log.exception("live poll failed; retrying")
            await asyncio.sleep(self.poll_s)

    async def _committed_window(self, position: tuple[int, int]) -> dict[str, set[int]]:
        """The ids already committed in the re-read window at ``position``: old news to a new
        listener (without this the first poll re-sent up to ``window`` past changes as new).
        Rows of that window that commit later still count as fresh."""
        floor = (max(0, position[0] - self.window), max(0, position[1] - self.window))
        seen: dict[str, set[int]] = {"score": set(), "task": set()}
        for r in await changes(self.engine, floor, position):
            seen[r.source].add(r.id)
        return seen

    async def _join(self) -> tuple[_Subscriber, tuple[int, int]]:
        if not self._subscribers:  # nobody listened since: start from now, not from then
            self.position = await heads(self.engine)
            self._seen = await self._committed_window(self.position)
        sub = _Subscriber()
        self._subscribers.add(sub)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-poller")
        assert self.position is not None
        return sub, self.position

    async def stream(
        self, resume: tuple[int, int] | None, *, heartbeat_s: float = 15.0
    ) -> AsyncIterator[str]:
        """SSE text for one client: the catch-up from ``resume``, then live events, with a
        comment line every ``heartbeat_s`` of silence (keeps proxies from closing it)."""
        sub, joined = await self._join()
        sent = resume or joined
        try:
            yield f": live since {sent[0]}.{sent[1]}\nretry: 3000\n\n"
            if resume is not None:
                for r in await changes(self.engine, resume, joined):
                    sent, text = self._emit(sent, r)
                    yield text
            while True:
                try:
                    row = await asyncio.wait_for(sub.queue.get(), heartbeat_s)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if row is None:
                    return
                if resume is not None and row.id <= (joined[0] if row.source == "score"
                                                     else joined[1]):  # fmt: skip
                    continue  # already sent in the catch-up
                sent, text = self._emit(sent, row)
                yield text
        finally:
            self._subscribers.discard(sub)
            if not self._subscribers and self._task is not None:
                self._task.cancel()
                self._task = None

    @staticmethod
    def _emit(sent: tuple[int, int], r: LiveRow) -> tuple[tuple[int, int], str]:
        pos = (
            (max(sent[0], r.id), sent[1]) if r.source == "score" else (sent[0], max(sent[1], r.id))
        )
        return pos, sse(EVENT_NAMES[r.source], r.data, f"{pos[0]}.{pos[1]}")
