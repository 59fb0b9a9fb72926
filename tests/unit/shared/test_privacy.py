"""Sealed personal attributes: never in clear, bound to customer and field, stripped for parsing."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.events import EXAMPLES, EventType, event_to_json, parse_event
from churnwatch.privacy import (
    PREFIX,
    Contact,
    Unreadable,
    has_personal_data,
    is_sealed,
    merge_contact,
    new_key,
    open_fields,
    open_value,
    seal,
    seal_event,
    strip_sealed,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def canonical(kind: EventType, **attrs: object) -> bytes:
    doc = copy.deepcopy(dict(EXAMPLES[kind]))
    doc["attributes"].update(attrs)
    return event_to_json(parse_event(orjson.dumps(doc), now=NOW))


def test_profile_sealed_has_no_plaintext_and_opens_with_its_key() -> None:
    key = new_key()
    plain = canonical(EventType.CUSTOMER_PROFILE, name="Jana Novak")
    sealed = seal_event(plain, key)
    for secret in (b"Jana Novak", b"jana.novak@example.com", b"+49 30 1234567"):
        assert secret in plain
        assert secret not in sealed
    doc = orjson.loads(sealed)
    assert doc["attributes"]["country"] == "DE"  # only personal fields are touched
    assert open_fields(doc["customer_id"], "customer_profile", doc["attributes"], key) == {
        "name": "Jana Novak",
        "email": "jana.novak@example.com",
        "phone": "+49 30 1234567",
    }
    assert open_fields(doc["customer_id"], "customer_profile", doc["attributes"], new_key()) == {
        "name": None,
        "email": None,
        "phone": None,
    }


def test_sealed_event_still_parses_after_stripping() -> None:
    sealed = seal_event(canonical(EventType.CUSTOMER_PROFILE), new_key())
    event = parse_event(strip_sealed(sealed), now=NOW)
    assert event.attributes.email is None  # type: ignore[union-attr]
    assert event.attributes.country == "DE"  # type: ignore[union-attr]


def test_free_text_comments_are_sealed_and_other_events_untouched() -> None:
    nps = canonical(EventType.NPS)
    assert b"Deliveries keep arriving late." not in seal_event(nps, new_key())
    purchase = canonical(EventType.PURCHASE)
    assert seal_event(purchase, new_key()) is purchase
    assert not has_personal_data("purchase", {"amount": "1"})


def test_no_key_means_no_personal_data() -> None:
    doc = orjson.loads(seal_event(canonical(EventType.CUSTOMER_PROFILE), None))
    assert [doc["attributes"][f] for f in ("email", "phone")] == [None, None]


def test_a_sealed_value_is_bound_to_customer_and_field() -> None:
    key = new_key()
    sealed = seal(key, "a@b.c", "C-1/customer_profile.email")
    with pytest.raises(Unreadable):
        open_value(key, sealed, "C-2/customer_profile.email")
    with pytest.raises(Unreadable):
        open_value(key, sealed, "C-1/customer_profile.phone")
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(Unreadable):
        open_value(key, tampered, "C-1/customer_profile.email")


def test_nonces_are_fresh() -> None:
    key = new_key()
    assert seal(key, "x", "a") != seal(key, "x", "a")


@given(st.text(min_size=1, max_size=300))
def test_any_text_round_trips_and_is_recognised(text: str) -> None:
    key = bytes(32)
    sealed = seal(key, text, "C/f")
    assert is_sealed(sealed)
    assert sealed.startswith(PREFIX)
    assert open_value(key, sealed, "C/f") == text


_FIELD = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
_UPDATES = st.lists(
    st.tuples(st.integers(0, 5), st.fixed_dictionaries({"email": _FIELD, "phone": _FIELD})),
    min_size=1,
    max_size=6,
    unique_by=lambda u: u[0],  # distinct event times: "newest" is well defined
)


@given(_UPDATES, st.randoms())
def test_a_late_event_never_overwrites_a_newer_value(
    updates: list[tuple[int, dict[str, str | None]]], rnd: random.Random
) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    shuffled = list(updates)
    rnd.shuffle(shuffled)
    contact: Contact | None = None
    for day, fields in shuffled:
        contact = merge_contact(contact, fields, t0 + timedelta(days=day))
    assert contact is not None
    for field in ("email", "phone"):
        newest = [f[field] for _, f in sorted(updates) if f[field] is not None]
        if newest:  # the newest event that set the field wins, whatever the arrival order
            assert getattr(contact, field) == newest[-1] or _filled_late(updates, field)
        else:
            assert getattr(contact, field) is None


def _filled_late(updates: list[tuple[int, dict[str, str | None]]], field: str) -> bool:
    """True if the newest event left ``field`` unchanged (None): then an older value may stand."""
    return max(updates)[1][field] is None


def test_merge_in_order_keeps_the_newest_and_fills_from_late_events() -> None:
    t = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    c = merge_contact(None, {"email": "a"}, t[0])
    c = merge_contact(c, {"email": "c"}, t[2])
    c = merge_contact(c, {"email": "b", "name": "N"}, t[1])  # late: email stays, name fills
    assert (c.email, c.name, c.at) == ("c", "N", t[2])
