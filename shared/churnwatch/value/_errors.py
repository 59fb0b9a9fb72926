"""Errors of the value models.

``FitDidNotConverge`` derives from `churnwatch.errors.ChurnError`; bad arguments (a negative
amount, a probability above one) raise the built-in `ValueError`, as they are programming errors.
"""

from __future__ import annotations

from churnwatch.errors import ChurnError

__all__ = ["FitDidNotConverge"]


class FitDidNotConverge(ChurnError):
    """Maximum likelihood found no optimum: keep the previous parameters and report the data."""
