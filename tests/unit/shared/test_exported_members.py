"""``__all__`` of the public packages is complete, sorted, and every name in it exists."""

import ast
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import churnwatch
import churnwatch.errors
import churnwatch.events

PUBLIC_MODULES = [churnwatch.events, churnwatch.errors]


def public_names(module: ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_is_complete_and_exists(module):
    assert set(module.__all__) == public_names(module)
    assert len(module.__all__) == len(set(module.__all__))


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_is_sorted_constants_then_classes_then_functions(module):
    def group(name: str) -> tuple[int, str]:
        if name.isupper():
            return (0, name)
        return (1 if name[0].isupper() else 2, name)

    assert list(module.__all__) == sorted(module.__all__, key=group)


def test_public_objects_claim_the_public_module():
    for name in churnwatch.events.__all__:
        value = getattr(churnwatch.events, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("churnwatch.events"), name


FORBIDDEN = {"aiokafka", "asyncpg", "httpx", "psycopg", "sqlalchemy", "socket", "requests"}


def test_events_package_imports_no_io_library():
    """shared/ is pure domain code: it must stay importable without a broker or a database."""
    package = Path(churnwatch.events.__file__).parent
    for path in [*package.glob("*.py"), Path(churnwatch.errors.__file__)]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"
