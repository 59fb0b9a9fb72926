"""Personal attributes of whole events: seal them for ``cw.events``, open or strip them after.

Ingest seals (`seal_event`) the canonical JSON it publishes; the scoring worker opens the contact
fields into the customer directory (`open_fields`) and strips sealed values before contract
validation (`strip_sealed`: the profile needs none of them, and a sealed email is no email).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ._envelope import PREFIX, Unreadable, is_sealed, open_value, seal
from ._fields import PERSONAL_FIELDS, personal_fields

__all__ = ["aad_for", "has_personal_data", "open_fields", "seal_event", "strip_sealed"]

_PREFIX_B = PREFIX.encode()
_TYPE_NAMES = tuple(t.encode() for t in PERSONAL_FIELDS)


def aad_for(customer_id: str, event_type: str, field: str) -> str:
    """What a sealed attribute is bound to: its customer, event type and field.

    >>> aad_for("C-1", "customer_profile", "email")
    'C-1/customer_profile.email'
    """
    return f"{customer_id}/{event_type}.{field}"


def has_personal_data(event_type: str, attributes: Any) -> bool:
    """True if an event (its attributes model or mapping) carries a personal value to seal.

    >>> has_personal_data("customer_profile", {"email": "a@b.c"})
    True
    >>> has_personal_data("customer_profile", {"email": None, "country": "DE"})
    False
    """
    get = attributes.get if isinstance(attributes, Mapping) else lambda f: getattr(attributes, f)
    return any(isinstance(get(f), str) for f in personal_fields(event_type))


def seal_event(doc: bytes, key: bytes | None) -> bytes:
    """An event's JSON with its personal attributes sealed under ``key``, or set to null
    without a key (an erased customer, or no key store): never in clear.

    >>> import json
    >>> raw = b'{"customer_id":"C-1","event_type":"nps",'
    >>> raw += b'"attributes":{"score":3,"comment":"call me"}}'
    >>> sealed = json.loads(seal_event(raw, bytes(32)))["attributes"]
    >>> sealed["score"], sealed["comment"][:7]
    (3, 'enc:v1:')
    >>> seal_event(raw, None)
    b'{"customer_id":"C-1","event_type":"nps","attributes":{"score":3,"comment":null}}'
    >>> seal_event(b'{"event_type":"purchase","attributes":{}}', None)  # untouched
    b'{"event_type":"purchase","attributes":{}}'
    """
    if not any(name in doc for name in _TYPE_NAMES):  # most events: no parse, no copy
        return doc
    event = orjson.loads(doc)
    attrs, customer = event.get("attributes"), event.get("customer_id")
    fields = personal_fields(str(event.get("event_type")))
    if not fields or not isinstance(attrs, dict) or not isinstance(customer, str):
        return doc
    changed = False
    for field in fields:
        value = attrs.get(field)
        if isinstance(value, str) and not is_sealed(value):
            aad = aad_for(customer, event["event_type"], field)
            attrs[field] = None if key is None else seal(key, value, aad)
            changed = True
    return orjson.dumps(event) if changed else doc


def strip_sealed(value: bytes) -> bytes:
    """A record with every sealed attribute set to null, ready for contract validation.

    >>> from churnwatch.privacy import seal
    >>> sealed = seal(bytes(32), "a@b.c", "C-1/customer_profile.email").encode()
    >>> strip_sealed(b'{"attributes":{"email":"' + sealed + b'","country":"DE"}}')
    b'{"attributes":{"email":null,"country":"DE"}}'
    >>> strip_sealed(b'{"attributes":{"email":"a@b.c"}}')  # nothing sealed: the same bytes
    b'{"attributes":{"email":"a@b.c"}}'
    """
    if _PREFIX_B not in value:
        return value
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError:
        return value  # the contract check reports it
    attrs = event.get("attributes") if isinstance(event, dict) else None
    if not isinstance(attrs, dict):
        return value
    for field, item in attrs.items():
        if is_sealed(item):
            attrs[field] = None
    return orjson.dumps(event)


def open_fields(
    customer_id: str, event_type: str, attributes: Mapping[str, Any], key: bytes | None
) -> dict[str, str | None]:
    """The personal attributes in clear: a sealed value opened with ``key`` (None without a key
    or when unreadable), a plaintext one (a producer that wrote to ``cw.events`` itself) as is.

    >>> from churnwatch.privacy import seal
    >>> key = bytes(32)
    >>> attrs = {"email": seal(key, "a@b.c", "C-1/customer_profile.email"), "phone": "+1 555"}
    >>> open_fields("C-1", "customer_profile", attrs, key)
    {'name': None, 'email': 'a@b.c', 'phone': '+1 555'}
    >>> open_fields("C-1", "customer_profile", attrs, None)["email"] is None
    True
    """
    out: dict[str, str | None] = {}
    for field in personal_fields(event_type):
        value = attributes.get(field)
        if is_sealed(value):
            try:
                value = (
                    None
                    if key is None
                    else open_value(key, value, aad_for(customer_id, event_type, field))
                )
            except Unreadable:
                value = None
        out[field] = value if isinstance(value, str) else None
    return out
