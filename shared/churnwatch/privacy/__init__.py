"""Personal data: which fields, sealed values (crypto-shredding) and erasure markers. No I/O.

Contact details live in clear in one table only (``customer_directory``); on ``cw.events`` they
are sealed under a per-customer key, deleted on erasure (docs/privacy.md).

>>> key = new_key()
>>> doc = b'{"customer_id":"C-1","event_type":"customer_profile","attributes":{"email":"a@b.c"}}'
>>> import json
>>> attrs = json.loads(seal_event(doc, key))["attributes"]
>>> b"a@b.c" in seal_event(doc, key), open_fields("C-1", "customer_profile", attrs, key)["email"]
(False, 'a@b.c')
"""

from ._contact import Contact, merge_contact
from ._envelope import KEY_BYTES, PREFIX, Unreadable, is_sealed, new_key, open_value, seal
from ._events import aad_for, has_personal_data, open_fields, seal_event, strip_sealed
from ._fields import CONTACT_FIELDS, ERASED, PERSONAL_FIELDS, customer_hash, personal_fields

__all__ = [
    "CONTACT_FIELDS",
    "ERASED",
    "KEY_BYTES",
    "PERSONAL_FIELDS",
    "PREFIX",
    "Contact",
    "Unreadable",
    "aad_for",
    "customer_hash",
    "has_personal_data",
    "is_sealed",
    "merge_contact",
    "new_key",
    "open_fields",
    "open_value",
    "personal_fields",
    "seal",
    "seal_event",
    "strip_sealed",
]
