"""churnwatch's exception hierarchy.

Every error churnwatch raises on purpose derives from `ChurnError`, so a service can map them to
HTTP statuses, DLQ reasons or exit codes in one place. The domain's tree (the package each class
is exported from in brackets)::

    ChurnError
    ├── InvalidEvent                  an event breaks the contract in docs/events.md
    │   └── EventRejected             [events] carries every FieldError found
    ├── MessageRejected               [messages] a cw.scores / cw.actions record breaks its contract
    ├── ConfigError                   a setting or limit is missing or out of range
    │   └── PlaybookError             [alerts] a playbook document is invalid; every Issue found
    ├── InvalidTransition             [alerts] a task cannot move from its state to the one asked
    ├── ProfileDecodeError            [profile] bytes that are no profile (also a ValueError)
    ├── IncompatibleCheckpoint        [model] bytes that are no loadable model checkpoint
    ├── BaselineDidNotConverge        [model] the batch baseline's optimiser failed
    ├── FitDidNotConverge             [value] the CLV fit found no optimum; keep the old parameters
    └── InfrastructureUnavailable     a dependency (Kafka broker, PostgreSQL) cannot be reached

The services add their own branches under `ChurnError`::

    ChurnError
    ├── TaskWorkError                 [churnwatch_alerts] working a task (CLI and API)
    │   ├── TaskNotFound              no task has this id
    │   ├── AgentNotFound             no agent has this id
    │   ├── AgentUnavailable          the agent is inactive or not in the task's team
    │   ├── AgentFull                 the agent already holds max_open tasks
    │   └── AgentExists               (churnwatch_alerts.agents) the agent id is taken
    ├── UnknownPlaybook               (churnwatch_alerts.catalog) no such playbook or version
    ├── VersionConflict               (churnwatch_alerts.catalog) a stored version would change
    └── LoaderError                   (churnwatch_sim.loaders) a file cannot be loaded
        ├── MappingError              the file or the column mapping cannot be used at all
        └── BadRowError               a row is invalid and the load is strict

Each subclass lives beside the data it describes (`EventRejected` carries `churnwatch.events`'
`FieldError`s); this module holds only the roots. Bad arguments (a negative amount, a naive
datetime) raise the built-in `ValueError`: they are programming errors, not churnwatch's.
tests/unit/shared/test_errors_tree.py checks that this docstring names every subclass.
"""

from __future__ import annotations

__all__ = ["ChurnError", "ConfigError", "InfrastructureUnavailable", "InvalidEvent"]


class ChurnError(Exception):
    """Root of every error churnwatch raises on purpose."""


class InvalidEvent(ChurnError):
    """An event does not satisfy the event contract."""


class ConfigError(ChurnError):
    """A setting or limit is missing or out of range."""


class InfrastructureUnavailable(ChurnError):
    """A dependency such as the Kafka broker or PostgreSQL cannot be reached."""
