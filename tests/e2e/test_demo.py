"""``churnwatch demo`` as a user runs it: infra, services and simulated customers, all real.

The demo runs in its own process with its own broker and database (``CW_INFRA=local`` on free
ports under a temporary ``CW_HOME``), for a short while; then the test reads what reached
``cw.events`` with a plain Kafka consumer and stops the infrastructure with the CLI. The history
the demo replays before going live is kept short (``CW_DEMO_HISTORY_DAYS``, the demo's own
environment variable) so the test stays quick; its events come first, in event time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from churnwatch.events import parse_event
from churnwatch.messages import decode_action
from churnwatch.privacy import strip_sealed
from churnwatch_runtime.infra._proc import free_port
from churnwatch_runtime.infra.postgres import with_local_password
from churnwatch_runtime.kafka import make_consumer
from churnwatch_runtime.views import fetch

pytestmark = pytest.mark.integration

HISTORY_DAYS = 14


@pytest.fixture
def demo_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    kafka_port = free_port()
    env = {
        **os.environ,
        "CW_HOME": str(tmp_path / "home"),
        "CW_INFRA": "local",
        "CW_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}",
        "DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/churnwatch",
        # every port the demo opens, so it never meets a demo or test of someone else
        "CW_INGEST_PORT": str(free_port()),
        "CW_INGEST_RAW_METRICS_PORT": str(free_port()),
        "CW_SCORING_PORT": str(free_port()),
        "CW_ALERTS_PORT": str(free_port()),
        "CW_API_PORT": str(free_port()),
        "CW_DEMO_HISTORY_DAYS": str(HISTORY_DAYS),
    }
    yield env
    cli = [sys.executable, "-m", "churnwatch_runtime.cli", "infra", "down"]
    subprocess.run(cli, env=env, check=False, timeout=120)


async def test_the_demo_streams_simulated_customers_through_ingest(
    demo_env: dict[str, str],
) -> None:
    cmd = [sys.executable, "-m", "churnwatch_runtime.cli", "demo", "--seconds", "20"]
    cmd += ["--rate", "100", "--customers", "300"]
    started = datetime.now(UTC)
    done = subprocess.run(cmd, env=demo_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ingest: running" in done.stdout
    assert "demo is running" in done.stdout
    banner = done.stdout.split("demo is running")[1]
    assert f"{HISTORY_DAYS} days" in banner
    assert "api: running" in done.stdout
    assert f"http://127.0.0.1:{demo_env['CW_API_PORT']}/" in banner  # the dashboard
    assert "admin key       cwk_" in banner
    assert "agent A-1 key cwk_" in banner
    assert "restarted" in banner  # the supervisor's promise is on the banner
    state = orjson.loads((Path(demo_env["CW_HOME"]) / "demo" / "state.json").read_bytes())
    assert (state["seed"], state["customers"]) == (7, 300)  # what a second demo resumes

    consumer = make_consumer(demo_env["CW_KAFKA_BOOTSTRAP"], "cw.events", group_id="e2e-demo")
    await consumer.start()
    values: list[bytes] = []
    try:
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=1000)
            got = [
                strip_sealed(r.value) for rs in batch.values() for r in rs if r.value is not None
            ]
            if not got and values:
                break
            values += got
    finally:
        await consumer.stop()
    # the history, then ~100 events/s for 20 s: allow for the start-up and the broker's pace
    assert len(values) >= 500
    # partition by partition, so the first and last in event time, not in reading order
    occurred = sorted(parse_event(v, now=_far()).occurred_at for v in values)
    times = [occurred[0], occurred[-1]]
    today = datetime.combine(started.date(), datetime.min.time(), tzinfo=UTC)
    assert today - timedelta(days=HISTORY_DAYS) <= times[0] < today  # the replayed past
    assert started <= times[1] <= datetime.now(UTC)  # then live, on the wall clock
    customers = set()
    for value in values[:500]:
        event = parse_event(value, now=parse_event(values[-1], now=_far()).occurred_at)
        customers.add(event.customer_id)
    assert len(customers) > 10
    # the local PostgreSQL needs its password (SCRAM), kept under the demo's CW_HOME
    db_url = with_local_password(demo_env["DATABASE_URL"], Path(demo_env["CW_HOME"]) / "postgres")
    keys = fetch(db_url, "SELECT name, scopes, agent_id FROM api_keys")
    assert {(k["name"], k["agent_id"]) for k in keys} == {
        ("demo-admin", None), ("demo-agent", "A-1"), ("demo-simulator", None)
    }  # fmt: skip
    log = Path(demo_env["CW_HOME"]) / "logs" / "simulator.log"
    assert "rejected 0" in log.read_text()
    assert orjson.loads(values[0])["schema_version"] == 1

    # scoring ran in the demo too: every customer seen has a live score with a band
    scored = fetch(db_url, "SELECT band, count(*) AS n FROM latest_scores GROUP BY 1")
    assert sum(r["n"] for r in scored) > 10
    assert {r["band"] for r in scored} <= {"low", "medium", "high", "critical"}

    # alerts acted on the scores: tasks in the database, actions on cw.actions. A save-team
    # call needs a gold or platinum customer (the learner's population cuts) and more history
    # than this short window; not asserted here.
    tasks = fetch(db_url, "SELECT task_id, team, action_type FROM tasks")
    decoded = [decode_action(v) for v in await _read(demo_env["CW_KAFKA_BOOTSTRAP"], "cw.actions")]
    assert tasks, "no task in the tasks table"
    assert decoded, "no action on cw.actions"
    assert {t["task_id"] for t in tasks} <= {a.action_id for a in decoded}  # each one sent
    assert {"offer", *(t["action_type"] for t in tasks)} <= {a.action_type for a in decoded}

    wide = {**demo_env, "COLUMNS": "200"}  # a terminal's width: rich wraps headers at 80
    for view in ("at-risk", "tasks"):
        cli = [sys.executable, "-m", "churnwatch_runtime.cli", view, "--limit", "5"]
        shown = subprocess.run(cli, env=wide, capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stderr
        assert "customer" in shown.stdout


async def _read(bootstrap: str, topic: str) -> list[bytes]:
    """Every value on ``topic`` (the demo has stopped: nothing more comes)."""
    consumer = make_consumer(bootstrap, topic, group_id=f"e2e-{topic}")
    await consumer.start()
    values: list[bytes] = []
    try:
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=1000)
            got = [r.value for rs in batch.values() for r in rs if r.value is not None]
            if not got and values:
                break
            values += got
    finally:
        await consumer.stop()
    return values


def _far() -> datetime:
    return datetime(2100, 1, 1, tzinfo=UTC)
