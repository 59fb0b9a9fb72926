"""One attributes model per event type: what happened, beyond who, when and where from.

All are frozen and reject unknown fields, so a typo upstream (``"ammount"``) is an error at capture
rather than a silently missing value in the customer's profile.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ._enums import (
    BillingPeriod,
    Channel,
    ComplaintReason,
    ComplaintStatus,
    EmailAction,
    ErasureReason,
    ExitReason,
    OfferResponse,
    PaymentFailureReason,
    RefundReason,
    Severity,
    SubscriptionChange,
    TicketPriority,
    TicketStatus,
)
from ._fields import (
    CountryCode,
    DurationSeconds,
    Email,
    FreeText,
    LanguageTag,
    Name,
    Phone,
    PositiveInt,
    UtcDatetime,
)
from ._money import Currency, Money, PositiveMoney

__all__ = [
    "ComplaintAttributes",
    "ConsentUpdate",
    "CustomerErasedAttributes",
    "CustomerProfileAttributes",
    "EmailEngagementAttributes",
    "EventAttributes",
    "FeatureUseAttributes",
    "NpsAttributes",
    "OfferResponseAttributes",
    "PaymentFailedAttributes",
    "PurchaseAttributes",
    "RefundAttributes",
    "SessionAttributes",
    "SubscriptionCancelledAttributes",
    "SubscriptionChangedAttributes",
    "SubscriptionExpiredAttributes",
    "SubscriptionRenewedAttributes",
    "SubscriptionStartedAttributes",
    "SupportTicketAttributes",
]


class EventAttributes(BaseModel):
    """Base of every attributes model: frozen, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ConsentUpdate(EventAttributes):
    """Contact permissions per channel; ``null`` leaves the stored permission unchanged."""

    email: bool | None = None
    sms: bool | None = None
    phone: bool | None = None
    push: bool | None = None


class CustomerProfileAttributes(EventAttributes):
    """Personal and consent data; every field is optional and ``null`` means unchanged.

    ``name``, ``email`` and ``phone`` are personal data: sealed per customer on ``cw.events`` and
    kept in clear only in the customer directory (docs/privacy.md).
    """

    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    country: CountryCode | None = None
    language: LanguageTag | None = None
    signed_up_at: UtcDatetime | None = None
    consent: ConsentUpdate = Field(default_factory=ConsentUpdate)


class SessionAttributes(EventAttributes):
    """A visit to the web shop or app."""

    session_id: Name
    channel: Channel = Channel.WEB
    duration_seconds: DurationSeconds
    pages: int | None = Field(default=None, ge=0)


class FeatureUseAttributes(EventAttributes):
    """A product feature was used ``count`` times."""

    feature: Name
    count: PositiveInt = 1
    channel: Channel = Channel.WEB


class EmailEngagementAttributes(EventAttributes):
    """Something happened to a campaign e-mail."""

    campaign_id: Name
    action: EmailAction


class SupportTicketAttributes(EventAttributes):
    """A support ticket changed status."""

    ticket_id: Name
    status: TicketStatus
    channel: Channel = Channel.EMAIL
    priority: TicketPriority = TicketPriority.NORMAL
    topic: Name | None = None


class ComplaintAttributes(EventAttributes):
    """A formal complaint changed status."""

    complaint_id: Name
    status: ComplaintStatus
    reason: ComplaintReason
    severity: Severity = Severity.MEDIUM
    channel: Channel = Channel.PHONE


class NpsAttributes(EventAttributes):
    """A Net Promoter Score answer (0 = would not recommend, 10 = would)."""

    score: int = Field(ge=0, le=10)
    survey_id: Name | None = None
    comment: FreeText | None = None


class PurchaseAttributes(EventAttributes):
    """An order was placed."""

    order_id: Name
    amount: Money
    currency: Currency
    items: PositiveInt = 1
    channel: Channel = Channel.WEB


class RefundAttributes(EventAttributes):
    """Money from an order was given back."""

    refund_id: Name
    order_id: Name
    amount: PositiveMoney
    currency: Currency
    reason: RefundReason = RefundReason.OTHER


class SubscriptionStartedAttributes(EventAttributes):
    """A subscription began (possibly as a trial)."""

    subscription_id: Name
    plan: Name
    price: Money
    currency: Currency
    billing_period: BillingPeriod
    trial: bool = False


class SubscriptionRenewedAttributes(EventAttributes):
    """A subscription was billed for another period."""

    subscription_id: Name
    plan: Name
    price: Money
    currency: Currency
    billing_period: BillingPeriod


class SubscriptionChangedAttributes(EventAttributes):
    """A running subscription changed plan or price."""

    subscription_id: Name
    change: SubscriptionChange
    from_plan: Name
    to_plan: Name
    old_price: Money
    new_price: Money
    currency: Currency
    billing_period: BillingPeriod


class SubscriptionCancelledAttributes(EventAttributes):
    """A subscription was cancelled; ``effective_at`` may lie in the future (end of period)."""

    subscription_id: Name
    exit_reason: ExitReason | None = None
    effective_at: UtcDatetime | None = None
    comment: FreeText | None = None


class SubscriptionExpiredAttributes(EventAttributes):
    """A subscription ended because it was not renewed (no cancellation: the customer let it run
    out, or the billing system gave up on an unpaid invoice). ``effective_at`` is when the
    service ended (the end of the last paid period, or of a dunning grace); it may lie before
    ``occurred_at`` when the billing system reports it later; absent, the plan ended at
    ``occurred_at``. A cancelled plan needs no expiry: it ends at the cancellation's own
    ``effective_at``."""

    subscription_id: Name
    plan: Name | None = None
    effective_at: UtcDatetime | None = Field(
        default=None, description="When the service ended (default: occurred_at)."
    )


class PaymentFailedAttributes(EventAttributes):
    """A payment attempt failed."""

    payment_id: Name
    amount: PositiveMoney
    currency: Currency
    attempt: PositiveInt = 1
    reason: PaymentFailureReason = PaymentFailureReason.OTHER
    subscription_id: Name | None = None


class OfferResponseAttributes(EventAttributes):
    """A retention offer was delivered, opened, accepted, declined or expired."""

    offer_id: Name
    response: OfferResponse
    action_id: Name | None = Field(default=None, description="The churnwatch action it answers.")


class CustomerErasedAttributes(EventAttributes):
    """The customer's personal data must be erased (right to erasure)."""

    reason: ErasureReason = ErasureReason.REQUEST
