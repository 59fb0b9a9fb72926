"""A default install listens on loopback only; Docker publishes on the host's loopback only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic_settings import BaseSettings

from churnwatch_alerts.settings import AlertsSettings
from churnwatch_api.settings import ApiSettings
from churnwatch_ingest.settings import IngestSettings
from churnwatch_runtime.settings import CommonSettings
from churnwatch_scoring.settings import ScoringSettings

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("settings", "port"),
    [(ApiSettings, 8000), (IngestSettings, 8001), (AlertsSettings, 8002), (ScoringSettings, 8003)],
)
def test_every_service_binds_loopback_unless_told(
    settings: type[BaseSettings], port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CW_API_HOST", "CW_INGEST_HOST", "CW_ALERTS_HOST", "CW_SCORING_HOST"):
        monkeypatch.delenv(name, raising=False)
    made = settings()
    assert (made.host, made.port) == ("127.0.0.1", port)  # type: ignore[attr-defined]


def test_no_service_source_defaults_to_every_interface() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "services").rglob("*.py")
        if '"0.0.0.0"' in path.read_text() and "static" not in path.parts
    ]
    assert offenders == []


def test_metrics_need_a_key_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CW_METRICS_AUTH", raising=False)
    assert CommonSettings().metrics_auth is True
    monkeypatch.setenv("CW_METRICS_AUTH", "off")
    assert ScoringSettings().metrics_auth is False


def test_compose_publishes_ports_on_the_hosts_loopback_only() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    published = [p for svc in services.values() for p in svc.get("ports", [])]
    assert published  # the HTTP services are reachable from the host...
    assert all(p.startswith("127.0.0.1:") for p in published), published  # ...from it alone
