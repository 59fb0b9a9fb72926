"""The learner process: delayed labels → one `ModelState` → checkpoints the workers hot-load.

**One transaction per checkpoint.** A cycle opens one PostgreSQL transaction, resolves and learns
due snapshots batch after batch (updating their rows), and commits those updates *together with*
the checkpoint of the state that learned them (and the model records the learning returned).
A crash anywhere before that commit rolls all of it back, and the restarted learner reloads the
last checkpoint: the labels it had learned since are still open in the table and are resolved
and learned again, once. So every labelled snapshot is learned exactly once by the state of the
newest checkpoint (``labels_seen`` = labelled snapshots), and a failed cycle reloads the state.
A cycle ends after ``checkpoint_every_labels`` labels, or once ``checkpoint_every_s`` passed with
at least one label (it waits ``poll_s`` between empty polls, inside the transaction: at most that
long "idle in transaction", holding row locks only on snapshots it resolved).

**One active learner.** A session-level advisory lock on the very connection that runs the
transactions: a second process waits as a standby, retrying every ``standby_poll_s``. If the
active learner's connection dies, its lock and its open transaction go with it, so a standby that
takes over can never race a stale writer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from churnwatch.model import Label, ModelRecord, ModelState, Snapshot
from churnwatch.profile import CustomerProfile
from churnwatch.value import FitDidNotConverge, observe
from churnwatch_runtime.db import raw_connection
from churnwatch_scoring import cuts
from churnwatch_scoring.learner import store
from churnwatch_scoring.learner.clv import ClvFit, clv_due, fit_clv
from churnwatch_scoring.learner.resolve import (
    Deferred,
    Resolved,
    Skipped,
    decide,
    quality_json,
    record_row,
    snapshot_of,
)
from churnwatch_scoring.learner.settings import LearnerSettings

__all__ = ["CycleReport", "Learner", "NotLeader"]

log = logging.getLogger("churnwatch.learner")
_CLV_CHECK_S = 60.0


class NotLeader(RuntimeError): ...


@dataclass(slots=True)
class CycleReport:
    """What one cycle (one transaction) did."""

    watermark: datetime | None = None
    learned: int = 0  # labels applied to the state (treated ones excluded by policy included)
    skipped: int = 0
    deferred: int = 0
    records: list[ModelRecord] = field(default_factory=list)
    checkpoint: int | None = None


class Learner:
    """The learner's state and loop; `cycle` and `refit_clv` are its single steps."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: LearnerSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.resolver = settings.resolver()
        self.clock = clock
        self.state: ModelState | None = None
        self.checkpoint_version: int | None = None
        self.labels_learned = 0  # by this process, committed
        self.before_commit: Callable[[], Awaitable[None]] | None = None  # fault injection (tests)
        self._conn: AsyncConnection | None = None
        self._leader = False
        self._dirty = False
        self._clv_at: float | None = None
        self._clv_checked: float | None = None
        self._clv_customers = 0
        self._vocab_checked: float | None = None

    @property
    def leader(self) -> bool:
        return self._leader

    # -- leadership ----------------------------------------------------------------------

    async def try_acquire(self) -> bool:
        """Take the advisory lock if free; on success load the newest checkpoint."""
        if self._leader:
            return True
        if self._conn is None:
            self._conn = await self.engine.connect()
        if not await store.try_lock(self._conn, self.settings.lock_key):
            return False
        self._leader = True
        await self._load()
        return True

    async def close(self) -> None:
        """Release the lock and the connection (a crash releases both as well)."""
        if self._conn is not None:
            try:
                if self._leader:
                    await self._conn.rollback()
                    await store.unlock(self._conn, self.settings.lock_key)
            finally:
                await self._conn.close()
                self._conn = None
                self._leader = False

    async def _load(self) -> None:
        conn = self._require()
        async with conn.begin():
            row = await store.latest_checkpoint(conn)
        if row is None:
            self.state, self.checkpoint_version = ModelState(self.settings.model()), None
        else:
            self.state, self.checkpoint_version = ModelState.from_bytes(row.state), row.version
        self._dirty = False
        log.info(
            "model state loaded",
            extra={"checkpoint": self.checkpoint_version, "version": self.state.version},
        )

    def _require(self) -> AsyncConnection:
        if not self._leader or self._conn is None:
            raise NotLeader("this learner does not hold the advisory lock")
        return self._conn

    # -- labels --------------------------------------------------------------------------

    async def cycle(self) -> CycleReport:
        """One transaction: resolve and learn due labels, checkpoint, commit (module doc)."""
        conn = self._require()
        if self._dirty or self.state is None:
            await self._load()
        try:
            async with conn.begin():
                report = await self._cycle(conn)
        except BaseException:
            self._dirty = True  # the state may have learned what the rollback un-resolved
            raise
        if report.checkpoint is not None:
            self.checkpoint_version = report.checkpoint
        self.labels_learned += report.learned
        return report

    async def _cycle(self, conn: AsyncConnection) -> CycleReport:
        s, report = self.settings, CycleReport()
        deadline = time.monotonic() + s.checkpoint_every_s
        while True:
            report.watermark = await store.global_watermark(conn, s.group_id)
            if report.watermark is None:
                break
            rows = await store.due_snapshots(conn, report.watermark, s.batch_size)
            if rows:
                await self._batch(conn, rows, report.watermark, report)
            if report.learned >= s.checkpoint_every_labels:
                break
            if report.learned and time.monotonic() >= deadline:
                break
            if not rows:
                if not report.learned:
                    break
                await asyncio.sleep(min(s.poll_s, max(0.0, deadline - time.monotonic())))
        changed = await self._vocabulary(conn, report)
        if report.learned or changed:
            report.checkpoint = await self._checkpoint(conn)
        if self.before_commit is not None:
            await self.before_commit()
        return report

    async def _batch(
        self,
        conn: AsyncConnection,
        rows: list[store.DueRow],
        watermark: datetime,
        report: CycleReport,
    ) -> None:
        state = self.state
        assert state is not None
        since = min(r.taken_at for r in rows) - self.resolver.treatment_lookback
        actions = await store.customer_actions(conn, sorted({r.customer_id for r in rows}), since)
        now = self.clock()
        learn: list[tuple[Label, Snapshot, store.DueRow]] = []
        skipped: list[dict[str, Any]] = []
        deferred: list[dict[str, Any]] = []
        for row in rows:
            key = {"customer_id": row.customer_id, "day": row.day}
            try:
                snap = snapshot_of(row.customer_id, row.taken_at, row.business_model, row.features)
                profile = None if row.profile is None else CustomerProfile.from_bytes(row.profile)
                decision = decide(
                    self.resolver,
                    snap,
                    profile,
                    watermark,
                    returned_at=row.returned_at,
                    actions=actions.get(row.customer_id, ()),
                )
            except ValueError as exc:  # a row the worker should not have written
                log.warning("snapshot skipped", extra={**key, "error": str(exc)})
                decision = Skipped(str(exc))
            if isinstance(decision, Resolved):
                learn.append((decision.label, snap, row))
            elif isinstance(decision, Deferred):
                deferred.append({**key, "due_at": decision.due_at})
            else:
                skipped.append({**key, "at": now})
        learn.sort(key=lambda item: (item[0].known_at, item[0].taken_at, item[0].customer_id))
        records: list[ModelRecord] = []
        for label, snap, _ in learn:
            records += state.learn_label(snap, label)
        await store.mark_resolved(
            conn,
            [
                {
                    "customer_id": row.customer_id,
                    "day": row.day,
                    "label": int(label.churned),
                    "treated": label.treated,
                    "resolved_at": now,
                }
                for label, _, row in learn
            ],
        )
        await store.mark_skipped(conn, skipped)
        await store.mark_deferred(conn, deferred)
        await store.insert_records(conn, [record_row(r) for r in records])
        report.learned += len(learn)
        report.skipped += len(skipped)
        report.deferred += len(deferred)
        report.records += records

    async def _vocabulary(self, conn: AsyncConnection, report: CycleReport) -> bool:
        """Every ``activities_every_s``: the pinned activity names, or the policy's pick from the
        last ``activities_window_days`` of volumes (older days deleted); True when the model's
        vocabulary changed, so the cycle publishes a checkpoint even without new labels."""
        s, state = self.settings, self.state
        assert state is not None
        now = time.monotonic()
        if self._vocab_checked is not None and now - self._vocab_checked < s.activities_every_s:
            return False
        watermark = report.watermark or await store.global_watermark(conn, s.group_id)
        if watermark is None:
            return False
        self._vocab_checked = now
        since = watermark.astimezone(UTC).date() - timedelta(days=s.activities_window_days - 1)
        await store.drop_activity_volumes(conn, since)
        vocab = s.pinned()
        if vocab is None:
            volumes = await store.activity_volumes(conn, since)
            vocab = s.vocabulary().choose(state.activities, volumes)
        records = state.set_activities(vocab, watermark)
        await store.insert_records(conn, [record_row(r) for r in records])
        report.records += records
        return bool(records)

    async def _checkpoint(self, conn: AsyncConnection) -> int:
        state = self.state
        assert state is not None
        at, quality = self.clock(), quality_json(state.quality())
        version = await store.insert_checkpoint(
            conn,
            keep=self.settings.checkpoint_keep,
            model_version=state.version,
            created_at=at,
            state=state.to_bytes(),
            serving=state.serving().to_bytes(),
            labels_seen=state.labels + state.skipped_treated,
            quality=quality,
        )
        # the quality history outlives the checkpoints kept (GET /v1/model draws it over time)
        detail = {**quality, "checkpoint": version}
        await store.insert_records(conn, [{"kind": "quality", "at": at, "detail": detail}])
        return version

    # -- CLV -----------------------------------------------------------------------------

    async def refit_clv(self, *, force: bool = False) -> ClvFit | None:
        """Refit BG/NBD + Gamma-Gamma when due (or ``force``); ``None`` when skipped."""
        conn, s = self._require(), self.settings
        now = time.monotonic()
        if not force and self._clv_checked is not None and now - self._clv_checked < _CLV_CHECK_S:
            return None
        self._clv_checked = now
        async with conn.begin():
            watermark = await store.global_watermark(conn, s.group_id)
            customers = await store.retail_customers(conn)
            elapsed = None if self._clv_at is None else now - self._clv_at
            due = clv_due(
                elapsed_s=elapsed,
                customers=customers,
                customers_at_last_fit=self._clv_customers,
                interval_s=s.clv_refit_s,
                growth=s.clv_growth,
            )
            if watermark is None or not (force or due):
                return None
            columns: list[list[float]] = [[], [], [], []]
            async for chunk in store.retail_stats_chunks(conn, s.clv_chunk):
                for stats in chunk:
                    for column, value in zip(columns, observe(stats, watermark), strict=True):
                        column.append(float(value))
        self._clv_at, self._clv_customers = now, customers
        try:
            fit = await asyncio.to_thread(
                fit_clv,
                *columns,
                min_customers=s.clv_min_customers,
                min_repeat=s.clv_min_repeat,
                penalizer=s.clv_penalizer,
            )
        except FitDidNotConverge as exc:
            log.warning("clv fit did not converge", extra={"error": str(exc)})
            return None
        if fit is None:
            log.info("clv refit skipped: too few customers", extra={"customers": customers})
            return None
        async with conn.begin():
            row_id = await store.insert_clv_params(
                conn,
                fitted_at=self.clock(),
                customers=fit.customers,
                bgnbd=fit.bgnbd_json(),
                gamma_gamma=fit.gamma_gamma_json(),
            )
        log.info("clv params fitted", extra={"id": row_id, "customers": fit.customers})
        return fit

    # -- population cut points ------------------------------------------------------------

    async def refresh_cuts(self) -> int | None:
        """A new ``population_cuts`` version when the global watermark entered a new UTC day
        (`cuts.due`): tiers and segments move at event-time points, not with a worker's history."""
        conn = self._require()
        async with conn.begin():
            pg = await raw_connection(conn)
            watermark = await store.global_watermark(conn, self.settings.group_id)
            if not cuts.due(await cuts.last_as_of(pg), watermark):
                return None
            return await cuts.publish(pg, self.settings.value_basis, watermark)

    # -- the loop ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Standby until the lock is ours, then cycle and refit until ``stop`` is set."""
        s = self.settings
        try:
            while not await self.try_acquire():
                log.info("standby: another learner holds the lock", extra={"key": s.lock_key})
                if await _wait(stop, s.standby_poll_s):
                    return
            log.info("learner active", extra={"checkpoint": self.checkpoint_version})
            last_status = time.monotonic()
            while not stop.is_set():
                report = await self.cycle()
                await self.refit_clv()
                await self.refresh_cuts()
                if time.monotonic() - last_status >= s.status_every_s:
                    last_status = time.monotonic()
                    self.log_status(report)
                if not (report.learned or report.deferred or report.skipped):
                    await _wait(stop, s.poll_s)
        finally:
            await self.close()

    def log_status(self, report: CycleReport) -> None:
        state = self.state
        log.info(
            "learner status",
            extra={
                "labels_learned": self.labels_learned,
                "labels_in_state": None if state is None else state.labels,
                "model_version": None if state is None else state.version,
                "checkpoint": self.checkpoint_version,
                "watermark": report.watermark,
            },
        )


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``stop``; True if stopped."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
