"""Waiting that a stop can end: the worker's start must never outlast a SIGTERM.

aiokafka's ``consumer.start()`` waits for every subscribed topic to appear (and then for a group
assignment) and knows nothing of our stop event; on a broker with auto-create off a missing topic
kept a worker there for good. The worker therefore checks its topics first, says which are missing
(log and ``/readyz``), retries with backoff, and races every wait with ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Sequence
from typing import TypeVar

T = TypeVar("T")


class Stopped(Exception):
    """``stop`` was set before the awaited work finished (the work was cancelled)."""


async def until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T:
    """``work``'s result, or ``Stopped`` as soon as ``stop`` is set (``work`` is then cancelled)."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        raise Stopped
    return task.result()


async def pause(seconds: float, stop: asyncio.Event) -> None:
    """Sleep ``seconds`` unless ``stop`` is set first (then ``Stopped``)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    if stop.is_set():
        raise Stopped


def missing_message(missing: Sequence[str]) -> str:
    """What the operator reads in the log and ``/readyz`` while topics are missing.

    >>> missing_message(["cw.events"]).split(":")[0]
    'topic cw.events does not exist on the broker (auto-create is off)'
    >>> missing_message(["a", "b"]).split(":")[0]
    'topics a, b do not exist on the broker (auto-create is off)'
    """
    if len(missing) == 1:
        return (
            f"topic {missing[0]} does not exist on the broker (auto-create is off): "
            "create it with `churnwatch topics`"
        )
    return (
        f"topics {', '.join(missing)} do not exist on the broker (auto-create is off): "
        "create them with `churnwatch topics`"
    )


def next_backoff(delay: float, cap: float = 5.0) -> float:
    """Double the retry delay up to ``cap``.

    >>> next_backoff(0.2), next_backoff(4.0), next_backoff(5.0)
    (0.4, 5.0, 5.0)
    """
    return min(cap, delay * 2)
