"""The architecture rules of pyproject's ``[tool.importlinter]`` hold, and each one can break.

``make lint`` runs ``lint-imports``; these tests run the same contracts from pytest and prove
they are not vacuous: one forbidden import added to the real import graph breaks each of them.
"""

from __future__ import annotations

import copy
from typing import Any

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.application.use_cases import lint_imports
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.domain.contract import Contract

from churnwatch_runtime.paths import PROJECT_ROOT

PYPROJECT = str(PROJECT_ROOT / "pyproject.toml")
KINDS: dict[str, type[Contract]] = {
    "forbidden": ForbiddenContract,
    "independence": IndependenceContract,
}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return read_configuration(PYPROJECT)


@pytest.fixture(scope="module")
def graph(config: dict[str, Any]) -> grimp.ImportGraph:
    return grimp.build_graph(
        *config["session_options"]["root_packages"], include_external_packages=True
    )


def contract(config: dict[str, Any], contract_id: str) -> Contract:
    options = next(c for c in config["contracts_options"] if c["id"] == contract_id)
    kind = KINDS[options["type"]]
    return kind(
        name=options["name"],
        session_options=config["session_options"],
        contract_options=copy.deepcopy(options),
    )


def test_every_contract_is_kept() -> None:
    assert lint_imports(config_filename=PYPROJECT, cache_dir=None, no_logo=True)


def test_the_rules_cover_the_domain_runtime_and_every_service(config: dict[str, Any]) -> None:
    ids = {c["id"] for c in config["contracts_options"]}
    assert ids == {
        "domain-pure",
        "domain-below-all",
        "runtime-below-services",
        "services-independent",
    }
    services = set(contract(config, "services-independent").contract_options["modules"])
    roots = set(config["session_options"]["root_packages"])
    assert services == roots - {"churnwatch", "churnwatch_runtime"}
    io = set(contract(config, "domain-pure").contract_options["forbidden_modules"])
    assert {"aiokafka", "asyncpg", "psycopg", "sqlalchemy", "httpx", "fastapi", "socket"} <= io


@pytest.mark.parametrize(
    ("contract_id", "importer", "imported"),
    [
        ("domain-pure", "churnwatch.profile", "sqlalchemy"),
        ("domain-pure", "churnwatch.alerts", "httpx"),
        ("domain-below-all", "churnwatch.errors", "churnwatch_runtime"),
        ("domain-below-all", "churnwatch.model", "churnwatch_scoring"),
        ("runtime-below-services", "churnwatch_runtime.cli", "churnwatch_sim"),
        ("services-independent", "churnwatch_ingest.app", "churnwatch_scoring"),
        ("services-independent", "churnwatch_alerts", "churnwatch_api"),
        ("services-independent", "churnwatch_api.app", "churnwatch_alerts.processor"),
    ],
)
def test_one_forbidden_import_breaks_the_contract(
    config: dict[str, Any], graph: grimp.ImportGraph, contract_id: str, importer: str, imported: str
) -> None:
    mutated = copy.deepcopy(graph)
    mutated.add_import(importer=importer, imported=imported)
    assert not contract(config, contract_id).check(mutated, verbose=False).kept


def test_the_api_may_call_the_alerts_task_layers(
    config: dict[str, Any], graph: grimp.ImportGraph
) -> None:
    """The one allowance (docs/architecture.md): the CLI and the API call the same functions."""
    mutated = copy.deepcopy(graph)
    mutated.add_import(importer="churnwatch_api.app", imported="churnwatch_alerts.worktasks")
    assert contract(config, "services-independent").check(mutated, verbose=False).kept
