"""Builders for the alerts tests: score records, facts and profiles from real events."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from churnwatch.alerts import Facts, facts_from_score
from churnwatch.events import EVENT_CLASSES, EventType
from churnwatch.profile import CustomerProfile, apply

T0 = datetime(2026, 3, 1, tzinfo=UTC)
_ids = itertools.count()


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def score(**overrides: Any) -> dict[str, Any]:
    """A ``cw.scores`` record (as decoded from JSON) for a platinum customer at high risk."""
    record: dict[str, Any] = {
        "customer_id": "C-1",
        "churn_probability": 0.5,
        "band": "high",
        "reasons": [{"feature": "nps_score", "text": "NPS 3 (detractor)", "weight": 0.4}],
        "clv": 1000.0,
        "clv_low": 800.0,
        "clv_high": 1200.0,
        "tier": "platinum",
        "lifecycle_stage": "at_risk",
        "rfm_segment": "at_risk",
        "value_at_risk": 500.0,
        "business_model": "retail",
        "model_version": "prior-v1",
        "event_time": "2026-03-10T00:00:00Z",
        "cause": "event",
        "cause_event_id": "e-1",
    }
    record.update(overrides)
    if "churn_probability" in overrides and "value_at_risk" not in overrides:
        record["value_at_risk"] = record["churn_probability"] * record["clv"]
    return record


def facts(profile: CustomerProfile | None = None, previous_band: str | None = None,
          **overrides: Any) -> Facts:  # fmt: skip
    return facts_from_score(score(**overrides), profile, previous_band=previous_band)


def profile(*events: tuple[EventType, float, dict[str, Any]]) -> CustomerProfile:
    """A profile that lived through ``(type, hours after T0, attributes)`` events."""
    defaults: dict[EventType, dict[str, Any]] = {
        EventType.COMPLAINT: {"complaint_id": "K-1", "status": "opened", "reason": "delivery"},
        EventType.PURCHASE: {"order_id": "O-1", "amount": "10.00", "currency": "EUR"},
        EventType.PAYMENT_FAILED: {"payment_id": "P-1", "amount": "9.99", "currency": "EUR"},
        EventType.SESSION: {"session_id": "s", "duration_seconds": 60},
        EventType.CUSTOMER_PROFILE: {},
        EventType.CUSTOMER_ERASED: {},
    }
    p = CustomerProfile()
    for kind, hours, attributes in events:
        data = {
            "event_id": f"e{next(_ids)}",
            "event_type": kind,
            "customer_id": "C-1",
            "occurred_at": at(hours),
            "source": "test",
            "schema_version": 1,
            "attributes": {**defaults[kind], **attributes},
        }
        assert apply(p, EVENT_CLASSES[kind].model_validate(data))  # type: ignore[arg-type]
    return p
