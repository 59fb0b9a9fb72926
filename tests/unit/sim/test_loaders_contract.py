"""A check of purchase events against docs/events.md, used by the loader tests.

The pydantic models in ``churnwatch.events`` are the contract's source of truth:
:func:`contract_violations` asks ``parse_event`` and also checks the documented rules itself, so
a loader bug and a model bug would both show.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import ModuleType
from typing import Any

import pytest

from churnwatch.events import EventRejected, parse_event

_EVENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9._:@-]{1,64}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_ENVELOPE = {
    "event_id",
    "event_type",
    "customer_id",
    "occurred_at",
    "source",
    "schema_version",
    "attributes",
}
_PURCHASE = {"order_id", "amount", "currency", "items", "channel"}


def contract_violations(event: dict[str, Any], now: datetime | None = None) -> list[str]:
    """Every way ``event`` breaks the v1 purchase contract (empty when it is valid)."""
    problems: list[str] = []
    if set(event) != _ENVELOPE:
        problems.append(f"envelope fields {sorted(set(event) ^ _ENVELOPE)}")
        return problems
    if not _EVENT_ID.fullmatch(event["event_id"]):
        problems.append("event_id")
    if event["event_type"] != "purchase":
        problems.append("event_type")
    if not _CUSTOMER_ID.fullmatch(event["customer_id"]):
        problems.append("customer_id")
    if not 1 <= len(event["source"]) <= 64:
        problems.append("source")
    if event["schema_version"] != 1:
        problems.append("schema_version")
    try:
        moment = datetime.fromisoformat(event["occurred_at"])
        if moment.tzinfo is None:
            problems.append("occurred_at naive")
        elif moment > (now or datetime.now(UTC)) + timedelta(minutes=5):
            problems.append("occurred_at in future")
    except ValueError:
        problems.append("occurred_at")
    attributes = event["attributes"]
    if not set(attributes) <= _PURCHASE or not {"order_id", "amount", "currency"} <= set(
        attributes
    ):
        problems.append(f"attributes {sorted(attributes)}")
        return problems
    if not isinstance(attributes["order_id"], str) or not 1 <= len(attributes["order_id"]) <= 128:
        problems.append("order_id")
    try:
        amount = Decimal(attributes["amount"])
        exponent = amount.as_tuple().exponent
        if not isinstance(attributes["amount"], str) or isinstance(exponent, str):
            problems.append("amount type")
        elif amount < 0 or amount >= Decimal(10) ** 12 or exponent < -4:
            problems.append("amount range")
    except InvalidOperation:
        problems.append("amount")
    if not _CURRENCY.fullmatch(attributes["currency"]):
        problems.append("currency")
    items = attributes.get("items", 1)
    if not isinstance(items, int) or items < 1:
        problems.append("items")
    problems.extend(_pydantic_violations(event, now or datetime.now(UTC)))
    return problems


def _pydantic_violations(event: dict[str, Any], now: datetime) -> list[str]:
    try:
        parse_event(event, now=now)
    except EventRejected as exc:
        return [f"{e.field}: {e.code}" for e in exc.errors]
    return []


_VALID: dict[str, Any] = {
    "event_id": "shop:r1:abc",
    "event_type": "purchase",
    "customer_id": "C-1042",
    "occurred_at": "2024-03-01T10:15:00Z",
    "source": "shop",
    "schema_version": 1,
    "attributes": {"order_id": "O-77", "amount": "59.90", "currency": "EUR", "items": 1},
}


def test_checker_accepts_a_valid_event() -> None:
    assert contract_violations(_VALID) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("event_id",), "has space"),
        (("customer_id",), "a/b"),
        (("occurred_at",), "2024-03-01T10:15:00"),
        (("occurred_at",), "2999-01-01T00:00:00Z"),
        (("attributes", "amount"), "-1"),
        (("attributes", "amount"), "1.00001"),
        (("attributes", "amount"), 5.5),
        (("attributes", "currency"), "eur"),
        (("attributes", "items"), 0),
    ],
)
def test_checker_rejects(path: tuple[str, ...], value: Any) -> None:
    event = copy.deepcopy(_VALID)
    target: dict[str, Any] = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert contract_violations(event) != []


def test_loaders_exports_are_complete() -> None:
    import churnwatch_sim.loaders as loaders

    public = {
        name
        for name, value in vars(loaders).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    }
    assert sorted(loaders.__all__) == sorted(public)
