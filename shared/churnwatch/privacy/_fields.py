"""Which event fields hold personal data, and the markers that replace it.

One list, read by ingest (what to seal before ``cw.events``), the scoring worker (what to open into
the customer directory) and erasure (what an erased note becomes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["CONTACT_FIELDS", "ERASED", "PERSONAL_FIELDS", "customer_hash", "personal_fields"]

CONTACT_FIELDS: tuple[str, ...] = ("name", "email", "phone")
"""The contact details the customer directory keeps (``customer_profile`` attributes)."""

PERSONAL_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "customer_profile": CONTACT_FIELDS,
        # free text typed by the customer: may name people, addresses, phone numbers
        "nps": ("comment",),
        "subscription_cancelled": ("comment",),
    }
)
"""Per event type, the attributes sealed on ``cw.events`` (all are optional strings)."""

ERASED = "[erased]"
"""What an erased free-text note (task notes, audit notes) reads afterwards."""


def personal_fields(event_type: str) -> tuple[str, ...]:
    """The personal attributes of ``event_type`` (none for most types).

    >>> personal_fields("customer_profile")
    ('name', 'email', 'phone')
    >>> personal_fields("purchase")
    ()
    """
    return PERSONAL_FIELDS.get(event_type, ())


def customer_hash(customer_id: str) -> str:
    """SHA-256 of the customer id: names an erased customer in the erasure log without the id.

    The id is pseudonymous, not secret, so the hash lets an auditor answer "was C-1 erased, and
    when?" by hashing the id they were asked about; it is not meant to resist guessing.

    >>> customer_hash("C-1")[:16]
    '07e9a9696557f5c8'
    """
    return hashlib.sha256(customer_id.encode()).hexdigest()
