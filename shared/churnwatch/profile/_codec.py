"""The binary form of a `CustomerProfile`: fixed-width, little-endian, at most 1,024 bytes.

Layout (version 1): one version byte; the scalar fields in the order of ``SCALARS``
(``struct`` codes beside each name); the currency (3 ASCII bytes, NUL-padded); the plan
(length byte + UTF-8); the purchase buckets (newest week ``I``, a 7-byte bitmap of the weeks
present by age, then per bucket, newest first: transactions ``H``, cents in 5 bytes); complaints
(count ``B``, then ``IIIIB?`` each); tickets (count ``B``, ``IIII`` each); failed payments
(count ``B``, ``I`` each); seen event-id hashes (count ``B``, ``I`` each). Tables are written
sorted by key, so equal profiles give equal bytes whatever the insertion order.

Version 2 (issue 13): week cents in 4 bytes (was 5), then the activity table after the seen
hashes: reference time ``I``, count ``B``, then ``Iff`` (name hash, short, long) each, sorted
by key. Version-1 bytes still decode (no activity table).

Decoding is exact: ``from_bytes(to_bytes(p)) == p``, floats included (8-byte doubles; the
activity counts are float32 already in memory).
"""

from __future__ import annotations

import functools
import struct
from dataclasses import fields
from operator import attrgetter

from churnwatch.errors import ChurnError

from ._state import TX_WEEKS, WEEK_CENTS_MAX, CustomerProfile

__all__ = ["FORMAT_VERSION", "MAX_BYTES", "ProfileDecodeError", "decode", "encode"]

FORMAT_VERSION = 2
MAX_BYTES = 1024
"""The hard bound on `CustomerProfile.to_bytes`, reached only with every table full."""

SCALARS: tuple[tuple[str, str], ...] = (
    ("events", "I"),
    ("first_seen", "I"),
    ("last_event", "I"),
    ("last_activity", "I"),
    ("tx_count", "I"),
    ("tx_cents", "Q"),
    ("first_tx", "I"),
    ("last_tx", "I"),
    ("purchases", "I"),
    ("session_ref", "I"),
    ("session_short", "d"),
    ("session_long", "d"),
    ("feature_ref", "I"),
    ("feature_short", "d"),
    ("feature_long", "d"),
    ("email_ref", "I"),
    ("email_delivered", "d"),
    ("email_opened", "d"),
    ("email_clicked", "d"),
    ("email_bounced_at", "I"),
    ("email_unsubscribed_at", "I"),
    ("email_set_at", "I"),
    ("complaints_total", "I"),
    ("tickets_total", "I"),
    ("nps", "b"),
    ("nps_at", "I"),
    ("failures_total", "I"),
    ("last_failure", "I"),
    ("last_success", "I"),
    ("signed_up", "I"),
    ("signed_up_set_at", "I"),
    ("consent_email", "b"),
    ("consent_email_at", "I"),
    ("consent_sms", "b"),
    ("consent_sms_at", "I"),
    ("consent_phone", "b"),
    ("consent_phone_at", "I"),
    ("consent_push", "b"),
    ("consent_push_at", "I"),
    ("subscription", "?"),
    ("price_cents", "Q"),
    ("period", "B"),
    ("plan_at", "I"),
    ("subscribed_since", "I"),
    ("last_started", "I"),
    ("started_trial", "?"),
    ("last_renewal", "I"),
    ("renewals", "I"),
    ("sub_active_at", "I"),
    ("change_kind", "B"),
    ("change_bp", "i"),
    ("change_at", "I"),
    ("increase_bp", "i"),
    ("increase_at", "I"),
    ("cancel_at", "I"),
    ("cancel_effective", "I"),
    ("exit_reason", "B"),
    ("refunds", "I"),
    ("refund_cents", "Q"),
    ("last_refund", "I"),
    ("offer_response", "B"),
    ("offer_at", "I"),
    ("erased", "?"),
    ("erased_at", "I"),
    ("stage", "B"),
    ("stage_since", "I"),
)
"""Every fixed-size field, in wire order, with its ``struct`` code."""

_NAMES = tuple(name for name, _ in SCALARS)
_HEAD = struct.Struct("<B" + "".join(code for _, code in SCALARS) + "3s")
_GET = attrgetter(*_NAMES)
_U32_MAX = 2**32 - 1
_COMPLAINT = struct.Struct("<IIIIB?")
_TICKET = struct.Struct("<IIII")
_NEWEST = struct.Struct("<I")
_COUNT = struct.Struct("<H")
_MAP_BYTES = (TX_WEEKS + 7) // 8
_CENTS_BYTES = 4
_CENTS_BYTES_V1 = 5
_ACTIVITY = struct.Struct("<Iff")
_ACTIVITY_HEAD = struct.Struct("<IB")
_NO_WEEKS = _NEWEST.pack(0) + bytes(_MAP_BYTES)


@functools.lru_cache(maxsize=256)
def _list_struct(count: int) -> struct.Struct:
    """``<B{count}I``: a length byte and ``count`` times (compiled once per length)."""
    return struct.Struct(f"<B{count}I")


_CURRENCY_AT = _NAMES.index("subscription") + 1
_POSITIONAL = [f.name for f in fields(CustomerProfile)][: len(_NAMES) + 1] == [
    *_NAMES[:_CURRENCY_AT],
    "currency",
    *_NAMES[_CURRENCY_AT:],
]
"""The dataclass lists the scalars in wire order, the currency after ``subscription``: decode
passes them by position (`_decode`); keywords otherwise."""


class ProfileDecodeError(ChurnError, ValueError):
    """Bytes that `CustomerProfile.to_bytes` did not write (or of another format version)."""


def encode(profile: CustomerProfile) -> bytes:
    """The profile as bytes; see the module docstring for the layout.

    >>> len(encode(CustomerProfile()))
    290
    """
    plan = profile.plan.encode()
    parts = [
        _HEAD.pack(FORMAT_VERSION, *_GET(profile), profile.currency.encode("ascii")),
        bytes((len(plan),)),
        plan,
    ]
    weeks = profile.tx_weeks
    if weeks:
        newest = max(weeks)
        present = sum(1 << (newest - week) for week in weeks)
        parts.append(_NEWEST.pack(newest) + present.to_bytes(_MAP_BYTES, "little"))
        for week in sorted(weeks, reverse=True):
            count, cents = weeks[week]
            parts.append(_COUNT.pack(count) + cents.to_bytes(_CENTS_BYTES, "little"))
    else:
        parts.append(_NO_WEEKS)
    complaints, tickets = profile.complaints, profile.tickets
    parts.append(bytes((len(complaints),)))
    for key in sorted(complaints):
        first, last, resolved, severity, escalated = complaints[key]
        parts.append(_COMPLAINT.pack(key, first, last, resolved, severity, bool(escalated)))
    parts.append(bytes((len(tickets),)))
    for key in sorted(tickets):
        parts.append(_TICKET.pack(key, *tickets[key]))
    failures, seen, activities = profile.failures, profile.seen, profile.activities
    parts.append(_list_struct(len(failures)).pack(len(failures), *failures))
    parts.append(_list_struct(len(seen)).pack(len(seen), *seen))
    parts.append(_ACTIVITY_HEAD.pack(profile.activity_ref, len(activities)))
    for key in sorted(activities):
        parts.append(_ACTIVITY.pack(key, *activities[key]))
    return b"".join(parts)


def decode(data: bytes) -> CustomerProfile:
    """The profile `encode` wrote.

    >>> decode(encode(CustomerProfile(events=3, plan="Gold"))).plan
    'Gold'
    >>> decode(b"\\x07")
    Traceback (most recent call last):
    ...
    churnwatch.profile._codec.ProfileDecodeError: not a version-1/2 profile (first byte 7)
    """
    if not data or data[0] not in (1, FORMAT_VERSION):
        raise ProfileDecodeError(
            f"not a version-1/2 profile (first byte {data[0] if data else None})"
        )
    try:
        return _decode(memoryview(data), data[0])
    except (struct.error, UnicodeDecodeError, IndexError) as exc:
        raise ProfileDecodeError(f"truncated or corrupt profile: {exc}") from None


def _decode(data: memoryview, version: int) -> CustomerProfile:
    _version, *scalars, raw_currency = _HEAD.unpack_from(data)
    currency = bytes(raw_currency).rstrip(b"\0").decode("ascii")
    if _POSITIONAL:  # a quarter of the cost of keywords; the same profile
        profile = CustomerProfile(*scalars[:_CURRENCY_AT], currency, *scalars[_CURRENCY_AT:])  # type: ignore[call-arg]
    else:
        profile = CustomerProfile(**dict(zip(_NAMES, scalars, strict=True)), currency=currency)
    at = _HEAD.size
    size = data[at]
    profile.plan = bytes(data[at + 1 : at + 1 + size]).decode()
    at += 1 + size
    (newest,) = _NEWEST.unpack_from(data, at)
    at += _NEWEST.size
    present = int.from_bytes(data[at : at + _MAP_BYTES], "little")
    at += _MAP_BYTES
    width = _CENTS_BYTES if version == FORMAT_VERSION else _CENTS_BYTES_V1
    for age in range(TX_WEEKS):
        if present >> age & 1:
            (count,) = _COUNT.unpack_from(data, at)
            cents = int.from_bytes(data[at + 2 : at + 2 + width], "little")
            profile.tx_weeks[newest - age] = [count, min(cents, WEEK_CENTS_MAX)]
            at += 2 + width
    count = data[at]
    at += 1
    for _ in range(count):
        key, first, last, resolved, severity, escalated = _COMPLAINT.unpack_from(data, at)
        profile.complaints[key] = [first, last, resolved, severity, int(escalated)]
        at += _COMPLAINT.size
    count = data[at]
    at += 1
    for _ in range(count):
        key, *times = _TICKET.unpack_from(data, at)
        profile.tickets[key] = list(times)
        at += _TICKET.size
    lists: list[list[int]] = []
    for _ in range(2):
        count = data[at]
        lists.append(list(struct.unpack_from(f"<{count}I", data, at + 1)))
        at += 1 + 4 * count
    profile.failures, profile.seen = lists
    if version == FORMAT_VERSION:
        profile.activity_ref, count = struct.unpack_from("<IB", data, at)
        at += 5
        for _ in range(count):
            key, short, long = _ACTIVITY.unpack_from(data, at)
            profile.activities[key] = [short, long]
            at += _ACTIVITY.size
    if at != len(data):
        raise ProfileDecodeError(f"{len(data) - at} unexpected trailing bytes")
    return profile
