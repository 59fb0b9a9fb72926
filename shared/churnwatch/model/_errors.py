"""Errors of the churn model; both derive from `churnwatch.errors.ChurnError`.

Bad arguments (a threshold outside (0, 1), a naive datetime) raise the built-in `ValueError`,
as they are programming errors.
"""

from __future__ import annotations

from churnwatch.errors import ChurnError

__all__ = ["BaselineDidNotConverge", "IncompatibleCheckpoint"]


class IncompatibleCheckpoint(ChurnError):
    """The bytes are not a model checkpoint this code can load (keep the current model)."""


class BaselineDidNotConverge(ChurnError):
    """The batch baseline's optimiser failed: report it instead of a number."""
