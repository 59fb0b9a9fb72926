"""Expiry: unfinished tasks (open, assigned, in progress) past their expiry become ``expired``.

**Rule.** A task expires at ``created_at + expire_after``: the playbook's
``action.params.expire_after_hours`` if it sets one (read from the task's own playbook version,
like ``params.assign``; no change to the playbook model), else the
``CW_ALERTS_TASK_EXPIRE_AFTER_HOURS`` setting, 720 h = the uplift horizon of 30 days: the
exposure behind the task is judged over that horizon, so a call after it no longer belongs to
the experiment it was made for, and the queue should not fill with stale work.

**Clock.** ``created_at`` is event time (the score that caused the task), so the job compares it
with event time too: by default the scoring watermark (the minimum of the scoring workers'
partition watermarks, as the uplift job uses). In a replay or a simulation running ahead of or
behind the wall clock, a wall-clock sweep would expire everything at once (or nothing); with the
watermark a task expires when the stream has moved past its expiry, the same in every run. The
cost: a stalled stream stalls expiry. ``CW_ALERTS_TASK_EXPIRY_CLOCK=wall`` uses ``now()``
instead (a deployment whose scores are known to be live). The ``expired`` transition is
stamped with the expiry time itself (``created_at + expire_after``), not when the job ran, so
the audit trail does not depend on the job's interval.

Each run is one transaction: candidates are locked ``FOR UPDATE SKIP LOCKED`` (a task a person
or the alerts batch is changing right now is skipped and retried at the next run; two alerts
processes never expire one task twice), each goes through the pure `transition` (actor
``alerts``) and gets its audit row and its treatment's outcome (`apply_transition`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import Playbook, PlaybookError, TaskState
from churnwatch_alerts.metrics import AlertsMetrics
from churnwatch_alerts.plan import ACTOR
from churnwatch_alerts.playbooks import parse_playbooks_from_yaml
from churnwatch_alerts.store.tasks import due_for_expiry
from churnwatch_alerts.store.uplift import playbook_texts, scoring_watermark
from churnwatch_alerts.worktasks import apply_transition
from churnwatch_runtime.db import raw_connection
from churnwatch_runtime.worker.periodic import repeat

__all__ = ["EXPIRY_CLOCKS", "ExpiryConfig", "ExpiryJob", "ExpiryRun", "expire_after", "run_expiry"]

log = logging.getLogger(__name__)
EXPIRY_CLOCKS = ("watermark", "wall")


@dataclass(frozen=True, slots=True)
class ExpiryConfig:
    """``expire_after``: default lifetime of a task; ``clock``: ``watermark`` (event time, the
    scoring group's) or ``wall``; ``batch``: most tasks expired per transaction."""

    expire_after: timedelta = timedelta(days=30)
    clock: Literal["watermark", "wall"] = "watermark"
    watermark_group: str | None = "scoring"
    interval_s: float = 300.0
    batch: int = 1_000


def expire_after(playbook: Playbook, default: timedelta) -> timedelta:
    """How long a task of ``playbook`` lives: ``action.params.expire_after_hours`` (a positive
    number) or ``default``.

    >>> from churnwatch.alerts import default_playbooks
    >>> vip = default_playbooks()[0]
    >>> expire_after(vip, timedelta(days=30))
    datetime.timedelta(days=30)
    >>> short = vip.model_copy(update={"action": vip.action.model_copy(
    ...     update={"params": {"expire_after_hours": 72}})})
    >>> expire_after(short, timedelta(days=30))
    datetime.timedelta(days=3)
    """
    hours = playbook.action.params.get("expire_after_hours")
    if isinstance(hours, int | float) and not isinstance(hours, bool) and hours > 0:
        return timedelta(hours=hours)
    return default


def _rules(rows: Iterable[Any], default: timedelta) -> dict[tuple[str, int], float]:
    """Seconds to expiry by (playbook id, version) for versions that differ from the default
    (one parse per row: old disabled versions are read on their own)."""
    out: dict[tuple[str, int], float] = {}
    for pid, version, text in rows:
        try:
            (pb,) = parse_playbooks_from_yaml([text])
        except (PlaybookError, yaml.YAMLError, ValueError):
            log.warning("unreadable playbook, default expiry", extra={"playbook": pid})
            continue
        after = expire_after(pb, default)
        if after != default:
            out[(pid, version)] = after.total_seconds()
    return out


@dataclass(frozen=True, slots=True)
class ExpiryRun:
    """What one run did: ``no_clock`` (no watermark yet), or ``done`` with the clock used and
    the ids expired."""

    status: Literal["done", "no_clock"]
    clock: datetime | None = None
    expired: tuple[str, ...] = ()


async def run_expiry(
    engine: AsyncEngine, cfg: ExpiryConfig, *, now: datetime | None = None
) -> ExpiryRun:
    """Expire, in one transaction, up to ``cfg.batch`` unfinished tasks whose expiry is at or
    before the clock (oldest first); ``now`` stands for the wall clock (tests)."""
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        if cfg.clock == "wall":
            clock: datetime | None = now or datetime.now(UTC)
        else:
            clock = await scoring_watermark(pg, cfg.watermark_group)
        if clock is None:
            return ExpiryRun("no_clock")
        rules = _rules(await playbook_texts(pg), cfg.expire_after)
        due = await due_for_expiry(pg, rules, cfg.expire_after.total_seconds(), clock, cfg.batch)
        expired: list[str] = []
        for view, expires_at in due:
            await apply_transition(pg, view, TaskState.EXPIRED, at=expires_at, actor=ACTOR)
            expired.append(view.task_id)
        return ExpiryRun("done", clock, tuple(expired))


class ExpiryJob:
    """`run_expiry` every ``cfg.interval_s`` until ``stop`` (a `Runnable` of the alerts app),
    again at once while a run fills its batch; a failed run is logged and retried at the next
    interval, never fatal to the service. Expired tasks count in
    ``cw_alerts_tasks_auto_closed{outcome="expired"}``."""

    def __init__(
        self, engine: AsyncEngine, cfg: ExpiryConfig, metrics: AlertsMetrics | None = None
    ) -> None:
        self.engine, self.cfg, self.metrics = engine, cfg, metrics
        self.last: ExpiryRun | None = None

    async def run(self, stop: asyncio.Event) -> None:
        await repeat(stop, self._once, self.cfg.interval_s, what="task expiry", log=log)

    async def _once(self) -> bool:
        """One run; True when it filled its batch (more may be due: run again at once)."""
        self.last = run = await run_expiry(self.engine, self.cfg)
        if run.expired:
            log.info("tasks expired", extra={"expired": len(run.expired)})
            if self.metrics is not None:
                self.metrics.closed.labels(TaskState.EXPIRED.value).inc(len(run.expired))
        return len(run.expired) >= self.cfg.batch
