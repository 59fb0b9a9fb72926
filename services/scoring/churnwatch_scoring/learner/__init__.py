"""The churn model's learner: delayed labels from ``label_snapshots`` → checkpoints for workers.

``python -m churnwatch_scoring.learner`` runs it (docs/scoring.md, "Learner"). One process
learns at a time (a PostgreSQL advisory lock); others wait as standbys.
"""

from churnwatch_scoring.learner.clv import ClvFit, clv_due, fit_clv, fits_from_json
from churnwatch_scoring.learner.resolve import (
    Deferred,
    Resolved,
    Skipped,
    decide,
    jsonable,
    outcome_events,
    quality_json,
    record_kind,
    record_row,
    snapshot_of,
)
from churnwatch_scoring.learner.service import CycleReport, Learner, NotLeader
from churnwatch_scoring.learner.settings import LearnerSettings

__all__ = [
    "ClvFit",
    "CycleReport",
    "Deferred",
    "Learner",
    "LearnerSettings",
    "NotLeader",
    "Resolved",
    "Skipped",
    "clv_due",
    "decide",
    "fit_clv",
    "fits_from_json",
    "jsonable",
    "outcome_events",
    "quality_json",
    "record_kind",
    "record_row",
    "snapshot_of",
]
