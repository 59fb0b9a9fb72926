"""Hostile input the parser would forgive: duplicate keys, non-UTF-8 bytes, dates out of range."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.errors import ConfigError
from churnwatch.events import (
    EXAMPLES,
    EventRejected,
    EventType,
    ValidationLimits,
    duplicate_keys,
    may_have_duplicate_keys,
    parse_event,
    utf8_error,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def example(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(dict(EXAMPLES[EventType.PURCHASE]))
    doc.update(changes)
    return doc


def rejection(raw: Any, **limits: Any) -> EventRejected:
    with pytest.raises(EventRejected) as info:
        parse_event(raw, now=NOW, limits=ValidationLimits(**limits))
    return info.value


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"])
def test_default_or_epoch_dates_are_too_old(when: str) -> None:
    exc = rejection(orjson.dumps(example(occurred_at=when)))
    assert [(e.field, e.code) for e in exc.errors] == [("occurred_at", "too_old")]
    assert "1990-01-01" in exc.errors[0].message


def test_the_window_is_configurable() -> None:
    old = orjson.dumps(example(occurred_at="2020-01-01T00:00:00Z"))
    assert parse_event(old, now=NOW).event_id  # inside the default window
    exc = rejection(old, max_age=timedelta(days=365))
    assert exc.errors[0].code == "too_old"
    assert exc.event_id == EXAMPLES[EventType.PURCHASE]["event_id"]
    floor = datetime(2021, 1, 1, tzinfo=UTC)
    assert rejection(old, min_occurred_at=floor).errors[0].field == "occurred_at"


def test_too_old_is_reported_beside_other_field_errors() -> None:
    doc = example(occurred_at="1970-01-01T00:00:00Z")
    doc["attributes"]["amount"] = "-1"
    exc = rejection(orjson.dumps(doc))
    assert {(e.field, e.code) for e in exc.errors} == {
        ("attributes.amount", "negative_amount"),
        ("occurred_at", "too_old"),
    }


@pytest.mark.parametrize(
    "limits", [{"min_occurred_at": datetime(2000, 1, 1)}, {"max_age": timedelta(0)}]
)
def test_window_settings_out_of_range_are_a_config_error(limits: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        ValidationLimits(**limits)


def test_non_utf8_bytes_name_the_byte_offset_and_field() -> None:
    raw = orjson.dumps(example()).replace(b'"shop-web"', b'"shop-w\xe9b"')
    exc = rejection(raw)
    (error,) = exc.errors
    assert (error.field, error.code) == ("source", "invalid_encoding")
    offset = raw.index(b"\xe9")
    assert f"offset {offset}" in error.message
    assert "0xe9" in error.message
    assert "surrogates" not in error.message


def test_a_bad_byte_outside_any_string_still_gets_its_offset() -> None:
    error = utf8_error(b"{\xff}")
    assert error is not None
    assert (error.field, error.code) == ("", "invalid_encoding")
    assert "offset 1" in error.message


def test_duplicate_keys_are_found_with_their_paths() -> None:
    body = b'{"a": 1, "attributes": {"amount": "1", "amount": "1000"}, "a": 2}'
    assert may_have_duplicate_keys(body, orjson.loads(body))
    assert duplicate_keys(body) == ["attributes.amount", "a"]


def test_a_colon_hidden_in_an_escape_cannot_mask_a_duplicate() -> None:
    body = b'{"a": 1, "a": 2, "s": "\\u003a"}'  # as many colons as {"a":2,"s":":"}
    assert may_have_duplicate_keys(body, orjson.loads(body))
    assert duplicate_keys(body) == ["a"]


def test_strings_that_look_like_keys_are_not_counted() -> None:
    body = orjson.dumps({"note": 'say "a": 1, then \\"b\\":', "x": ["k:", ":"], "y": {"z": ":"}})
    assert not may_have_duplicate_keys(body, orjson.loads(body))
    assert duplicate_keys(body) == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=20,
)


@given(_json, st.booleans())
def test_the_fast_check_agrees_with_the_slow_path(doc: Any, pretty: bool) -> None:
    """No duplicates in any document orjson writes, whatever its keys and strings hold."""
    body = orjson.dumps(doc, option=orjson.OPT_INDENT_2 if pretty else 0)
    assert not may_have_duplicate_keys(body, orjson.loads(body))
    assert duplicate_keys(body) == []
