"""``__all__`` of the public packages is complete, sorted, and every name in it exists."""

import inspect
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


# That shared/ imports no I/O library (and no service) is an import-linter contract:
# pyproject.toml [tool.importlinter], checked by `make lint` and tests/unit/test_architecture.py.
