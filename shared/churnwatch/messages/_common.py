"""Pieces both message contracts share: the version, UTC times, trusted construction, decoding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ValidationError

from ._errors import MessageRejected

__all__ = ["MessageVersion", "UtcTime", "decode", "trusted"]

MessageVersion = Literal[1]
"""Version 1 of a message contract. A v1 message carries no ``schema_version`` on the wire (as
first published); a reader takes its absence for 1. Only an incompatible change makes a 2."""

ModelT = TypeVar("ModelT", bound=BaseModel)
_TEXT = (bytes, bytearray, str)
_set = object.__setattr__


UtcTime = AwareDatetime  # checked in pydantic-core: a Python validator per message costs more
"""A time with a UTC offset (written with ``Z`` by the encoders); without one: "needs a UTC
offset" (`MessageRejected`)."""


def trusted(cls: type[ModelT], values: dict[str, Any]) -> ModelT:
    """``cls.model_construct(**values)`` for code that gives *every* field, already typed.

    A producer does not validate what it computed itself (the consumer does); pydantic's
    ``model_construct`` loops over the fields in Python and costs more than validating, this
    costs a dict. A missing or unknown field is a `TypeError`, as with a constructor.

    >>> from pydantic import BaseModel
    >>> class P(BaseModel):
    ...     x: int
    ...     y: str = "a"
    >>> trusted(P, {"x": 1, "y": "b"}) == P(x=1, y="b")
    True
    >>> trusted(P, {"x": 1})
    Traceback (most recent call last):
      ...
    TypeError: P: missing ['y'], unknown []
    """
    names, shared = _names(cls)
    if values.keys() != names:
        missing, unknown = sorted(names - values.keys()), sorted(values.keys() - names)
        raise TypeError(f"{cls.__name__}: missing {missing}, unknown {unknown}")
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", shared if shared is not None else set(names))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


_NAMES: dict[type[BaseModel], tuple[frozenset[str], set[str] | None]] = {}


def _names(cls: type[BaseModel]) -> tuple[frozenset[str], set[str] | None]:
    """The field names, and for a frozen model one fields-set object all its instances share
    (pydantic only changes that set in place on assignment, which a frozen model refuses;
    ``model_copy`` copies it first)."""
    found = _NAMES.get(cls)
    if found is None:
        names = frozenset(cls.model_fields)
        found = _NAMES[cls] = (names, set(names) if cls.model_config.get("frozen") else None)
    return found


def decode(
    cls: type[ModelT], topic: str, raw: bytes | bytearray | str | Mapping[str, Any]
) -> ModelT:
    """Validate a Kafka value (JSON) or an already decoded dict; `MessageRejected` if invalid."""
    try:
        if isinstance(raw, _TEXT):
            return cls.model_validate_json(raw)
        if isinstance(raw, Mapping):
            return cls.model_validate(dict(raw))
    except ValidationError as exc:
        raise MessageRejected.from_validation(topic, exc) from None
    raise MessageRejected(topic, [{"field": "", "message": f"not a message: {type(raw).__name__}"}])
