"""Run workers (and outbox relays) until SIGTERM/SIGINT: the ``main()`` of every worker service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class Runnable(Protocol):
    """Anything with ``run(stop)`` that returns soon after ``stop`` is set (Worker, OutboxRelay)."""

    async def run(self, stop: asyncio.Event) -> None: ...


@contextlib.contextmanager
def stop_on_signals(
    stop: asyncio.Event, signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT)
) -> Iterator[None]:
    """Set ``stop`` on the given signals while inside the block (restores defaults on exit)."""
    loop = asyncio.get_running_loop()
    for sig in signals:
        loop.add_signal_handler(sig, _on_signal, stop, sig)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def _on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
    log.info("stopping on signal", extra={"signal": sig.name})
    stop.set()


async def run_worker(
    worker: Runnable,
    stop: asyncio.Event | None = None,
    *,
    also: Sequence[Runnable] = (),
    signals: bool = True,
) -> None:
    """Run ``worker`` (and ``also``, e.g. an ``OutboxRelay``) until ``stop`` or a signal.

    SIGTERM sets ``stop``: the worker finishes and commits its current batch, closes its consumer
    (leaving the group, so the partitions move at once) and returns. If one runnable fails, the
    others are stopped the same way and the error is raised (the process exits non-zero).
    """
    stop = stop or asyncio.Event()
    with stop_on_signals(stop) if signals else contextlib.nullcontext():
        tasks = [asyncio.create_task(r.run(stop)) for r in (worker, *also)]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            stop.set()  # also when cancelled: let every runnable finish its batch
            results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
