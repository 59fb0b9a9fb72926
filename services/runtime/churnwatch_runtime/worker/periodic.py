"""One loop for the periodic jobs of a service (uplift reports, task expiry, webhook rounds).

A job's step may fail (the database restarts, a network blip): a periodic job must never take
its service down, so the failure is logged and the step retried at the next interval. A step that
reports more work waiting runs again at once instead of sleeping (a backlog drains at full speed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["repeat"]


async def repeat(
    stop: asyncio.Event,
    step: Callable[[], Awaitable[bool]],
    interval_s: float,
    *,
    what: str,
    log: logging.Logger,
) -> None:
    """Run ``step`` until ``stop`` is set: again at once while it returns True (more work),
    else after ``interval_s``; an exception is logged as ``"<what> failed"`` and retried."""
    while not stop.is_set():
        busy = False
        try:
            busy = await step()
        except Exception:
            log.exception("%s failed; retrying at the next interval", what)
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
