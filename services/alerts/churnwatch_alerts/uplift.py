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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import (
    Exposure,
    Rate,
    TaskState,
    UpliftReport,
    raw_save_rate,
    sla_attainment,
    uplift_reports,
)
from churnwatch.profile import CustomerProfile
from churnwatch_runtime.db import raw_connection
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
Pg = Any  # asyncpg.Connection
ALL = "all"
_DAY = 86_400
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


def churned_by(profile: CustomerProfile, horizon_end: datetime) -> bool:
    """Whether the customer had left by ``horizon_end``, judged from its profile at or after
    `resolvable_at` (the label is final only then).

    - erased by then;
    - a subscriber who *decided* to cancel by then (the cancellation event, not the later end of
      the paid period: a save works on the decision) and did not start again, with no activity
      after the end of the subscription;
    - a retail customer (or a subscriber back after the end) whose last activity was before
      ``horizon_end`` and who then stayed silent for the lapse window — the retail churn of
      kpis.md, dated at the last activity. Judging it needs the lapse window's hindsight
      (`resolvable_at`); with the lapse point inside the horizon instead, only customers
      already silent for the lapse window less the horizon at exposure could ever count as
      churned, and every retail effect would be measured as about zero.

    >>> end = datetime(2026, 3, 31, tzinfo=UTC)
    >>> t = lambda days: int((end - timedelta(days=days)).timestamp())
    >>> churned_by(CustomerProfile(last_activity=t(10), first_seen=t(400)), end)
    True
    >>> churned_by(CustomerProfile(last_activity=t(-10), first_seen=t(400)), end)
    False
    >>> sub = CustomerProfile(subscription=True, sub_active_at=t(60), cancel_at=t(5),
    ...                       cancel_effective=t(-20), last_activity=t(6), first_seen=t(60))
    >>> churned_by(sub, end), churned_by(sub, end - timedelta(days=10))
    (True, False)
    """
    return _outcome(profile, horizon_end)[0]


def _outcome(p: CustomerProfile, horizon_end: datetime) -> tuple[bool, bool]:
    """(churned by ``horizon_end``, judged as retail: the lapse window must follow)."""
    end = horizon_end.timestamp()
    if p.erased:
        return (not p.erased_at or p.erased_at <= end), False
    last = p.last_activity or p.first_seen
    if p.subscription:
        cancelled = p.cancel_at > 0 and p.cancel_at >= p.sub_active_at
        if not cancelled or p.cancel_at > end:
            return False, False
        if last <= max(p.cancel_effective, p.cancel_at):
            return True, False
        # back after the end: judged as retail from then on
    return bool(last) and last <= end, True


def resolvable_at(
    profile: CustomerProfile, horizon_end: datetime, *, lapse_days: int = 90
) -> datetime:
    """When `churned_by` is final: at the horizon's end, or ``lapse_days`` later for a
    customer judged as retail (the silence after the last activity must be seen).

    >>> end = datetime(2026, 3, 31, tzinfo=UTC)
    >>> resolvable_at(CustomerProfile(subscription=True, sub_active_at=1), end) == end
    True
    >>> resolvable_at(CustomerProfile(last_activity=1), end).date().isoformat()
    '2026-06-29'
    """
    retail = _outcome(profile, horizon_end)[1]
    return horizon_end + timedelta(days=lapse_days) if retail else horizon_end


def churned_from_stage(stage: str | None) -> bool | None:
    """The fallback without a profile: the last score's lifecycle stage (None: unknown).

    >>> churned_from_stage("lapsed"), churned_from_stage("active"), churned_from_stage(None)
    (True, False, None)
    """
    if stage is None:
        return None
    return stage in ("churned", "lapsed")


async def scoring_watermark(pg: Pg, group: str | None) -> datetime | None:
    """The minimum over the scoring partitions' event-time watermarks (None before any)."""
    if group is None:
        value = await pg.fetchval("SELECT min(watermark) FROM partition_watermarks")
    else:
        value = await pg.fetchval(
            "SELECT min(watermark) FROM partition_watermarks WHERE group_id = $1", group
        )
    return value  # type: ignore[no-any-return]


async def resolve_exposures(pg: Pg, watermark: datetime, cfg: UpliftConfig) -> int:
    """Set ``churned`` on every exposure whose horizon ended by ``watermark``; returns how many
    were resolved (those with neither a profile nor a score stay open)."""
    cutoff = watermark - cfg.horizon
    after: tuple[datetime, str] = (_EPOCH, "")
    resolved = 0
    while True:
        rows = await pg.fetch(
            "SELECT e.action_id, e.exposed_at, p.state, s.lifecycle_stage FROM exposures e"
            " LEFT JOIN customer_profiles p ON p.customer_id = e.customer_id"
            " LEFT JOIN latest_scores s ON s.customer_id = e.customer_id"
            " WHERE e.churned IS NULL AND e.exposed_at <= $1"
            " AND (e.exposed_at, e.action_id) > ($2, $3)"
            " ORDER BY e.exposed_at, e.action_id LIMIT $4",
            cutoff, after[0], after[1], cfg.batch,
        )  # fmt: skip
        if not rows:
            return resolved
        ids: list[str] = []
        values: list[bool] = []
        for action_id, exposed_at, state, stage in rows:
            end = exposed_at + cfg.horizon
            if state is not None:
                profile = CustomerProfile.from_bytes(bytes(state))
                if resolvable_at(profile, end, lapse_days=cfg.lapse_days) > watermark:
                    continue  # retail: the lapse window after the horizon is not seen yet
                churned: bool | None = churned_by(profile, end)
            else:
                churned = churned_from_stage(stage)
            if churned is not None:
                ids.append(action_id)
                values.append(churned)
        if ids:
            await pg.execute(
                "UPDATE exposures e SET churned = v.churned, resolved_at = $3"
                " FROM unnest($1::text[], $2::bool[]) AS v(action_id, churned)"
                " WHERE e.action_id = v.action_id AND e.churned IS NULL",
                ids, values, watermark,
            )  # fmt: skip
            resolved += len(ids)
        last = rows[-1]
        after = (last[1], last[0])


def _interval_cols(i: Any) -> tuple[float | None, float | None, float | None]:
    return (None, None, None) if i is None else (i.estimate, i.low, i.high)


def report_rows(
    reports: Sequence[UpliftReport],
    saves: dict[tuple[str, str], Rate],
    sla: dict[tuple[str, str], Rate],
) -> list[tuple[Any, ...]]:
    """``uplift_reports`` rows (without the run columns) from the reports and the task rates
    per (playbook, segment); the honest save rate is the uplift itself.

    >>> rows = [Exposure("pb", "gold", "treated", i < 2) for i in range(10)]
    >>> rows += [Exposure("pb", "gold", "control", i < 5) for i in range(10)]
    >>> r = report_rows(uplift_reports(rows), {("pb", "all"): Rate(3, 4)}, {})
    >>> [(x[0], x[1], x[2], x[4], round(x[8], 2), x[-6:-3]) for x in r]
    [('pb', 'all', 10, 2, 0.3, (0.75, 3, 4)), ('pb', 'gold', 10, 2, 0.3, (None, 0, 0))]
    """
    out: list[tuple[Any, ...]] = []
    for r in reports:
        key = (r.playbook_id, r.segment)
        save, met = saves.get(key, Rate(0, 0)), sla.get(key, Rate(0, 0))
        churned_t = round((r.churn_treated or 0.0) * r.treated)
        churned_c = round((r.churn_control or 0.0) * r.control)
        out.append(
            (
                r.playbook_id, r.segment, r.treated, r.control, churned_t, churned_c,
                r.churn_treated, r.churn_control, *_interval_cols(r.uplift),
                *_interval_cols(r.customers_saved), *_interval_cols(r.value_saved),
                save.value, save.numerator, save.denominator,
                met.value, met.numerator, met.denominator,
            )
        )  # fmt: skip
    return out


_COLUMNS: tuple[tuple[str, str], ...] = (
    ("playbook_id", "text"), ("segment", "text"), ("treated", "int"), ("control", "int"),
    ("churned_treated", "int"), ("churned_control", "int"), ("churn_treated", "float8"),
    ("churn_control", "float8"), ("uplift", "float8"), ("uplift_low", "float8"),
    ("uplift_high", "float8"), ("customers_saved", "float8"), ("customers_saved_low", "float8"),
    ("customers_saved_high", "float8"), ("value_saved", "float8"), ("value_saved_low", "float8"),
    ("value_saved_high", "float8"), ("raw_save_rate", "float8"), ("tasks_won", "int"),
    ("tasks_closed", "int"), ("sla_attainment", "float8"), ("tasks_in_sla", "int"),
    ("tasks_due", "int"),
)  # fmt: skip
_INSERT = (
    "INSERT INTO uplift_reports (computed_at, watermark, horizon_days, "
    + ", ".join(name for name, _ in _COLUMNS)
    + ") SELECT $1, $2, $3, * FROM unnest("
    + ", ".join(f"${k + 4}::{kind}[]" for k, (_, kind) in enumerate(_COLUMNS))
    + ")"
)


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
    exposures = [
        Exposure(pb, segment, arm, churned, clv)
        for pb, segment, arm, churned, clv in await pg.fetch(
            "SELECT playbook_id, segment, arm, churned, clv FROM exposures"
            " WHERE churned IS NOT NULL"
        )
    ]
    reports = uplift_reports(exposures, confidence=cfg.confidence, total=ALL)
    tasks = await pg.fetch(
        "SELECT playbook_id, tier, state, sla_due_at, first_contact_at FROM tasks"
    )
    states = _by_segment((pb, tier, TaskState(state)) for pb, tier, state, _, _ in tasks)
    saves = {key: raw_save_rate(items) for key, items in states.items()}
    due = _by_segment((pb, tier, (d, c)) for pb, tier, _, d, c in tasks)
    # SLA: tasks due before the watermark (event time; later ones cannot have failed yet)
    sla = {key: sla_attainment(items, _EPOCH, watermark) for key, items in due.items()}
    rows = report_rows(reports, saves, sla)
    if rows:
        columns = [list(col) for col in zip(*rows, strict=True)]
        days = cfg.horizon / timedelta(days=1)
        await pg.execute(_INSERT, computed_at, watermark, days, *columns)
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
        if not await pg.fetchval("SELECT pg_try_advisory_xact_lock($1)", cfg.lock_key):
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
