"""The public API: `__all__` is complete and ordered, objects pickle, and no I/O is imported."""

from __future__ import annotations

import ast
import inspect
import pickle
from pathlib import Path

import churnwatch.profile as profile_api
from churnwatch.events import EventType as E
from churnwatch.profile import FEATURE_NAMES, LifecycleRules, Reason, RfmCuts
from churnwatch.profile._reasons import _PHRASES

from .support import at, build, event

FORBIDDEN = {
    "aiokafka",
    "asyncpg",
    "httpx",
    "psycopg",
    "sqlalchemy",
    "socket",
    "requests",
    "os",
    "io",
}


def test_all_is_complete_and_ordered_constants_classes_functions():
    public = {
        name
        for name, value in vars(profile_api).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert set(profile_api.__all__) == public

    def group(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert list(profile_api.__all__) == sorted(profile_api.__all__, key=group)


def test_public_objects_live_in_the_package():
    for name in profile_api.__all__:
        value = getattr(profile_api, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("churnwatch.profile"), name


def test_every_feature_has_a_phrase():
    assert set(_PHRASES) == set(FEATURE_NAMES)


def test_values_pickle():
    objects = [
        build([event(E.PURCHASE, 1), event(E.COMPLAINT, 2)]),
        Reason("tenure_days", 0.5, "customer for 3 days"),
        LifecycleRules(lapse_days=60),
        RfmCuts((1, 2, 3, 4), (1, 2, 3, 4), (1, 2, 3, 4)),
        at(0),
    ]
    for obj in objects:
        assert pickle.loads(pickle.dumps(obj)) == obj


def test_the_package_imports_no_io_library():
    package = Path(profile_api.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"
