"""churnwatch's exception hierarchy.

Every error churnwatch raises on purpose derives from `ChurnError`, so a service can map them to
HTTP statuses, DLQ reasons or exit codes in one place::

    ChurnError
    ├── InvalidEvent                  an event breaks the contract in docs/events.md
    │   └── EventRejected             (churnwatch.events) carries every FieldError found
    ├── ConfigError                   a setting or limit is missing or out of range
    └── InfrastructureUnavailable     a dependency (Kafka broker, PostgreSQL) cannot be reached

`EventRejected` lives in `churnwatch.events` because it carries that package's `FieldError`s.
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
