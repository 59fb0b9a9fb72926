"""The retention job on a real migrated PostgreSQL: what expires goes, what is still read stays.

Rows are seeded with SQL as the services write them; `run_once` runs with a batch of 2, so every
table needs several DELETE transactions (the batching path, not one statement).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.storage import encode_features, feature_set_id
from churnwatch_runtime.retention import RetentionSettings, run_once

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 1, tzinfo=UTC)
WATERMARK = datetime(2025, 6, 1, tzinfo=UTC)  # event time lags the wall clock: a replay
DAY = timedelta(days=1)


def _settings(db: AsyncEngine, **days: float | None) -> RetentionSettings:
    values: dict[str, object] = {
        "database_url": db.url.render_as_string(hide_password=False),
        "batch": 2,
        "pause_s": 0.0,
        "group_id": "scoring",
        "label_snapshots_days": 0.0,
        "score_history_days": 30.0,
        "lifecycle_transitions_days": 30.0,
        "task_audit_days": 30.0,
        "webhook_deliveries_days": 7.0,
        "exposures_days": 30.0,
        **days,
    }
    return RetentionSettings(**values)  # type: ignore[arg-type]


async def _ids(db: AsyncEngine, sql: str) -> list[object]:
    async with db.connect() as conn:
        return sorted(r[0] for r in await conn.execute(text(sql)))


async def _seed_snapshots(db: AsyncEngine) -> None:
    names, vector = encode_features({"recency_days": 1.0})
    rows = [  # (customer, day offset, resolved)
        ("done", 0, True), ("done", 7, True),  # both learned: both go
        ("open", 0, False), ("open", 7, True),  # day 7 is evidence for the open day 0: kept
        ("later", 0, True), ("later", 7, False),  # day 0 learned, only a later one open: goes
    ]  # fmt: skip
    async with db.begin() as conn:
        await conn.execute(
            text("INSERT INTO label_feature_sets (id, names) VALUES (:i, :n)"),
            {"i": feature_set_id(names), "n": list(names)},
        )
        for customer, offset, resolved in rows:
            await conn.execute(
                text(
                    "INSERT INTO label_snapshots (customer_id, day, partition, taken_at,"
                    " feature_set, vector, business_model, label_due_at, label, resolved_at)"
                    " VALUES (:c, :d, 0, :t, :f, :v, 'retail', :t, :l, :r)"
                ),
                {
                    "c": customer,
                    "d": date(2025, 1, 1) + offset * DAY,
                    "t": datetime(2025, 1, 1, tzinfo=UTC) + offset * DAY,
                    "f": feature_set_id(names),
                    "v": vector,
                    "l": 0 if resolved else None,
                    "r": NOW - DAY if resolved else None,
                },
            )


async def _seed_history(db: AsyncEngine) -> None:
    old, recent = WATERMARK - 60 * DAY, WATERMARK - DAY
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO partition_watermarks VALUES ('scoring', 'cw.events', 0, :w),"
                " ('scoring', 'cw.events', 1, :w2)"
            ),
            {"w": WATERMARK, "w2": WATERMARK + 5 * DAY},  # the slowest partition counts
        )
        for customer, times in {
            "busy": [old, old + DAY, recent],
            "quiet": [old, old + DAY],
        }.items():
            for at in times:
                await conn.execute(
                    text(
                        "INSERT INTO score_history (customer_id, event_time, churn_probability,"
                        " band, clv, value_at_risk, model_version, why)"
                        " VALUES (:c, :t, 0.1, 'low', 1, 0.1, 'm', 'first')"
                    ),
                    {"c": customer, "t": at},
                )
                await conn.execute(
                    text(
                        "INSERT INTO lifecycle_transitions (customer_id, stage, event_time)"
                        " VALUES (:c, 'active', :t)"
                    ),
                    {"c": customer, "t": at},
                )


async def _seed_alerts(db: AsyncEngine) -> None:
    old, recent = NOW - 60 * DAY, NOW - DAY
    async with db.begin() as conn:
        for task, closed in (("t-closed", old), ("t-open", None), ("t-new", recent)):
            await conn.execute(
                text(
                    "INSERT INTO tasks (task_id, customer_id, playbook_id, playbook_version,"
                    " action_type, state, priority, value_at_risk, churn_probability, tier,"
                    " reasons, talking_points, created_at, closed_at, recover_band, team,"
                    " sla_due_at)"
                    " VALUES (:t, 'c', 'p', 1, 'call', :s, 1, 1, 0.5, 'gold', '[]', '[]',"
                    " :o, :c, 'low', 'retention', :o)"
                ),
                {"t": task, "s": "closed" if closed else "open", "o": old, "c": closed},
            )
            for at in (old, old + DAY):
                await conn.execute(
                    text(
                        "INSERT INTO task_audit (task_id, to_state, actor, at)"
                        " VALUES (:t, 'open', 'x', :a)"
                    ),
                    {"t": task, "a": at},
                )
        await conn.execute(
            text("INSERT INTO webhook_endpoints (id, url, secret) VALUES ('e', 'http://x', 's')")
        )
        for action, status, at in (
            ("a-old", "delivered", old), ("a-dead", "dead", old),
            ("a-pending", "pending", old), ("a-new", "delivered", recent),
        ):  # fmt: skip
            await conn.execute(
                text(
                    "INSERT INTO webhook_deliveries (action_id, endpoint_id, body, status,"
                    " attempts, next_attempt_at, created_at) VALUES (:a, 'e', '\\x00', :s, 1,"
                    " :t, :t)"
                ),
                {"a": action, "s": status, "t": at},
            )
        for action, resolved in (("x-old", old), ("x-open", None), ("x-new", recent)):
            await conn.execute(
                text(
                    "INSERT INTO exposures (action_id, customer_id, playbook_id,"
                    " playbook_version, arm, trigger_key, exposed_at, segment,"
                    " churn_probability, clv, value_at_risk, churned, resolved_at)"
                    " VALUES (:a, 'c', 'p', 1, 'treated', 'k', :e, 'gold', 0.5, 1, 1, :ch, :r)"
                ),
                {"a": action, "e": old, "ch": None if resolved is None else False, "r": resolved},
            )


async def test_retention_deletes_expired_rows_in_batches_and_keeps_what_is_still_read(
    db: AsyncEngine,
) -> None:
    await _seed_snapshots(db)
    await _seed_history(db)
    await _seed_alerts(db)

    deleted = await run_once(db, _settings(db), now=lambda: NOW)

    assert deleted == {
        "label_snapshots": 3,
        "score_history": 3,
        "lifecycle_transitions": 3,
        "task_audit": 2,
        "webhook_deliveries": 2,
        "exposures": 1,
    }
    assert await _ids(db, "SELECT customer_id || ':' || day FROM label_snapshots") == [
        "later:2025-01-08", "open:2025-01-01", "open:2025-01-08",
    ]  # fmt: skip
    # busy keeps its recent row; quiet keeps its newest (old) one: the worker compares with it
    for table in ("score_history", "lifecycle_transitions"):
        kept = await _ids(db, f"SELECT customer_id || ':' || event_time::date FROM {table}")
        assert kept == ["busy:2025-05-31", "quiet:2025-04-03"], table
    assert await _ids(db, "SELECT DISTINCT task_id FROM task_audit") == ["t-new", "t-open"]
    assert await _ids(db, "SELECT action_id FROM webhook_deliveries") == ["a-new", "a-pending"]
    assert await _ids(db, "SELECT action_id FROM exposures") == ["x-new", "x-open"]

    again = await run_once(db, _settings(db), now=lambda: NOW)
    assert set(again.values()) == {0}


async def test_retention_none_keeps_a_table_and_no_watermark_keeps_event_time_tables(
    db: AsyncEngine,
) -> None:
    await _seed_alerts(db)
    await _seed_snapshots(db)
    deleted = await run_once(
        db, _settings(db, exposures_days=None, label_snapshots_days=2.0), now=lambda: NOW
    )
    assert "exposures" not in deleted
    assert "score_history" not in deleted
    assert deleted["label_snapshots"] == 0  # resolved a day ago, kept two
    assert len(await _ids(db, "SELECT action_id FROM exposures")) == 3
