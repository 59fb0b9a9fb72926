"""The uplift job's pure parts: when an exposed customer counts as churned, the report rows,
the insert statement, the settings, and a job loop that survives a failing run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import Exposure, Rate, uplift_reports
from churnwatch.profile import CustomerProfile
from churnwatch_alerts import (
    AlertsSettings,
    ExpiryConfig,
    ExpiryJob,
    UpliftConfig,
    UpliftJob,
    churned_by,
    resolvable_at,
)
from churnwatch_alerts.store.uplift import _COLUMNS, _INSERT
from churnwatch_alerts.uplift import churned_from_stage, report_rows
from churnwatch_runtime.db import make_engine

END = datetime(2026, 6, 1, tzinfo=UTC)


def at(days_before_end: float) -> int:
    return int((END - timedelta(days=days_before_end)).timestamp())


def sub(*, active_at: int | None = None, **fields: Any) -> CustomerProfile:
    """A subscriber active since ``active_at`` (100 days before the end unless told)."""
    active = at(100) if active_at is None else active_at
    return CustomerProfile(subscription=True, sub_active_at=active, first_seen=at(100), **fields)


@pytest.mark.parametrize(
    ("name", "profile", "churned", "lapse_after"),
    [
        ("retail, last active before the end (silent since)", CustomerProfile(last_activity=at(1)),
         True, True),
        ("retail, active after the end", CustomerProfile(last_activity=at(-1)), False, True),
        ("retail, silent long before", CustomerProfile(last_activity=at(300)), True, True),
        ("retail, never active: silence counts from first seen",
         CustomerProfile(first_seen=at(120)), True, True),
        ("nothing known", CustomerProfile(), False, True),
        ("erased before the end", CustomerProfile(erased=True, erased_at=at(3)), True, False),
        ("erased after the end", CustomerProfile(erased=True, erased_at=at(-3)), False, False),
        ("cancellation decided in the horizon",
         sub(cancel_at=at(10), last_activity=at(11)), True, False),
        ("decided in the horizon, effective only after the end (a pending cancellation)",
         sub(cancel_at=at(10), cancel_effective=at(-5), last_activity=at(-2)), True, False),
        ("cancellation decided after the end",
         sub(cancel_at=at(-2), last_activity=at(-2)), False, False),
        ("cancelled, then a new start (active again)",
         sub(active_at=at(5), cancel_at=at(10), last_activity=at(5)), False, False),
        ("ended, back after the end and active since: judged as retail",
         sub(cancel_at=at(50), last_activity=at(-20)), False, True),
        ("active subscription", sub(last_activity=at(200)), False, False),
    ],
)  # fmt: skip
def test_churned_by(name: str, profile: CustomerProfile, churned: bool, lapse_after: bool) -> None:
    assert churned_by(profile, END) is churned, name
    wait = resolvable_at(profile, END, lapse_days=90) - END
    assert wait == (timedelta(days=90) if lapse_after else timedelta(0)), name


def test_a_retail_outcome_waits_for_the_lapse_window_it_is_given() -> None:
    quiet = CustomerProfile(last_activity=at(40))
    assert resolvable_at(quiet, END, lapse_days=30) == END + timedelta(days=30)
    assert churned_by(quiet, END)


@pytest.mark.parametrize(
    ("stage", "churned"),
    [("churned", True), ("lapsed", True), ("at_risk", False), ("reactivated", False), (None, None)],
)
def test_churned_from_stage(stage: str | None, churned: bool | None) -> None:
    assert churned_from_stage(stage) is churned


def test_report_rows_line_up_with_the_insert_columns() -> None:
    rows = [Exposure("pb", "gold", "treated", i < 3, 10.0) for i in range(12)]
    rows += [Exposure("pb", "gold", "control", i < 6) for i in range(12)]
    rows += [Exposure("pb", "silver", "treated", False)]  # no control arm: no interval
    reports = uplift_reports(rows)
    out = report_rows(reports, {("pb", "all"): Rate(1, 2)}, {("pb", "gold"): Rate(3, 4)})
    assert all(len(r) == len(_COLUMNS) for r in out)
    assert _INSERT.count("$") == 3 + len(_COLUMNS)
    named = [dict(zip([c for c, _ in _COLUMNS], r, strict=True)) for r in out]
    by = {r["segment"]: r for r in named}
    gold = by["gold"]
    want = next(r for r in reports if r.segment == "gold")
    assert want.uplift is not None
    assert (gold["treated"], gold["control"], gold["churned_treated"]) == (12, 12, 3)
    assert gold["churned_control"] == 6
    assert (gold["uplift"], gold["uplift_low"]) == (want.uplift.estimate, want.uplift.low)
    assert gold["uplift"] == pytest.approx(0.25)
    assert (gold["sla_attainment"], gold["tasks_in_sla"], gold["tasks_due"]) == (0.75, 3, 4)
    assert (gold["raw_save_rate"], gold["tasks_closed"]) == (None, 0)
    assert (by["all"]["raw_save_rate"], by["all"]["tasks_won"]) == (0.5, 1)
    silver = by["silver"]
    assert (silver["treated"], silver["control"], silver["uplift"]) == (1, 0, None)
    assert silver["churn_control"] is None


def test_settings_build_the_job_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CW_ALERTS_UPLIFT_HORIZON_DAYS", "14")
    monkeypatch.setenv("CW_ALERTS_UPLIFT_WATERMARK_GROUP", "")
    cfg = AlertsSettings().uplift_config()
    assert (cfg.horizon, cfg.watermark_group, cfg.lapse_days) == (timedelta(days=14), None, 90)
    assert UpliftConfig().horizon == timedelta(days=30)


@pytest.mark.parametrize("make", [
    lambda e: UpliftJob(e, UpliftConfig(interval_s=0.05)),
    lambda e: ExpiryJob(e, ExpiryConfig(interval_s=0.05)),
], ids=["uplift", "expiry"])  # fmt: skip
async def test_a_failing_run_is_logged_and_the_job_keeps_going(
    caplog: pytest.LogCaptureFixture, make: Callable[[AsyncEngine], UpliftJob | ExpiryJob]
) -> None:
    engine = make_engine("postgresql+asyncpg://cw:cw@127.0.0.1:9/nowhere")  # nothing listens
    job = make(engine)
    stop = asyncio.Event()
    caplog.set_level(logging.ERROR, logger="churnwatch_alerts")
    task = asyncio.create_task(job.run(stop))
    for _ in range(200):
        await asyncio.sleep(0.02)
        if len(caplog.records) >= 2:
            break
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    await engine.dispose()
    assert len(caplog.records) >= 2  # retried after the first failure
    assert job.last is None
    assert all("retrying" in r.getMessage() for r in caplog.records)
    assert all("retrying" in r.getMessage() for r in caplog.records)
