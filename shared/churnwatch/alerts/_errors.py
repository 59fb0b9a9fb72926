"""Errors of the alerts domain::

ChurnError
├── ConfigError
│   └── PlaybookError        a playbook document is invalid; carries every `Issue` found
└── InvalidTransition        a task cannot move from its state to the one asked for
"""

from __future__ import annotations

from dataclasses import dataclass

from churnwatch.errors import ChurnError, ConfigError

__all__ = ["InvalidTransition", "Issue", "PlaybookError"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a playbook document, at ``path`` (``playbooks[2].condition.all[0].field``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PlaybookError(ConfigError):
    """A playbook document was rejected; ``issues`` lists every problem with its path."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))


class InvalidTransition(ChurnError):
    """A task state change that the lifecycle does not allow."""
