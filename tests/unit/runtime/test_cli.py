"""Every command of the ``churnwatch`` CLI renders its help (rich markup errors surface here)."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from churnwatch_runtime.cli import app


def _paths(command: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for info in command.registered_commands:
        out.append((*prefix, info.name or info.callback.__name__))  # type: ignore[union-attr]
    for group in command.registered_groups:
        assert group.typer_instance is not None
        out += _paths(group.typer_instance, (*prefix, group.name or ""))
    return out


PATHS = _paths(app)


def test_the_cli_has_the_operations_users_need() -> None:
    names = {" ".join(p) for p in PATHS}
    for needed in ("infra up", "infra down", "topics", "migrate", "run", "produce", "demo"):
        assert needed in names
    assert "simulate run" in names
    assert "replay cdnow" in names


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "root")
def test_help_renders(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
