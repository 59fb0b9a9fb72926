"""``churnwatch at-risk`` / ``churnwatch tasks`` piped: whole ids, --json and --csv, overdue marks
(on the real database; the CLI runs the same queries as ever, now exportable)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from churnwatch_runtime.cli import app
from tests.integration.api.seed import HOUR, add_scores, add_tasks, score_row, task_row

pytestmark = pytest.mark.integration
LONG = "C-0000000000001042-customer-with-a-long-id"


async def test_piped_tables_and_exports(
    db: AsyncEngine, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    await add_scores(db, score_row(LONG, var=900.0), score_row("C-2", var=100.0))
    await add_tasks(db, task_row("T-late", LONG, created=now - 30 * HOUR, due=now - 22 * HOUR),
                    task_row("T-fresh", "C-2", created=now, due=now + 8 * HOUR))  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    runner = CliRunner()

    table = runner.invoke(app, ["at-risk"])  # CliRunner is a pipe: 80 columns
    assert table.exit_code == 0, table.output
    assert LONG in table.output
    as_json = orjson.loads(runner.invoke(app, ["at-risk", "--json"]).output)
    assert [r["customer_id"] for r in as_json] == [LONG, "C-2"]
    assert as_json[0]["reasons"][0]["text"] == "no activity for 38 days"
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["at-risk", "--csv"]).output)))
    assert [r["customer_id"] for r in rows] == [LONG, "C-2"]
    both = runner.invoke(app, ["at-risk", "--csv", "--json"])
    assert both.exit_code != 0

    queue = await asyncio.to_thread(runner.invoke, app, ["tasks"])  # it runs its own loop
    assert queue.exit_code == 0, queue.output
    late_line = next(line for line in queue.output.splitlines() if "T-late" in line)
    assert "OVERDUE" in late_line
    assert LONG in queue.output
    assert "OVERDUE" not in next(ln for ln in queue.output.splitlines() if "T-fresh" in ln)
    exported = await asyncio.to_thread(runner.invoke, app, ["tasks", "--json"])
    tasks = {r["task_id"]: r for r in orjson.loads(exported.output)}
    assert (tasks["T-late"]["overdue"], tasks["T-fresh"]["overdue"]) == (True, False)
    assert "phone" not in tasks["T-late"]  # contact details only with --contact


async def test_queue_order_and_contacts_from_the_cli(
    db: AsyncEngine, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``churnwatch tasks`` lists in the queue's order (as the API does) and, with --contact,
    shows whom to call; each customer shown is audited with the operator's name."""
    from sqlalchemy import text

    from tests.integration.api.seed import scalar

    now = datetime.now(UTC)
    await add_tasks(db,
        task_row("T-new", "C-1", priority=4.0, created=now - HOUR, due=now + 7 * HOUR),
        task_row("T-old", "C-2", priority=4.0, created=now - 40 * HOUR, due=now - 32 * HOUR),
        task_row("T-top", "C-3", priority=8.0, created=now - HOUR, due=now + 7 * HOUR),
    )  # fmt: skip
    async with db.begin() as conn:
        await conn.execute(
            text("INSERT INTO customer_directory (customer_id, name, email, phone, updated_at)"
                 " VALUES ('C-2', 'Ada Berg', 'ada@example.com', '+46 8 123 456', :t)"),
            {"t": now},
        )  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    monkeypatch.setenv("CW_ACTOR", "ops-lena")
    runner = CliRunner()

    plain = await asyncio.to_thread(runner.invoke, app, ["tasks", "--json"])
    assert [r["task_id"] for r in orjson.loads(plain.output)] == ["T-top", "T-old", "T-new"]
    assert await scalar(db, "SELECT count(*) FROM api_audit WHERE action = 'pii.queue'") == 0

    table = await asyncio.to_thread(runner.invoke, app, ["tasks", "--contact"])
    assert table.exit_code == 0, table.output
    line = next(ln for ln in table.output.splitlines() if "T-old" in ln)
    assert "+46 8 123 456" in line
    assert "ada@example.com" in line
    rows = await asyncio.to_thread(runner.invoke, app, ["tasks", "--contact", "--csv"])
    by_id = {r["task_id"]: r for r in csv.DictReader(io.StringIO(rows.output))}
    assert (by_id["T-old"]["name"], by_id["T-new"]["phone"]) == ("Ada Berg", "")
    audited = await scalar(db, "SELECT string_agg(target || ':' || actor || ':'"
                           " || coalesce(key_id, '-'), ',') FROM api_audit"
                           " WHERE action = 'pii.queue'")  # fmt: skip
    assert audited == "C-2:ops-lena:-,C-2:ops-lena:-"  # one read per run, C-2 has details


async def test_uplift_so_far_and_agent_backlog_from_the_cli(
    db: AsyncEngine, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from churnwatch_alerts.cli import agents_app
    from churnwatch_alerts.playbook_cli import uplift_app
    from tests.integration.api.seed import add_exposure, scalar

    monkeypatch.setenv("DATABASE_URL", fresh_database)
    monkeypatch.setenv("CW_ACTOR", "lead")
    runner = CliRunner()
    empty = await asyncio.to_thread(runner.invoke, uplift_app, [])  # it runs its own loop
    assert "no exposure yet" in empty.output
    await add_exposure(db, "X-1", "C-1", arm="treated")
    await add_exposure(db, "X-2", "C-2", arm="control", churned=True)
    early = await asyncio.to_thread(runner.invoke, uplift_app, [])
    assert early.exit_code == 0, early.output
    line = next(ln for ln in early.output.splitlines() if "save_call_vip" in ln and "all" in ln)
    cells = [c.strip() for c in line.split("│")][3:9]
    # treated, control, resolved T, resolved C, churned T, churned C
    assert cells == ["1", "1", "0", "1", "0", "1"]

    await add_tasks(db, task_row("T-1", "C-1"), task_row("T-2", "C-2"))
    added = await asyncio.to_thread(
        runner.invoke, agents_app, ["add", "A-5", "--team", "save", "--max-open", "1"]
    )
    assert added.exit_code == 0, added.output
    assert "assigned 1 waiting task(s), 1 to A-5" in added.output
    assert await scalar(db, "SELECT count(*) FROM tasks WHERE assignee = 'A-5'") == 1
