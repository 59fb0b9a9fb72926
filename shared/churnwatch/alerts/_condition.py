"""The condition language: field comparisons combined with ``all`` / ``any`` / ``not``.

A condition is data, never code: a node is exactly one of

- ``{field: <name>, op: <op>, value: <value>}`` with ``field`` in `FIELDS` and ``op`` in `OPS`;
- ``{all: [<condition>, ...]}``, ``{any: [<condition>, ...]}``, ``{not: <condition>}``.

Values are checked against the field's type when the playbook is parsed (a number for a number,
one of the known choices for a choice, a list for ``in``); ordering operators work on numbers and
on ordered choices (``band``, ``tier``). A comparison with a missing (null) value is false,
whatever the operator (``not`` of it is true); ``exists`` tests for null.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ._facts import FIELDS, Facts, FieldSpec

__all__ = ["MAX_DEPTH", "MAX_NODES", "OPS", "Condition", "holds"]

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists"]
OPS: tuple[str, ...] = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists")
MAX_DEPTH = 6
"""Deepest nesting of ``all``/``any``/``not`` accepted."""
MAX_NODES = 64
"""Most nodes in one condition."""

Scalar = bool | int | float | str
_ORDERING = {"lt", "le", "gt", "ge"}


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_scalar(name: str, spec: FieldSpec, value: Any) -> None:
    if spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name!r} is a number, got {value!r}")
    elif spec.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name!r} is true or false, got {value!r}")
    elif not isinstance(value, str) or value not in spec.choices:
        raise ValueError(
            f"{value!r} is not a {name}; expected one of {', '.join(spec.choices)}"
            + (_did_you_mean(value, spec.choices) if isinstance(value, str) else "")
        )


class Condition(BaseModel):
    """One node of a condition (see the module docstring).

    >>> c = Condition.model_validate({"all": [{"field": "band", "op": "ge", "value": "high"},
    ...                                       {"field": "tier", "op": "in", "value": ["gold"]}]})
    >>> c.kind, len(c.all_ or ())
    ('all', 2)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    field: str | None = None
    op: Op | None = None
    value: Scalar | tuple[Scalar, ...] | None = None
    all_: tuple[Condition, ...] | None = Field(None, alias="all")
    any_: tuple[Condition, ...] | None = Field(None, alias="any")
    not_: Condition | None = Field(None, alias="not")

    @field_validator("field")
    @classmethod
    def _known_field(cls, name: str | None) -> str | None:
        if name is not None and name not in FIELDS:
            raise ValueError(f"unknown field {name!r}{_did_you_mean(name, list(FIELDS))}")
        return name

    @field_validator("value")
    @classmethod
    def _typed_value(cls, value: Any, info: ValidationInfo) -> Any:
        name, op = info.data.get("field"), info.data.get("op")
        if name is None or op is None:
            return value  # reported on the field or op itself
        spec = FIELDS[name]
        if op == "exists":
            if not isinstance(value, bool):
                raise ValueError("'exists' takes true or false")
        elif op in ("in", "not_in"):
            if not isinstance(value, tuple) or not value:
                raise ValueError(f"{op!r} takes a non-empty list")
            for item in value:
                _check_scalar(name, spec, item)
        else:
            if isinstance(value, tuple) or value is None:
                raise ValueError(f"{op!r} takes a single value")
            if op in _ORDERING and spec.kind != "number" and not spec.ordered:
                raise ValueError(f"{op!r} needs a number or an ordered field; {name!r} is not")
            _check_scalar(name, spec, value)
        return value

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [self.all_ is not None, self.any_ is not None, self.not_ is not None]
        is_leaf = self.field is not None or self.op is not None
        if sum(forms) + is_leaf != 1:
            raise ValueError("a condition is exactly one of: all, any, not, or field/op/value")
        if is_leaf and (self.field is None or self.op is None or self.value is None):
            missing = [k for k in ("field", "op", "value") if getattr(self, k) is None]
            raise ValueError(f"a comparison needs field, op and value (missing: {missing})")
        if (self.all_ is not None and not self.all_) or (self.any_ is not None and not self.any_):
            raise ValueError("'all' and 'any' need at least one condition")
        return self

    @property
    def kind(self) -> str:
        """``all``, ``any``, ``not`` or ``compare``."""
        if self.all_ is not None:
            return "all"
        if self.any_ is not None:
            return "any"
        return "not" if self.not_ is not None else "compare"

    def children(self) -> tuple[Condition, ...]:
        """Sub-conditions of ``all``/``any``/``not`` (none for a comparison)."""
        if self.not_ is not None:
            return (self.not_,)
        return self.all_ or self.any_ or ()

    def size(self) -> tuple[int, int]:
        """(nodes, depth) of this condition."""
        nodes, depth = 1, 0
        for child in self.children():
            n, d = child.size()
            nodes, depth = nodes + n, max(depth, d)
        return nodes, depth + (1 if self.kind != "compare" else 0)


def _rank(spec: FieldSpec, value: Any) -> Any:
    return spec.choices.index(value) if spec.kind == "choice" else value


def _compare(c: Condition, facts: Facts) -> bool:
    assert c.field is not None
    actual = facts.value(c.field)
    if c.op == "exists":
        return (actual is not None) is c.value
    if actual is None:
        return False
    match c.op:
        case "eq":
            return bool(actual == c.value)
        case "ne":
            return bool(actual != c.value)
        case "in":
            return isinstance(c.value, tuple) and actual in c.value
        case "not_in":
            return isinstance(c.value, tuple) and actual not in c.value
    spec = FIELDS[c.field]
    if spec.kind == "choice" and actual not in spec.choices:
        return False
    a, b = _rank(spec, actual), _rank(spec, c.value)
    match c.op:
        case "lt":
            return bool(a < b)
        case "le":
            return bool(a <= b)
        case "gt":
            return bool(a > b)
    return bool(a >= b)


def holds(condition: Condition | None, facts: Facts) -> bool:
    """Whether ``facts`` satisfy ``condition`` (no condition: always).

    >>> from churnwatch.alerts import Facts
    >>> f = Facts(customer_id="C-1", event_time="2026-03-01T00:00:00Z", churn_probability=0.4,
    ...           band="high", tier="gold", clv=300.0, value_at_risk=120.0)
    >>> vip = Condition.model_validate({"field": "tier", "op": "ge", "value": "gold"})
    >>> holds(vip, f), holds(Condition.model_validate({"not": vip.model_dump(by_alias=True,
    ...     exclude_none=True)}), f)
    (True, False)
    >>> holds(Condition(field="purchase_count", op="gt", value=0), f)  # null: false
    False
    """
    if condition is None:
        return True
    if condition.all_ is not None:
        return all(holds(c, facts) for c in condition.all_)
    if condition.any_ is not None:
        return any(holds(c, facts) for c in condition.any_)
    if condition.not_ is not None:
        return not holds(condition.not_, facts)
    return _compare(condition, facts)
