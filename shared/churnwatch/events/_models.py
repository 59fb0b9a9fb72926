"""The envelope, one event class per type, and `Event`, their discriminated union.

Each class pins ``event_type`` to one `EventType` member, so ``event.event_type`` is always an
`EventType` (comparable with ``==`` under mypy's strict equality) and pydantic picks the class
from it. Models are lax when built in Python (``channel="web"`` is fine) but `parse_event`
validates wire JSON strictly (``"items": "2"`` is an error): what upstream may send is exactly
what the JSON Schema says.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field

from ._attributes import (
    ComplaintAttributes,
    CustomerErasedAttributes,
    CustomerProfileAttributes,
    EmailEngagementAttributes,
    FeatureUseAttributes,
    NpsAttributes,
    OfferResponseAttributes,
    PaymentFailedAttributes,
    PurchaseAttributes,
    RefundAttributes,
    SessionAttributes,
    SubscriptionCancelledAttributes,
    SubscriptionChangedAttributes,
    SubscriptionExpiredAttributes,
    SubscriptionRenewedAttributes,
    SubscriptionStartedAttributes,
    SupportTicketAttributes,
)
from ._enums import EventType
from ._examples import EXAMPLES
from ._fields import CustomerId, EventId, SchemaVersion, Source, UtcDatetime

__all__ = [
    "EVENT_CLASSES",
    "ComplaintEvent",
    "CustomerErasedEvent",
    "CustomerProfileEvent",
    "EmailEngagementEvent",
    "Event",
    "EventEnvelope",
    "FeatureUseEvent",
    "NpsEvent",
    "OfferResponseEvent",
    "PaymentFailedEvent",
    "PurchaseEvent",
    "RefundEvent",
    "SessionEvent",
    "SubscriptionCancelledEvent",
    "SubscriptionChangedEvent",
    "SubscriptionExpiredEvent",
    "SubscriptionRenewedEvent",
    "SubscriptionStartedEvent",
    "SupportTicketEvent",
]

AttributesT = TypeVar("AttributesT")


class EventEnvelope(BaseModel, Generic[AttributesT]):
    """Who, when, where from and which contract: the fields every event shares."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: EventId = Field(description="Idempotency key: a re-sent event is a duplicate.")
    event_type: EventType
    customer_id: CustomerId = Field(description="The Kafka key of every topic.")
    occurred_at: UtcDatetime = Field(description="Event time, with a UTC offset.")
    source: Source = Field(description="The publishing system, e.g. shop-web, billing, crm.")
    schema_version: SchemaVersion
    attributes: AttributesT


def _config(event_type: EventType) -> ConfigDict:
    return ConfigDict(
        title=f"{event_type.value} event", json_schema_extra={"examples": [EXAMPLES[event_type]]}
    )


class CustomerProfileEvent(EventEnvelope[CustomerProfileAttributes]):
    """Personal and consent data changed."""

    model_config = _config(EventType.CUSTOMER_PROFILE)
    event_type: Literal[EventType.CUSTOMER_PROFILE]


class SessionEvent(EventEnvelope[SessionAttributes]):
    """A visit to the web shop or app."""

    model_config = _config(EventType.SESSION)
    event_type: Literal[EventType.SESSION]


class FeatureUseEvent(EventEnvelope[FeatureUseAttributes]):
    """A product feature was used."""

    model_config = _config(EventType.FEATURE_USE)
    event_type: Literal[EventType.FEATURE_USE]


class EmailEngagementEvent(EventEnvelope[EmailEngagementAttributes]):
    """Something happened to a campaign e-mail."""

    model_config = _config(EventType.EMAIL_ENGAGEMENT)
    event_type: Literal[EventType.EMAIL_ENGAGEMENT]


class SupportTicketEvent(EventEnvelope[SupportTicketAttributes]):
    """A support ticket changed status."""

    model_config = _config(EventType.SUPPORT_TICKET)
    event_type: Literal[EventType.SUPPORT_TICKET]


class ComplaintEvent(EventEnvelope[ComplaintAttributes]):
    """A formal complaint changed status."""

    model_config = _config(EventType.COMPLAINT)
    event_type: Literal[EventType.COMPLAINT]


class NpsEvent(EventEnvelope[NpsAttributes]):
    """A Net Promoter Score answer."""

    model_config = _config(EventType.NPS)
    event_type: Literal[EventType.NPS]


class PurchaseEvent(EventEnvelope[PurchaseAttributes]):
    """An order was placed."""

    model_config = _config(EventType.PURCHASE)
    event_type: Literal[EventType.PURCHASE]


class RefundEvent(EventEnvelope[RefundAttributes]):
    """Money from an order was given back."""

    model_config = _config(EventType.REFUND)
    event_type: Literal[EventType.REFUND]


class SubscriptionStartedEvent(EventEnvelope[SubscriptionStartedAttributes]):
    """A subscription began."""

    model_config = _config(EventType.SUBSCRIPTION_STARTED)
    event_type: Literal[EventType.SUBSCRIPTION_STARTED]


class SubscriptionRenewedEvent(EventEnvelope[SubscriptionRenewedAttributes]):
    """A subscription was billed for another period."""

    model_config = _config(EventType.SUBSCRIPTION_RENEWED)
    event_type: Literal[EventType.SUBSCRIPTION_RENEWED]


class SubscriptionChangedEvent(EventEnvelope[SubscriptionChangedAttributes]):
    """A subscription changed plan or price (upgrade, downgrade...)."""

    model_config = _config(EventType.SUBSCRIPTION_CHANGED)
    event_type: Literal[EventType.SUBSCRIPTION_CHANGED]


class SubscriptionCancelledEvent(EventEnvelope[SubscriptionCancelledAttributes]):
    """A subscription was cancelled, with an optional exit reason."""

    model_config = _config(EventType.SUBSCRIPTION_CANCELLED)
    event_type: Literal[EventType.SUBSCRIPTION_CANCELLED]


class SubscriptionExpiredEvent(EventEnvelope[SubscriptionExpiredAttributes]):
    """A subscription ended without renewal (churn by non-renewal, no cancellation)."""

    model_config = _config(EventType.SUBSCRIPTION_EXPIRED)
    event_type: Literal[EventType.SUBSCRIPTION_EXPIRED]


class PaymentFailedEvent(EventEnvelope[PaymentFailedAttributes]):
    """A payment attempt failed."""

    model_config = _config(EventType.PAYMENT_FAILED)
    event_type: Literal[EventType.PAYMENT_FAILED]


class OfferResponseEvent(EventEnvelope[OfferResponseAttributes]):
    """A customer responded to (or ignored) a retention offer."""

    model_config = _config(EventType.OFFER_RESPONSE)
    event_type: Literal[EventType.OFFER_RESPONSE]


class CustomerErasedEvent(EventEnvelope[CustomerErasedAttributes]):
    """The customer's personal data must be erased."""

    model_config = _config(EventType.CUSTOMER_ERASED)
    event_type: Literal[EventType.CUSTOMER_ERASED]


Event = Annotated[
    CustomerProfileEvent
    | SessionEvent
    | FeatureUseEvent
    | EmailEngagementEvent
    | SupportTicketEvent
    | ComplaintEvent
    | NpsEvent
    | PurchaseEvent
    | RefundEvent
    | SubscriptionStartedEvent
    | SubscriptionRenewedEvent
    | SubscriptionChangedEvent
    | SubscriptionCancelledEvent
    | PaymentFailedEvent
    | OfferResponseEvent
    | CustomerErasedEvent
    | SubscriptionExpiredEvent,
    Field(discriminator="event_type"),
]
"""Any valid event; pydantic picks the class from ``event_type``."""


def _event_type_of(cls: type[EventEnvelope[Any]]) -> EventType:
    (value,) = get_args(cls.model_fields["event_type"].annotation)
    return EventType(value)


EVENT_CLASSES: Mapping[EventType, type[EventEnvelope[Any]]] = MappingProxyType(
    {_event_type_of(cls): cls for cls in get_args(get_args(Event)[0])}
)
"""The event class of each event type."""
