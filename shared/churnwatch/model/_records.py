"""Decisions the model makes on its own, each recorded with its event time and evidence.

The service stores every record `ModelState.learn` returns (and the API shows them): when the
learned model took over from the prior, each champion/challenger promotion, each drift alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "ChallengerPromoted",
    "DriftDetected",
    "FellBackToPrior",
    "ModelRecord",
    "SwitchedToLearned",
    "VocabularyChanged",
]


@dataclass(frozen=True, slots=True)
class SwitchedToLearned:
    """The learned champion replaced the prior for scoring: it beat the prior on the same
    recent labels by the paired test (``auc_low``/``auc_high``: the 95% interval of its AUC
    advantage over ``window`` labels; ``log_loss_diff``: learned minus prior, mean)."""

    at: datetime
    labels: int
    positives: int
    negatives: int
    prior_auc: float | None
    learned_auc: float | None
    version: str
    window: int = 0
    auc_low: float | None = None
    auc_high: float | None = None
    log_loss_diff: float | None = None


@dataclass(frozen=True, slots=True)
class FellBackToPrior:
    """The learned champion lost to the rule prior on the same recent labels (paired test,
    ``auc_low``/``auc_high``: the prior's AUC advantage; ``log_loss_diff``: learned minus prior)
    and handed scoring back to it. ``demoted`` is the learned version that lost, ``version`` the
    one now serving (the prior's)."""

    at: datetime
    labels: int
    window: int
    prior_auc: float
    learned_auc: float
    auc_low: float
    auc_high: float
    log_loss_diff: float
    demoted: str
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
    auc_low: float | None = None
    auc_high: float | None = None


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


@dataclass(frozen=True, slots=True)
class VocabularyChanged:
    """The activity names the model reads changed (`VocabularyPolicy`): ``before``/``after``
    are the vocabulary tags, ``added``/``removed`` the names, ``version`` the model's version
    after the change (the tag is in it once the learned model serves)."""

    at: datetime
    labels: int
    before: str
    after: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    version: str


ModelRecord = (
    SwitchedToLearned | ChallengerPromoted | DriftDetected | FellBackToPrior | VocabularyChanged
)
