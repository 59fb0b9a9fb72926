"""The exception tree in ``churnwatch.errors``' docstring names every `ChurnError` subclass."""

from __future__ import annotations

import importlib
import pkgutil

import churnwatch.errors
from churnwatch.errors import ChurnError

PACKAGES = [
    "churnwatch",
    "churnwatch_runtime",
    "churnwatch_ingest",
    "churnwatch_scoring",
    "churnwatch_alerts",
    "churnwatch_api",
    "churnwatch_sim",
]


def subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= subclasses(sub)
    return found


def test_every_churn_error_subclass_is_in_the_documented_tree() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations" not in info.name and not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    doc = churnwatch.errors.__doc__ or ""
    found = {cls.__name__ for cls in subclasses(ChurnError) if cls.__module__.startswith("churn")}
    assert len(found) >= 20
    missing = {name for name in found if f" {name} " not in doc}
    assert missing == set(), "add them to the tree in shared/churnwatch/errors.py"
