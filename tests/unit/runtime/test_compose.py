"""docker-compose.yml stays in step with the services `churnwatch run` knows (no Docker here,
so the file is checked as data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from churnwatch_runtime.registry import service_names

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"


def _services() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE.read_text())
    services: dict[str, Any] = doc["services"]
    return services


def test_every_built_service_runs_in_compose() -> None:
    run = {
        svc["command"][2]
        for svc in _services().values()
        if svc.get("command", [])[:2] == ["churnwatch", "run"]
    }
    assert run == set(service_names())


def test_services_wait_for_init_and_reach_kafka_and_postgres() -> None:
    services = _services()
    for name in ("ingest", "scoring", "learner", "alerts", "api"):
        svc = services[name]
        assert svc["depends_on"]["init"]["condition"] == "service_completed_successfully"
        assert svc["environment"]["CW_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert svc["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_the_demo_simulator_reads_actions_back() -> None:
    command = " ".join(_services()["simulator"]["command"]).split()
    assert command[command.index("--actions-from") + 1] == "kafka://kafka:9092/cw.actions"


def test_the_simulator_gets_an_ingest_key() -> None:
    command = " ".join(_services()["simulator"]["command"])
    assert "keys create --scopes events:write" in command
    assert "CW_INGEST_KEY" in command


def test_the_api_is_published_on_8000() -> None:
    api = _services()["api"]
    assert api["ports"] == ["127.0.0.1:8000:8000"]  # the host's loopback (docs/security.md)
    assert api["environment"]["CW_API_HOST"] == "0.0.0.0"
