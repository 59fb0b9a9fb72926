"""The closed vocabularies of the event contract.

They are `StrEnum`s so that a member compares equal to its wire value (``Channel.WEB == "web"``)
and serialises as that value.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BillingPeriod",
    "Channel",
    "ComplaintReason",
    "ComplaintStatus",
    "EmailAction",
    "ErasureReason",
    "EventType",
    "ExitReason",
    "OfferResponse",
    "PaymentFailureReason",
    "RefundReason",
    "Severity",
    "SubscriptionChange",
    "TicketPriority",
    "TicketStatus",
]


class EventType(StrEnum):
    """The 17 event types of contract v1; the discriminator of `Event`."""

    CUSTOMER_PROFILE = "customer_profile"
    SESSION = "session"
    FEATURE_USE = "feature_use"
    EMAIL_ENGAGEMENT = "email_engagement"
    SUPPORT_TICKET = "support_ticket"
    COMPLAINT = "complaint"
    NPS = "nps"
    PURCHASE = "purchase"
    REFUND = "refund"
    SUBSCRIPTION_STARTED = "subscription_started"
    SUBSCRIPTION_RENEWED = "subscription_renewed"
    SUBSCRIPTION_CHANGED = "subscription_changed"
    SUBSCRIPTION_CANCELLED = "subscription_cancelled"
    PAYMENT_FAILED = "payment_failed"
    OFFER_RESPONSE = "offer_response"
    CUSTOMER_ERASED = "customer_erased"
    SUBSCRIPTION_EXPIRED = "subscription_expired"


class Channel(StrEnum):
    """Where an interaction happened."""

    WEB = "web"
    MOBILE_APP = "mobile_app"
    EMAIL = "email"
    PHONE = "phone"
    SMS = "sms"
    PUSH = "push"
    STORE = "store"
    CHAT = "chat"
    OTHER = "other"


class BillingPeriod(StrEnum):
    """How often a subscription is billed."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class EmailAction(StrEnum):
    """What a customer did with (or what happened to) a campaign e-mail."""

    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"
    SPAM_COMPLAINT = "spam_complaint"


class TicketStatus(StrEnum):
    """Lifecycle step of a support ticket."""

    OPENED = "opened"
    REOPENED = "reopened"
    RESOLVED = "resolved"


class TicketPriority(StrEnum):
    """Priority the support desk gave a ticket."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ComplaintStatus(StrEnum):
    """Lifecycle step of a formal complaint."""

    OPENED = "opened"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


class ComplaintReason(StrEnum):
    """What a complaint is about."""

    PRODUCT_QUALITY = "product_quality"
    DELIVERY = "delivery"
    BILLING = "billing"
    SERVICE = "service"
    PRICE = "price"
    OTHER = "other"


class Severity(StrEnum):
    """How serious a complaint is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RefundReason(StrEnum):
    """Why money was given back."""

    DAMAGED = "damaged"
    NOT_AS_DESCRIBED = "not_as_described"
    LATE = "late"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class SubscriptionChange(StrEnum):
    """Kind of change to a running subscription."""

    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    PRICE_INCREASE = "price_increase"
    PRICE_DECREASE = "price_decrease"


class ExitReason(StrEnum):
    """Why a customer cancelled (the exit-interview answer used for churn diagnostics)."""

    PRICE = "price"
    COMPETITOR = "competitor"
    SERVICE = "service"
    PRODUCT = "product"
    NO_LONGER_NEEDED = "no_longer_needed"
    PAYMENT_FAILURE = "payment_failure"
    MOVED = "moved"
    OTHER = "other"
    EXPIRED = "expired"
    """The plan ended without renewal: what a ``subscription_expired`` event records (last, so
    the profile's stored codes of the others do not move)."""


class PaymentFailureReason(StrEnum):
    """Why a payment attempt failed."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    CARD_EXPIRED = "card_expired"
    CARD_DECLINED = "card_declined"
    OTHER = "other"


class OfferResponse(StrEnum):
    """What happened to a retention offer."""

    DELIVERED = "delivered"
    OPENED = "opened"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class ErasureReason(StrEnum):
    """Why a customer's personal data must be erased."""

    REQUEST = "request"
    RETENTION_POLICY = "retention_policy"
