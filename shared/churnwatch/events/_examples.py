"""One realistic, valid wire-format example per event type.

They serve as OpenAPI examples, as the examples in each type's JSON Schema, and as the fixtures
of the contract tests. They are shared: copy one (``copy.deepcopy``) before changing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ._enums import EventType

__all__ = ["EXAMPLES"]


def _event(
    event_type: EventType, n: int, occurred_at: str, source: str, attributes: dict[str, Any]
) -> dict[str, Any]:
    return {
        "event_id": f"evt_01HV8Z3K9Q2C4M7N5P6R8S{n:04d}",
        "event_type": event_type.value,
        "customer_id": "C-1042",
        "occurred_at": occurred_at,
        "source": source,
        "schema_version": 1,
        "attributes": attributes,
    }


EXAMPLES: Mapping[EventType, dict[str, Any]] = MappingProxyType(
    {
        EventType.CUSTOMER_PROFILE: _event(
            EventType.CUSTOMER_PROFILE,
            1,
            "2026-03-01T09:00:00Z",
            "crm",
            {
                "name": "Jana Novák",
                "email": "jana.novak@example.com",
                "phone": "+49 30 1234567",
                "country": "DE",
                "language": "de-DE",
                "signed_up_at": "2024-11-05T14:22:10+01:00",
                "consent": {"email": True, "sms": False, "phone": None, "push": True},
            },
        ),
        EventType.SESSION: _event(
            EventType.SESSION,
            2,
            "2026-03-01T09:12:41Z",
            "app-analytics",
            {
                "session_id": "s-7f3a9c",
                "channel": "mobile_app",
                "duration_seconds": 312.5,
                "pages": 14,
            },
        ),
        EventType.FEATURE_USE: _event(
            EventType.FEATURE_USE,
            3,
            "2026-03-01T09:14:03Z",
            "app-analytics",
            {"feature": "wishlist", "count": 3, "channel": "mobile_app"},
        ),
        EventType.EMAIL_ENGAGEMENT: _event(
            EventType.EMAIL_ENGAGEMENT,
            4,
            "2026-03-01T08:30:00Z",
            "newsletter",
            {"campaign_id": "spring-sale-2026", "action": "clicked"},
        ),
        EventType.SUPPORT_TICKET: _event(
            EventType.SUPPORT_TICKET,
            5,
            "2026-03-01T10:02:17+01:00",
            "helpdesk",
            {
                "ticket_id": "T-88412",
                "status": "opened",
                "channel": "chat",
                "priority": "high",
                "topic": "delivery delay",
            },
        ),
        EventType.COMPLAINT: _event(
            EventType.COMPLAINT,
            6,
            "2026-03-01T10:40:00Z",
            "call-centre",
            {
                "complaint_id": "CMP-2291",
                "status": "escalated",
                "reason": "delivery",
                "severity": "high",
                "channel": "phone",
            },
        ),
        EventType.NPS: _event(
            EventType.NPS,
            7,
            "2026-03-01T11:05:09Z",
            "survey",
            {"score": 4, "survey_id": "nps-2026-q1", "comment": "Deliveries keep arriving late."},
        ),
        EventType.PURCHASE: _event(
            EventType.PURCHASE,
            8,
            "2026-03-01T10:15:00Z",
            "shop-web",
            {
                "order_id": "O-77",
                "amount": "59.90",
                "currency": "EUR",
                "items": 2,
                "channel": "web",
            },
        ),
        EventType.REFUND: _event(
            EventType.REFUND,
            9,
            "2026-03-01T10:20:00Z",
            "billing",
            {
                "refund_id": "R-1201",
                "order_id": "O-77",
                "amount": "19.95",
                "currency": "EUR",
                "reason": "damaged",
            },
        ),
        EventType.SUBSCRIPTION_STARTED: _event(
            EventType.SUBSCRIPTION_STARTED,
            10,
            "2026-02-01T00:00:00Z",
            "billing",
            {
                "subscription_id": "SUB-5531",
                "plan": "plus",
                "price": "9.99",
                "currency": "EUR",
                "billing_period": "monthly",
                "trial": True,
            },
        ),
        EventType.SUBSCRIPTION_RENEWED: _event(
            EventType.SUBSCRIPTION_RENEWED,
            11,
            "2026-03-01T00:00:00Z",
            "billing",
            {
                "subscription_id": "SUB-5531",
                "plan": "plus",
                "price": "9.99",
                "currency": "EUR",
                "billing_period": "monthly",
            },
        ),
        EventType.SUBSCRIPTION_CHANGED: _event(
            EventType.SUBSCRIPTION_CHANGED,
            12,
            "2026-03-01T10:30:00Z",
            "billing",
            {
                "subscription_id": "SUB-5531",
                "change": "downgrade",
                "from_plan": "plus",
                "to_plan": "basic",
                "old_price": "9.99",
                "new_price": "4.99",
                "currency": "EUR",
                "billing_period": "monthly",
            },
        ),
        EventType.SUBSCRIPTION_CANCELLED: _event(
            EventType.SUBSCRIPTION_CANCELLED,
            13,
            "2026-03-01T10:45:00Z",
            "billing",
            {
                "subscription_id": "SUB-5531",
                "exit_reason": "competitor",
                "effective_at": "2026-03-31T23:59:59Z",
                "comment": "Found a cheaper plan elsewhere.",
            },
        ),
        EventType.PAYMENT_FAILED: _event(
            EventType.PAYMENT_FAILED,
            14,
            "2026-03-01T00:05:00Z",
            "billing",
            {
                "payment_id": "PAY-99120",
                "amount": "9.99",
                "currency": "EUR",
                "attempt": 2,
                "reason": "card_expired",
                "subscription_id": "SUB-5531",
            },
        ),
        EventType.OFFER_RESPONSE: _event(
            EventType.OFFER_RESPONSE,
            15,
            "2026-03-01T11:30:00Z",
            "shop-web",
            {"offer_id": "OFF-3310", "response": "accepted", "action_id": "act_5f2c81"},
        ),
        EventType.CUSTOMER_ERASED: _event(
            EventType.CUSTOMER_ERASED, 16, "2026-03-01T12:00:00Z", "crm", {"reason": "request"}
        ),
        EventType.SUBSCRIPTION_EXPIRED: _event(
            EventType.SUBSCRIPTION_EXPIRED,
            17,
            "2026-03-01T00:10:00Z",
            "billing",
            {
                "subscription_id": "SUB-5531",
                "plan": "basic",
                "effective_at": "2026-02-28T23:59:59Z",
            },
        ),
    }
)
