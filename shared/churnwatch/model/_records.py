"""Decisions the model makes on its own, each recorded with its event time and evidence.

The service stores every record `ModelState.learn` returns (and the API shows them): when the
learned model took over from the prior, each champion/challenger promotion, each drift alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["ChallengerPromoted", "DriftDetected", "ModelRecord", "SwitchedToLearned"]


@dataclass(frozen=True, slots=True)
class SwitchedToLearned:
    """The learned champion replaced the cold-start prior for scoring."""

    at: datetime
    labels: int
    positives: int
    negatives: int
    prior_auc: float | None
    learned_auc: float | None
    version: str


@dataclass(frozen=True, slots=True)
class ChallengerPromoted:
    """The challenger beat the champion on a duel window and took its place (they swap)."""

    at: datetime
    promoted: str
    demoted: str
    duel_labels: int
    duel_positives: int
    champion_auc: float
    challenger_auc: float
    champion_log_loss: float
    challenger_log_loss: float
    version: str


@dataclass(frozen=True, slots=True)
class DriftDetected:
    """ADWIN saw the champion's prequential log loss change; ``rising`` means it got worse."""

    at: datetime
    learner: str
    loss_before: float
    loss_after: float
    rising: bool
    labels: int
    challenger_reset: bool


ModelRecord = SwitchedToLearned | ChallengerPromoted | DriftDetected
