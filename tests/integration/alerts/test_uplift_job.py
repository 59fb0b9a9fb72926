"""The uplift job on the real database: exposures resolved over the horizon from the profiles
(or the last score's stage), exact counts, and stored reports equal to
`churnwatch.alerts.uplift_reports` computed directly on the expected outcomes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import Exposure, TaskState, raw_save_rate, sla_attainment, uplift_reports
from churnwatch.profile import CustomerProfile
from churnwatch_alerts.uplift import UpliftConfig, run_once
from churnwatch_runtime.db import raw_connection

pytestmark = pytest.mark.integration
W = datetime(2026, 6, 1, tzinfo=UTC)  # the scoring watermark (min over partitions)
DAY = timedelta(days=1)
RUN_AT = datetime(2026, 6, 2, 12, tzinfo=UTC)


def ts(at: datetime) -> int:
    return int(at.timestamp())


@dataclass(frozen=True)
class Case:
    """A kind of exposed customer: its profile (or last stage) and the expected outcome."""

    name: str
    profile: CustomerProfile | None
    stage: str | None
    churned: bool | None  # None: stays unresolved
    retail: bool = False  # judged after the lapse window too: exposed longer ago


RETAIL_AGE = 130  # days before the watermark: the horizon (30) and the lapse window (90) passed


def cases(exposed: datetime) -> list[Case]:
    end = exposed + 30 * DAY
    seen = ts(exposed - 200 * DAY)

    def sub(**fields: Any) -> CustomerProfile:
        active = ts(exposed - 60 * DAY)
        return CustomerProfile(subscription=True, sub_active_at=active, first_seen=seen, **fields)

    return [
        Case(
            "sub-cancelled",
            sub(cancel_at=ts(exposed + 5 * DAY), last_activity=ts(exposed + 4 * DAY)),
            None,
            True,
        ),
        Case(
            "sub-cancel-after-horizon",
            sub(cancel_at=ts(end + 3 * DAY), last_activity=ts(end)),
            None,
            False,
        ),
        Case("sub-active", sub(last_activity=ts(end)), None, False),
        Case(
            "sub-cancel-effective-after-horizon",  # decided in the horizon: the save failed
            sub(
                cancel_at=ts(exposed + 20 * DAY),
                cancel_effective=ts(end + 20 * DAY),
                last_activity=ts(end + 10 * DAY),
            ),
            None,
            True,
        ),
        Case(
            "retail-lapsed",
            CustomerProfile(first_seen=seen, last_activity=ts(end - 95 * DAY)),
            None,
            True,
            retail=True,
        ),
        Case(
            "retail-stopped-in-horizon",  # active after the exposure, then silent for good
            CustomerProfile(first_seen=seen, last_activity=ts(exposed + 10 * DAY)),
            None,
            True,
            retail=True,
        ),
        Case(
            "retail-active",
            CustomerProfile(first_seen=seen, last_activity=ts(end + 40 * DAY)),
            None,
            False,
            retail=True,
        ),
        Case(
            "erased",
            CustomerProfile(first_seen=seen, erased=True, erased_at=ts(exposed + 2 * DAY)),
            None,
            True,
        ),
        Case("score-lapsed", None, "lapsed", True),
        Case("score-active", None, "active", False),
        Case("unknown", None, None, None),
    ]


async def seed(engine: AsyncEngine) -> tuple[list[Exposure], dict[str, bool | None]]:
    """Exposures of two playbooks and two tiers, arms and outcomes varied on purpose; returns
    the exposures that must be resolved (as domain objects) and the expected churned per id."""
    expected_rows: list[Exposure] = []
    expected: dict[str, bool | None] = {}
    exposures: list[tuple[Any, ...]] = []
    profiles: list[tuple[str, bytes]] = []
    scores: list[tuple[str, str]] = []
    n = 0
    for playbook in ("save_call_vip", "service_recovery"):
        for tier in ("gold", "platinum"):
            for arm in ("treated", "control"):
                for k in range(3 if arm == "treated" else 1):
                    recent, old = W - (40 + 3 * k) * DAY, W - (RETAIL_AGE + 3 * k) * DAY
                    for exposed, case in [
                        *((recent, c) for c in cases(recent) if not c.retail),
                        *((old, c) for c in cases(old) if c.retail),
                    ]:
                        if playbook == "service_recovery" and case.name.startswith("sub-c"):
                            continue  # makes the playbooks' rates differ
                        n += 1
                        cid, action = f"C-{n}", f"act-{n}"
                        clv = 100.0 + n
                        exposures.append((action, cid, playbook, arm, exposed, tier, clv))
                        expected[action] = case.churned
                        if case.profile is not None:
                            profiles.append((cid, case.profile.to_bytes()))
                        if case.stage is not None:
                            scores.append((cid, case.stage))
                        if case.churned is not None:
                            expected_rows.append(Exposure(playbook, tier, arm, case.churned, clv))
    # too recent: the horizon has not passed by the watermark (would count as churned)
    n += 1
    lapsed = CustomerProfile(first_seen=ts(W - 400 * DAY), last_activity=ts(W - 300 * DAY))
    exposures.append((f"act-{n}", f"C-{n}", "save_call_vip", "treated", W - 29 * DAY, "gold", 1.0))
    profiles.append((f"C-{n}", lapsed.to_bytes()))
    expected[f"act-{n}"] = None
    # retail, horizon passed but not the lapse window after it: not judged yet
    n += 1
    exposures.append((f"act-{n}", f"C-{n}", "save_call_vip", "treated", W - 60 * DAY, "gold", 1.0))
    profiles.append((f"C-{n}", lapsed.to_bytes()))
    expected[f"act-{n}"] = None
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        await pg.executemany(
            "INSERT INTO exposures (action_id, customer_id, playbook_id, playbook_version, arm,"
            " trigger_key, exposed_at, segment, churn_probability, clv, value_at_risk)"
            " VALUES ($1, $2, $3, 1, $4, 'k', $5, $6, 0.5, $7, 1.0)",
            exposures,
        )
        await pg.executemany(
            "INSERT INTO customer_profiles (customer_id, partition, state, updated_at)"
            " VALUES ($1, 0, $2, now())",
            profiles,
        )
        await pg.executemany(
            "INSERT INTO latest_scores (customer_id, partition, churn_probability, band, reasons,"
            " clv, tier, lifecycle_stage, value_at_risk, business_model, model_version,"
            " event_time, cause, updated_at) VALUES ($1, 0, 0.5, 'high', '[]', 0, 'gold', $2,"
            " 0, 'retail', 'prior-v1', now(), 'silence', now())",
            scores,
        )
        await pg.executemany(
            "INSERT INTO partition_watermarks (group_id, topic, partition, watermark)"
            " VALUES ($1, 'cw.events', $2, $3)",
            [("scoring", 0, W), ("scoring", 1, W + 5 * DAY), ("old-bench", 0, W - 300 * DAY)],
        )
    return expected_rows, expected


TASKS = [  # (playbook, tier, state, due, first contact)
    ("save_call_vip", "gold", "won", W - 10 * DAY, W - 11 * DAY),
    ("save_call_vip", "gold", "lost", W - 9 * DAY, W - 8 * DAY),
    ("save_call_vip", "platinum", "won", W - 8 * DAY, W - 9 * DAY),
    ("save_call_vip", "platinum", "expired", W - 7 * DAY, None),
    ("save_call_vip", "platinum", "open", W + 1 * DAY, None),  # due after the watermark
    ("service_recovery", "gold", "no_contact", W - 5 * DAY, None),
]


async def seed_tasks(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        await pg.executemany(
            "INSERT INTO tasks (task_id, customer_id, playbook_id, playbook_version, action_type,"
            " state, priority, value_at_risk, churn_probability, tier, reasons, talking_points,"
            " team, sla_due_at, created_at, first_contact_at, recover_band)"
            " VALUES ($1, $1, $2, 1, 'save_call', $4, 1, 1, 0.5, $3, '[]', '[]', 't',"
            " $5::timestamptz, $5::timestamptz - interval '8 hours', $6, 'high')",
            [(f"T-{i}", *task) for i, task in enumerate(TASKS)],
        )


async def fetch(engine: AsyncEngine, sql: str, *args: Any) -> list[Any]:
    async with engine.connect() as conn:
        pg = await raw_connection(conn)
        return list(await pg.fetch(sql, *args))


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    )


async def test_the_job_resolves_exposures_and_stores_the_reports_uplift_reports_gives(
    db: AsyncEngine,
) -> None:
    assert (await run_once(db, UpliftConfig())).status == "no_watermark"
    rows, expected = await seed(db)
    await seed_tasks(db)

    run = await run_once(db, UpliftConfig(), now=RUN_AT)

    assert run.status == "done"
    assert run.watermark == W  # min over the scoring group's partitions only
    assert run.resolved == len(rows) == sum(v is not None for v in expected.values())
    stored = dict(await fetch(db, "SELECT action_id, churned FROM exposures"))
    assert stored == expected
    resolved_at = await fetch(
        db, "SELECT DISTINCT resolved_at FROM exposures WHERE churned IS NOT NULL"
    )
    assert [r[0] for r in resolved_at] == [W]

    reports = {(r.playbook_id, r.segment): r for r in uplift_reports(rows)}
    saved = await fetch(db, "SELECT * FROM uplift_reports WHERE computed_at = $1", RUN_AT)
    assert {(r["playbook_id"], r["segment"]) for r in saved} == set(reports)
    assert len(saved) == 2 * 3  # two playbooks x (gold, platinum, all)
    for row in saved:
        want = reports[(row["playbook_id"], row["segment"])]
        assert (row["treated"], row["control"]) == (want.treated, want.control)
        assert want.uplift is not None
        assert want.customers_saved is not None
        assert want.value_saved is not None
        assert row["churned_treated"] == round((want.churn_treated or 0) * want.treated)
        assert close(row["churn_treated"], want.churn_treated)
        assert close(row["churn_control"], want.churn_control)
        interval = (row["uplift"], row["uplift_low"], row["uplift_high"])
        assert all(close(a, b) for a, b in zip(interval, (want.uplift.estimate,
                   want.uplift.low, want.uplift.high), strict=True))  # fmt: skip
        assert close(row["customers_saved_high"], want.customers_saved.high)
        assert close(row["value_saved"], want.value_saved.estimate)
        assert row["watermark"] == W
        assert row["horizon_days"] == 30

    by_key = {(r["playbook_id"], r["segment"]): r for r in saved}
    vip = by_key[("save_call_vip", "all")]
    tasks = [t for t in TASKS if t[0] == "save_call_vip"]
    saves = raw_save_rate(TaskState(t[2]) for t in tasks)
    sla = sla_attainment([(t[3], t[4]) for t in tasks], datetime.min.replace(tzinfo=UTC), W)
    assert (vip["tasks_won"], vip["tasks_closed"]) == (saves.numerator, saves.denominator) == (2, 4)
    assert vip["raw_save_rate"] == saves.value == 0.5
    assert (vip["tasks_in_sla"], vip["tasks_due"]) == (sla.numerator, sla.denominator) == (2, 4)
    gold = by_key[("service_recovery", "gold")]
    assert (gold["tasks_won"], gold["tasks_closed"], gold["raw_save_rate"]) == (0, 1, 0.0)
    assert by_key[("service_recovery", "platinum")]["raw_save_rate"] is None  # no tasks

    # a second run resolves nothing new and stores an identical report set under a new stamp
    again = await run_once(db, UpliftConfig(), now=RUN_AT + DAY)
    assert (again.status, again.resolved) == ("done", 0)
    latest = await fetch(
        db, "SELECT playbook_id, segment, uplift, treated FROM uplift_reports WHERE computed_at ="
        " (SELECT max(computed_at) FROM uplift_reports) ORDER BY 1, 2",
    )  # fmt: skip
    first = sorted((r["playbook_id"], r["segment"], r["uplift"], r["treated"]) for r in saved)
    assert [tuple(r) for r in latest] == first


async def test_a_second_instance_skips_while_the_job_runs_elsewhere(db: AsyncEngine) -> None:
    cfg = UpliftConfig()
    async with db.begin() as conn:
        pg = await raw_connection(conn)
        assert await pg.fetchval("SELECT pg_try_advisory_xact_lock($1)", cfg.lock_key)
        assert (await run_once(db, cfg)).status == "skipped"
    assert (await run_once(db, cfg)).status == "no_watermark"
