"""FieldError, EventRejected and the exception hierarchy."""

import pickle

import pytest

from churnwatch import errors
from churnwatch.events import ErrorCode, EventRejected, FieldError


def make_errors(n: int) -> list[FieldError]:
    return [FieldError(f"attributes.f{i}", ErrorCode.INVALID_VALUE, f"bad {i}") for i in range(n)]


def test_hierarchy():
    assert issubclass(EventRejected, errors.InvalidEvent)
    for cls in (errors.InvalidEvent, errors.ConfigError, errors.InfrastructureUnavailable):
        assert issubclass(cls, errors.ChurnError)
    assert issubclass(errors.ChurnError, Exception)


def test_hierarchy_tree_in_docstring_names_every_class():
    doc = errors.__doc__ or ""
    for name in (*errors.__all__, "EventRejected"):
        assert name in doc


def test_field_error_to_dict_uses_plain_strings():
    error = FieldError("attributes.amount", ErrorCode.NEGATIVE_AMOUNT, "must be >= 0, got -1")
    as_dict = error.to_dict()
    assert as_dict == {
        "field": error.field,
        "code": ErrorCode.NEGATIVE_AMOUNT.value,
        "message": error.message,
    }
    assert type(as_dict["code"]) is str


def test_rejection_carries_keys_errors_and_reason():
    found = make_errors(2)
    exc = EventRejected(found, event_id="e1", customer_id="C-1", event_type="purchase")
    assert exc.errors == tuple(found)
    assert exc.reason == found[0].code
    assert exc.to_dict() == {
        "event_id": "e1",
        "customer_id": "C-1",
        "event_type": "purchase",
        "errors": [error.to_dict() for error in found],
    }


def test_rejection_needs_an_error():
    with pytest.raises(ValueError, match="at least one"):
        EventRejected([])


def test_message_summarises_the_first_errors():
    exc = EventRejected(make_errors(5))
    text = str(exc)
    assert "attributes.f0: invalid_value (bad 0)" in text
    assert "attributes.f2" in text
    assert "attributes.f3" not in text
    assert "and 2 more" in text
    assert "<document>" in str(EventRejected([FieldError("", ErrorCode.TOO_LARGE, "big")]))


def test_rejection_survives_pickle():
    exc = EventRejected(make_errors(2), event_id="e1", customer_id="C-1", event_type="nps")
    copy = pickle.loads(pickle.dumps(exc))
    assert isinstance(copy, EventRejected)
    assert (copy.errors, copy.event_id, copy.customer_id, copy.event_type) == (
        exc.errors,
        exc.event_id,
        exc.customer_id,
        exc.event_type,
    )
    assert str(copy) == str(exc)


def test_field_error_is_frozen():
    error = make_errors(1)[0]
    with pytest.raises(AttributeError):
        error.code = "missing"  # type: ignore[misc]
