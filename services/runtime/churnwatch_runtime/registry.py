"""The one registry of services and command-line groups: Python entry points.

Each service package declares itself in ``pyproject.toml``::

    [project.entry-points."churnwatch.services"]
    api = "churnwatch_api.entry:SERVICE"          # a ServiceSpec

    [project.entry-points."churnwatch.cli"]
    keys = "churnwatch_api.cli:keys_app"          # a typer.Typer mounted as `churnwatch keys`

``churnwatch run``, ``churnwatch demo`` and the ``churnwatch`` command read them here, so the
runtime imports no service (an import-linter contract keeps it so). After changing entry points,
reinstall the package (``pip install -e '.[dev]'``; ``make bootstrap`` does it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

SERVICES_GROUP = "churnwatch.services"
CLI_GROUP = "churnwatch.cli"


@dataclass(frozen=True)
class ServiceSpec:
    """A process ``churnwatch run`` / the demo start: ``python -m module *args``.

    ``port_env``/``default_port`` locate its ``/readyz`` (None: it has none); the demo starts
    services by ascending ``order``.

    >>> ServiceSpec("api", "churnwatch_api", port_env="CW_NO_SUCH_VAR", default_port=8000).port
    8000
    """

    name: str
    module: str
    args: tuple[str, ...] = ()
    port_env: str | None = None
    default_port: int | None = None
    order: int = 50

    @property
    def port(self) -> int | None:
        if self.port_env is None or self.default_port is None:
            return None
        return int(os.environ.get(self.port_env, str(self.default_port)))

    def argv(self) -> list[str]:
        """Arguments after the interpreter.

        >>> ServiceSpec("raw-validator", "churnwatch_ingest", ("raw",)).argv()
        ['-m', 'churnwatch_ingest', 'raw']
        """
        return ["-m", self.module, *self.args]


def _group(group: str) -> list[EntryPoint]:
    return sorted(entry_points(group=group), key=lambda ep: ep.name)


def service_names() -> list[str]:
    """Every registered service, without importing any."""
    return [ep.name for ep in _group(SERVICES_GROUP)]


def service(name: str) -> ServiceSpec | None:
    """The spec of one service (imports only that package); ``None`` if not registered."""
    for ep in _group(SERVICES_GROUP):
        if ep.name == name:
            return _spec(ep)
    return None


def services() -> list[ServiceSpec]:
    """Every registered service, in start order."""
    return sorted((_spec(ep) for ep in _group(SERVICES_GROUP)), key=lambda s: (s.order, s.name))


def cli_groups() -> list[tuple[str, EntryPoint]]:
    """``(command name, entry point of its typer app)``; the caller loads and mounts them."""
    return [(ep.name, ep) for ep in _group(CLI_GROUP)]


def _spec(ep: EntryPoint) -> ServiceSpec:
    spec: Any = ep.load()
    if not isinstance(spec, ServiceSpec) or spec.name != ep.name:
        raise TypeError(f"entry point {ep.name} = {ep.value} is not the ServiceSpec {ep.name!r}")
    return spec
