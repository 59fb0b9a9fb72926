"""The uplift job: resolve exposures over their horizon and store per-playbook uplift reports.

Every ``interval``: (1) the event-time watermark is the *minimum* of the scoring worker's
partition watermarks (``partition_watermarks``): no partition has profiles older than it, so an
exposure whose horizon ended before it can be judged; (2) each unresolved exposure with
``exposed_at + horizon ≤ watermark`` (plus the lapse window for a retail customer:
`resolvable_at`) gets ``churned`` from the customer's profile (`churned_by`: cancellation
decided, retail last activity within the horizon followed by a lapse, erased) or, without a
profile, from ``latest_scores.lifecycle_stage``; (3) the resolved
exposures go through `churnwatch.alerts.uplift_reports` (treated vs control per playbook and
tier, plus ``all``; Newcombe intervals), joined with the raw save rate and SLA attainment of the
playbook's tasks, and one row per playbook and segment is inserted into ``uplift_reports``
(migration 0021) under one ``computed_at``: the API reads the newest run.

Runs under a transaction-level advisory lock, so several alerts processes never run it at once;
a failed run rolls back whole and is retried at the next interval. Treatment markers for the
model are already written with each action (``treatments``, by the batch planner).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import TaskState, UpliftReport, raw_save_rate, sla_attainment, uplift_reports
from churnwatch.profile import CustomerProfile
from churnwatch_alerts.labels import churned_by, churned_from_stage, resolvable_at
from churnwatch_alerts.store.uplift import (
    insert_reports,
    report_rows,
    resolved_exposures,
    scoring_watermark,
    set_churned,
    task_outcomes,
    try_lock,
    unresolved_page,
)
from churnwatch_runtime.db import Pg, raw_connection
from churnwatch_runtime.worker.periodic import repeat

__all__ = [
    "ALL",
    "UpliftConfig",
    "UpliftJob",
    "UpliftRun",
    "churned_by",
    "churned_from_stage",
    "report_rows",
    "resolvable_at",
    "resolve_exposures",
    "run_once",
    "scoring_watermark",
    "write_reports",
]

log = logging.getLogger(__name__)
ALL = "all"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class UpliftConfig:
    """``horizon``: how long an exposure is followed (the churn model's, 30 days);
    ``lapse_days``: a retail customer silent this long has churned (the lifecycle's 90);
    ``watermark_group``: the scoring consumer group whose watermarks count (None: all rows)."""

    horizon: timedelta = timedelta(days=30)
    lapse_days: int = 90
    interval_s: float = 3600.0
    batch: int = 5_000
    watermark_group: str | None = "scoring"
    lock_key: int = 0x63777570  # 'cwup'
    confidence: float = 0.95


def label(
    state: bytes | None, stage: str | None, end: datetime, watermark: datetime, lapse_days: int
) -> bool | None:
    """An exposure's ``churned`` label at ``watermark`` for a horizon ending at ``end``, from
    the customer's profile (None while the retail lapse window is not seen yet) or, without
    one, the last lifecycle stage (None: unknown)."""
    if state is None:
        return churned_from_stage(stage)
    profile = CustomerProfile.from_bytes(bytes(state))
    if resolvable_at(profile, end, lapse_days=lapse_days) > watermark:
        return None  # retail: the lapse window after the horizon is not seen yet
    return churned_by(profile, end)


async def resolve_exposures(pg: Pg, watermark: datetime, cfg: UpliftConfig) -> int:
    """Set ``churned`` on every exposure whose horizon ended by ``watermark``; returns how many
    were resolved (those with neither a profile nor a score stay open)."""
    cutoff = watermark - cfg.horizon
    after: tuple[datetime, str] = (_EPOCH, "")
    resolved = 0
    while True:
        rows = await unresolved_page(pg, cutoff, after, cfg.batch)
        if not rows:
            return resolved
        ids: list[str] = []
        values: list[bool] = []
        for action_id, exposed_at, state, stage in rows:
            churned = label(state, stage, exposed_at + cfg.horizon, watermark, cfg.lapse_days)
            if churned is not None:
                ids.append(action_id)
                values.append(churned)
        if ids:
            await set_churned(pg, ids, values, watermark)
            resolved += len(ids)
        last = rows[-1]
        after = (last[1], last[0])


def _by_segment(items: Iterable[tuple[str, str, Any]]) -> dict[tuple[str, str], list[Any]]:
    out: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for playbook, segment, item in items:
        out[(playbook, segment)].append(item)
        out[(playbook, ALL)].append(item)
    return out


async def write_reports(
    pg: Pg, watermark: datetime, computed_at: datetime, cfg: UpliftConfig
) -> list[UpliftReport]:
    """Compute the reports from every resolved exposure and the tasks; insert one row per
    playbook and segment (tier, and ``all``) stamped ``computed_at``."""
    exposures = await resolved_exposures(pg)
    reports = uplift_reports(exposures, confidence=cfg.confidence, total=ALL)
    tasks = await task_outcomes(pg)
    states = _by_segment((pb, tier, TaskState(state)) for pb, tier, state, _, _ in tasks)
    saves = {key: raw_save_rate(items) for key, items in states.items()}
    due = _by_segment((pb, tier, (d, c)) for pb, tier, _, d, c in tasks)
    # SLA: tasks due before the watermark (event time; later ones cannot have failed yet)
    sla = {key: sla_attainment(items, _EPOCH, watermark) for key, items in due.items()}
    rows = report_rows(reports, saves, sla)
    days = cfg.horizon / timedelta(days=1)
    await insert_reports(pg, rows, computed_at=computed_at, watermark=watermark, horizon_days=days)
    return reports


@dataclass(frozen=True, slots=True)
class UpliftRun:
    """What one run did: ``status`` skipped (another instance holds the lock), no_watermark,
    or done."""

    status: Literal["done", "skipped", "no_watermark"]
    watermark: datetime | None = None
    resolved: int = 0
    reports: int = 0


async def run_once(
    engine: AsyncEngine, cfg: UpliftConfig, *, now: datetime | None = None
) -> UpliftRun:
    """One run of the job in one transaction (see the module docstring)."""
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        if not await try_lock(pg, cfg.lock_key):
            return UpliftRun("skipped")
        watermark = await scoring_watermark(pg, cfg.watermark_group)
        if watermark is None:
            return UpliftRun("no_watermark")
        resolved = await resolve_exposures(pg, watermark, cfg)
        reports = await write_reports(pg, watermark, now or datetime.now(UTC), cfg)
        return UpliftRun("done", watermark, resolved, len(reports))


class UpliftJob:
    """`run_once` every ``cfg.interval_s`` until ``stop`` (a `Runnable` of the alerts app);
    a failed run is logged and retried at the next interval, never fatal to the service."""

    def __init__(self, engine: AsyncEngine, cfg: UpliftConfig) -> None:
        self.engine, self.cfg = engine, cfg
        self.last: UpliftRun | None = None

    async def run(self, stop: asyncio.Event) -> None:
        await repeat(stop, self._once, self.cfg.interval_s, what="uplift run", log=log)

    async def _once(self) -> bool:
        self.last = await run_once(self.engine, self.cfg)
        log.info(
            "uplift run",
            extra={"status": self.last.status, "resolved": self.last.resolved,
                   "reports": self.last.reports},
        )  # fmt: skip
        return False
