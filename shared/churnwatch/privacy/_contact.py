"""Contact details as the customer directory keeps them, and how profile events update them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from ._fields import CONTACT_FIELDS

__all__ = ["Contact", "merge_contact"]


@dataclass(frozen=True, slots=True)
class Contact:
    """Name, e-mail and phone of one customer, as of event time ``at``."""

    at: datetime
    name: str | None = None
    email: str | None = None
    phone: str | None = None


def merge_contact(old: Contact | None, fields: Mapping[str, str | None], at: datetime) -> Contact:
    """Apply one ``customer_profile`` event's contact fields (``None``: unchanged) at ``at``.

    The newer event wins field by field; a late event (older than the newest applied) only
    fills what is still unknown, so it never overwrites a newer value. One time per contact, not
    per field: a late event can fill a field that a newer one left unchanged and an older one,
    already applied, had set (rare; the next profile event corrects it). The database upsert
    (`churnwatch_scoring.directory`) follows the same rule.

    >>> from datetime import UTC
    >>> t1, t2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    >>> c = merge_contact(None, {"email": "old@x.de"}, t1)
    >>> c = merge_contact(c, {"email": "new@x.de", "phone": None}, t2)
    >>> c = merge_contact(c, {"email": "late@x.de", "phone": "+49 1"}, t1)  # late: fills only
    >>> c.email, c.phone, c.at == t2
    ('new@x.de', '+49 1', True)
    """
    current = old or Contact(at)
    newer = at >= current.at
    changes: dict[str, str | None] = {}
    for field in CONTACT_FIELDS:
        value, known = fields.get(field), getattr(current, field)
        if value is not None and (newer or known is None):
            changes[field] = value
    return replace(current, at=max(at, current.at), **changes)
