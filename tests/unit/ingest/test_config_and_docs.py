"""Settings precedence, the exported API, and the OpenAPI document of the ingest app."""

from __future__ import annotations

from datetime import timedelta

import pytest

import churnwatch_ingest
from churnwatch_ingest import IngestSettings, create_app
from churnwatch_ingest.schemas import IngestResponse, event_components, response_examples


def test_shared_settings_keep_their_cw_names_and_own_knobs_use_cw_ingest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CW_KAFKA_BOOTSTRAP", "kafka.example:9092")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/cw")
    monkeypatch.setenv("CW_INGEST_MAX_BATCH", "50")
    monkeypatch.setenv("CW_INGEST_DEDUP_WINDOW", "P1D")
    settings = IngestSettings()
    assert settings.kafka_bootstrap == "kafka.example:9092"
    assert settings.database_url == "postgresql://db.example/cw"
    assert settings.max_batch == 50
    assert settings.dedup_window == timedelta(days=1)
    assert IngestSettings(max_batch=7).max_batch == 7


def test_exported_members() -> None:
    expected = {"IngestMetrics", "IngestSettings", "create_app", "run_raw_validator"}
    assert set(churnwatch_ingest.__all__) == expected
    assert all(callable(getattr(churnwatch_ingest, name)) for name in expected)


def test_openapi_is_complete_and_every_ref_resolves() -> None:
    doc = create_app(IngestSettings(max_batch=123)).openapi()
    post = doc["paths"]["/v1/events"]["post"]
    body = post["requestBody"]["content"]["application/json"]
    assert body["schema"]["oneOf"][1]["maxItems"] == 123
    assert {"single", "batch", "mixed"} <= set(body["examples"])
    assert {"200", "207", "413", "422", "503"} <= set(post["responses"])
    schemas = doc["components"]["schemas"]
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" or (isinstance(value, str) and value.startswith("#/")):
                    refs.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    missing = {r for r in refs if r.removeprefix("#/components/schemas/") not in schemas}
    assert missing == set()
    assert "/v1/schema/events" in doc["paths"]
    assert {"/healthz", "/readyz", "/metrics"} <= set(doc["paths"])


def test_documented_examples_match_the_response_model() -> None:
    for example in response_examples().values():
        IngestResponse.model_validate(example)
    assert "Event" in event_components()
