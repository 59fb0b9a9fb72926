"""Webhook delivery: signed POSTs of each action to every enabled endpoint, with retries.

The processor inserts one ``webhook_deliveries`` row per action and enabled endpoint in the
batch transaction (unique ``(action_id, endpoint_id)``: never a second delivery of an action).
`WebhookDispatcher` takes due rows ``FOR UPDATE SKIP LOCKED`` — several service instances
never POST the same row at the same time — posts them concurrently, and records the result in
the same transaction: delivered; or retried after exponential backoff with full jitter; or, after
``max_attempts``, ``dead`` with the last error.

Delivery is at-least-once: a process killed between the receiver's 2xx and the commit posts the
row again, with the same ``X-Churnwatch-Action-Id``, on which receivers dedupe.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_alerts.metrics import AlertsMetrics
from churnwatch_alerts.signing import ACTION_ID_HEADER, SIGNATURE_HEADER, backoff, signature_header
from churnwatch_alerts.store.webhooks import due_deliveries, record_results
from churnwatch_runtime.db import raw_connection
from churnwatch_runtime.worker.periodic import repeat

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    batch: int = 100
    max_attempts: int = 8
    """After this many failed attempts the delivery is dead (dead-lettered, last error kept)."""
    backoff_base: float = 1.0
    backoff_cap: float = 600.0
    timeout: float = 10.0
    poll_interval: float = 0.2


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # 'delivered' | 'pending' | 'dead'
    attempts: int
    wait: float
    error: str | None


def outcome(
    attempts_before: int, error: str | None, cfg: WebhookConfig, rng: random.Random
) -> Outcome:
    """The row's next state after one attempt that failed with ``error`` (None: a 2xx).

    >>> cfg = WebhookConfig(max_attempts=2)
    >>> outcome(0, None, cfg, random.Random(1)).status
    'delivered'
    >>> [outcome(n, "HTTP 500", cfg, random.Random(1)).status for n in (0, 1)]
    ['pending', 'dead']
    """
    attempts = attempts_before + 1
    if error is None:
        return Outcome("delivered", attempts, 0.0, None)
    if attempts >= cfg.max_attempts:
        return Outcome("dead", attempts, 0.0, error)
    wait = backoff(attempts, base=cfg.backoff_base, cap=cfg.backoff_cap, rng=rng)
    return Outcome("pending", attempts, wait, error)


class WebhookDispatcher:
    """Runs until ``stop``: delivers due rows, sleeping ``poll_interval`` when there are none."""

    def __init__(
        self,
        engine: AsyncEngine,
        config: WebhookConfig | None = None,
        metrics: AlertsMetrics | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.engine = engine
        self.config = config or WebhookConfig()
        self.metrics = metrics or AlertsMetrics()
        self._transport = transport
        self._rng = random.Random()

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(
            timeout=self.config.timeout, transport=self._transport
        ) as client:

            async def step() -> bool:
                return await self.deliver_due(client) > 0

            await repeat(
                stop, step, self.config.poll_interval, what="webhook delivery round", log=log
            )

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        """One round: at most ``batch`` due rows, in one transaction; how many were tried."""
        async with self.engine.begin() as conn:
            pg = await raw_connection(conn)
            rows = await due_deliveries(pg, self.config.batch)
            if not rows:
                return 0
            errors = await asyncio.gather(*(self._post(client, r) for r in rows))
            results = [
                outcome(r["attempts"], e, self.config, self._rng)
                for r, e in zip(rows, errors, strict=True)
            ]
            await record_results(
                pg,
                [
                    (r["id"], o.status, o.attempts, o.wait, o.error)
                    for r, o in zip(rows, results, strict=True)
                ],
            )
        for o in results:
            kind = {"delivered": "ok", "pending": "retry", "dead": "dead"}[o.status]
            self.metrics.deliveries.labels(kind).inc()
        return len(rows)

    async def _post(self, client: httpx.AsyncClient, row: Any) -> str | None:
        body = bytes(row["body"])
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(row["secret"], int(time.time()), body),
            ACTION_ID_HEADER: row["action_id"],
        }
        try:
            response = await client.post(row["url"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}: {response.text[:200]}"
