"""The one registry: every service and command group the package declares loads and runs."""

from __future__ import annotations

import importlib.util

import typer

from churnwatch_runtime import registry


def test_every_service_is_registered_in_start_order() -> None:
    specs = registry.services()
    assert [s.name for s in specs] == [
        "ingest", "raw-validator", "scoring", "learner", "alerts", "api"
    ]  # fmt: skip
    for spec in specs:
        assert importlib.util.find_spec(f"{spec.module}.__main__") is not None, spec
    assert registry.service("api") == registry.ServiceSpec(
        "api", "churnwatch_api", (), "CW_API_PORT", 8000, order=60
    )
    assert registry.service("nope") is None
    assert sorted(registry.service_names()) == sorted(s.name for s in specs)


def test_every_command_group_is_a_typer_app() -> None:
    groups = dict(registry.cli_groups())
    assert {"keys", "task", "agents", "playbooks", "uplift", "simulate", "replay"} <= set(groups)
    for ep in groups.values():
        assert isinstance(ep.load(), typer.Typer), ep.value
