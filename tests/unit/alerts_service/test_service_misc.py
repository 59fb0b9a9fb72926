"""Score decoding, default playbook rows, settings and the package's exports."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import orjson

import churnwatch_alerts
from churnwatch.alerts import default_playbooks
from churnwatch_alerts import AlertsSettings, default_rows, parse_score
from churnwatch_alerts.playbooks import parse_playbooks_from_yaml
from tests.unit.alerts.support import score


def record(value: bytes, headers: list[tuple[str, bytes]] | None = None) -> SimpleNamespace:
    return SimpleNamespace(topic="s", partition=0, offset=1, key=b"C-1", value=value,
                           headers=headers or [])  # fmt: skip


def test_parse_score_takes_the_message_id_and_rejects_garbage():
    doc = score()
    parsed = parse_score(record(orjson.dumps(doc), [("cw-msg-id", b"score:C-1:e-1")]))
    assert parsed is not None
    assert (parsed.score_id, parsed.customer_id, parsed.event_time.isoformat()) == (
        "score:C-1:e-1", "C-1", "2026-03-10T00:00:00+00:00",
    )  # fmt: skip
    fallback = parse_score(record(orjson.dumps(doc)))
    assert fallback is not None
    assert fallback.score_id == "score:C-1:e-1"
    assert parse_score(record(b"not json")) is None
    assert parse_score(record(orjson.dumps({"customer_id": "C-1"}))) is None


def test_default_rows_round_trip_to_the_shipped_playbooks():
    rows = default_rows()
    assert parse_playbooks_from_yaml([r[2] for r in rows]) == default_playbooks()


def test_settings_read_their_prefix_and_the_shared_names(monkeypatch):
    monkeypatch.setenv("CW_ALERTS_PORT", "9999")
    monkeypatch.setenv("CW_ALERTS_MAX_CONTACTS", "5")
    monkeypatch.setenv("CW_KAFKA_BOOTSTRAP", "broker:1")
    monkeypatch.setenv("CW_TOPIC_ACTIONS", "acts")
    s = AlertsSettings()
    assert (s.port, s.kafka_bootstrap) == (9999, "broker:1")
    cfg = s.alerts_config()
    assert cfg.plan.policy.max_contacts == 5
    assert cfg.plan.actions_topic == "acts"
    assert s.webhook_config().max_attempts == 8


def test_all_lists_every_public_name_once():
    public = {
        n for n, o in vars(churnwatch_alerts).items()
        if not n.startswith("_") and not inspect.ismodule(o)
    }  # fmt: skip
    assert public == set(churnwatch_alerts.__all__)


def test_parse_score_skips_records_that_break_the_contract():
    """Out-of-range or naive values are poison too: skipped here, never raised from the batch."""
    for bad in ({"churn_probability": 1.5}, {"event_time": "2026-03-10T00:00:00"}, {"tier": "x"}):
        assert parse_score(record(orjson.dumps(score(**bad)))) is None
