"""The retention job: deletes expired history rows in small batches, never in one long DELETE.

Each batch is its own short transaction (``batch`` rows located by an index, then a pause), so
the job holds no lock for long, competes little with the workers, and can be stopped anywhere.
What expires is `churnwatch.storage.RetentionPolicy`; the rules that keep rows other code still
reads are in the statements below:

- ``label_snapshots``: resolved (learned or closed) ones only, and never a snapshot that is the
  retail return evidence of an earlier, still open snapshot of the same customer;
- ``score_history`` / ``lifecycle_transitions``: never a customer's newest row (the worker
  compares a new score with the last history entry; a customer's page shows the current stage);
- ``task_audit``: steps of closed tasks; ``webhook_deliveries``: delivered or dead ones;
  ``exposures``: resolved ones (the uplift report then covers the retention window).

Run by every learner process (``CW_RETENTION_EVERY_S``) and by ``python -m
churnwatch_runtime.retention [--once]`` (cron). Concurrent runs are harmless: a row deleted by
one is skipped by the other.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.storage.retention import RetentionPolicy
from churnwatch_runtime.settings import CommonSettings

__all__ = ["STATEMENTS", "RetentionSettings", "run_forever", "run_once"]

log = logging.getLogger("churnwatch.retention")

_NEWER = (
    "EXISTS (SELECT 1 FROM {t} n"
    " WHERE n.customer_id = x.customer_id AND n.event_time > x.event_time)"
)

STATEMENTS: dict[str, str] = {
    "label_snapshots": (
        "DELETE FROM label_snapshots WHERE ctid = ANY(ARRAY("
        "SELECT x.ctid FROM label_snapshots x WHERE x.resolved_at IS NOT NULL"
        " AND x.resolved_at <= :cut AND NOT EXISTS (SELECT 1 FROM label_snapshots o"
        " WHERE o.customer_id = x.customer_id AND o.resolved_at IS NULL AND o.day < x.day)"
        " LIMIT :n))"
    ),
    "score_history": (
        "DELETE FROM score_history WHERE id = ANY(ARRAY(SELECT x.id FROM score_history x"
        " WHERE x.event_time < :cut AND " + _NEWER.format(t="score_history") + " LIMIT :n))"
    ),
    "lifecycle_transitions": (
        "DELETE FROM lifecycle_transitions WHERE id = ANY(ARRAY(SELECT x.id FROM"
        " lifecycle_transitions x WHERE x.event_time < :cut AND "
        + _NEWER.format(t="lifecycle_transitions")
        + " LIMIT :n))"
    ),
    "task_audit": (
        "DELETE FROM task_audit WHERE id = ANY(ARRAY(SELECT x.id FROM task_audit x"
        " JOIN tasks t ON t.task_id = x.task_id WHERE x.at < :cut AND t.closed_at IS NOT NULL"
        " AND t.closed_at < :cut LIMIT :n))"
    ),
    "webhook_deliveries": (
        "DELETE FROM webhook_deliveries WHERE id = ANY(ARRAY(SELECT id FROM webhook_deliveries"
        " WHERE status <> 'pending' AND created_at < :cut LIMIT :n))"
    ),
    "exposures": (
        "DELETE FROM exposures WHERE action_id = ANY(ARRAY(SELECT action_id FROM exposures"
        " WHERE resolved_at IS NOT NULL AND resolved_at < :cut LIMIT :n))"
    ),
}


class RetentionSettings(CommonSettings):
    """``CW_RETENTION_*``: days per table (empty/``none``: keep forever) and batch pacing."""

    model_config = SettingsConfigDict(env_prefix="CW_RETENTION_", extra="ignore")

    label_snapshots_days: float | None = Field(7.0, ge=0, description="after being learned")
    score_history_days: float | None = Field(180.0, ge=0, description="event time")
    lifecycle_transitions_days: float | None = Field(365.0, ge=0, description="event time")
    task_audit_days: float | None = Field(365.0, ge=0, description="closed tasks' steps")
    webhook_deliveries_days: float | None = Field(30.0, ge=0, description="finished ones")
    exposures_days: float | None = Field(400.0, ge=0, description="resolved ones")
    batch: int = Field(2_000, ge=1, le=100_000, description="rows per DELETE transaction")
    pause_s: float = Field(0.05, ge=0, description="between batches: leave room for the workers")
    every_s: float = Field(600.0, gt=0, description="how often a learner process runs the job")
    group_id: str = Field("scoring", description="scoring group whose watermark is event time")

    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            label_snapshots=self.label_snapshots_days,
            score_history=self.score_history_days,
            lifecycle_transitions=self.lifecycle_transitions_days,
            task_audit=self.task_audit_days,
            webhook_deliveries=self.webhook_deliveries_days,
            exposures=self.exposures_days,
        )


async def _watermark(engine: AsyncEngine, group_id: str) -> datetime | None:
    async with engine.connect() as conn:
        return await conn.scalar(  # type: ignore[no-any-return]
            text("SELECT min(watermark) FROM partition_watermarks WHERE group_id = :g"),
            {"g": group_id},
        )


async def run_once(
    engine: AsyncEngine,
    settings: RetentionSettings,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    stop: asyncio.Event | None = None,
) -> dict[str, int]:
    """One pass over every table until nothing expired is left; rows deleted per table."""
    cuts = settings.policy().cutoffs(now(), await _watermark(engine, settings.group_id))
    deleted: dict[str, int] = {}
    for table, cut in cuts.items():
        deleted[table] = 0
        while stop is None or not stop.is_set():
            async with engine.begin() as conn:
                result = await conn.execute(
                    text(STATEMENTS[table]), {"cut": cut, "n": settings.batch}
                )
            count = int(getattr(result, "rowcount", 0) or 0)
            deleted[table] += count
            if count < settings.batch:
                break
            await asyncio.sleep(settings.pause_s)
    return deleted


async def run_forever(
    engine: AsyncEngine, settings: RetentionSettings, stop: asyncio.Event
) -> None:
    """`run_once` every ``every_s`` until ``stop``; a failed pass is logged and retried later."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            deleted = await run_once(engine, settings, stop=stop)
            if any(deleted.values()):
                log.info(
                    "retention pass",
                    extra={"deleted": deleted, "seconds": round(time.monotonic() - started, 2)},
                )
        except Exception:
            log.exception("retention pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.every_s)


def main(argv: list[str] | None = None) -> None:
    """``python -m churnwatch_runtime.retention [--once]``."""
    from churnwatch_runtime.db import make_engine
    from churnwatch_runtime.logs import configure_logging

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--once", action="store_true", help="one pass, print the counts, exit")
    args = parser.parse_args(argv)
    settings = RetentionSettings()
    configure_logging(settings.log_level, json=settings.log_json)

    async def _main() -> None:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            if args.once:
                sys.stdout.write(f"{await run_once(engine, settings)}\n")
            else:
                stop = asyncio.Event()
                await run_forever(engine, settings, stop)
        finally:
            await engine.dispose()

    asyncio.run(_main())


if __name__ == "__main__":
    main()
