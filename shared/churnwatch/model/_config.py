"""The model's settings: one frozen `ModelConfig`, made of small frozen parts.

Every number here is a documented choice (docs/model.md) with a default; the scoring service
builds a `ModelConfig` from its settings once and hands it to `ModelState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from ._labels import LabelResolver
from ._prior import RulePrior
from ._score import BandThresholds

__all__ = [
    "CalibrationConfig",
    "ColdStartRule",
    "LearnerSpec",
    "ModelConfig",
    "PromotionRule",
    "TreatmentPolicy",
]


class TreatmentPolicy(StrEnum):
    """What the learner does with a label whose customer got a retention action (`Label.treated`).

    ``exclude`` (default): the snapshot is not learned (nor scored for the metrics); the alerts'
    randomised holdouts keep untreated high-risk customers in the training stream, so the model
    still sees them. ``indicator``: the snapshot is learned with a ``treated`` feature at 1 (and
    untreated ones at 0); predictions hold it at 0, so the model answers "risk if left alone".
    """

    EXCLUDE = "exclude"
    INDICATOR = "indicator"


@dataclass(frozen=True, slots=True)
class LearnerSpec:
    """One online logistic learner: river's ``StandardScaler`` then ``LogisticRegression``.

    ``clip`` bounds every standardised value to ``[-clip, clip]`` at prediction and learning
    (``None``: no bound); see `LinearLearner`.

    >>> LearnerSpec("adam", optimizer="adam", lr=0.005).name
    'adam'
    """

    name: str = "sgd"
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = 0.01
    l2: float = 1e-4
    intercept_lr: float = 0.01
    clip: float | None = 5.0

    def __post_init__(self) -> None:
        if not self.name or "." in self.name:
            raise ValueError(f"learner name must be non-empty without dots, got {self.name!r}")
        if not (self.lr > 0 and self.l2 >= 0 and self.intercept_lr >= 0):
            raise ValueError("learner needs lr > 0, l2 >= 0, intercept_lr >= 0")
        if self.clip is not None and not self.clip > 0:
            raise ValueError("learner clip must be > 0 or None")


@dataclass(frozen=True, slots=True)
class ColdStartRule:
    """The guarded switch between the rule prior and the learned champion.

    The prior answers until the learner has learned ``min_labels`` labels and, on the last
    ``window`` labels (each scored by both before it was learned), ``min_per_class`` of each
    class and a paired win (`PairedComparison.candidate_wins`: the 95% interval of the AUC
    advantage above zero, mean log loss no worse) on ``patience`` consecutive checks, one every
    ``check_every`` labels. With ``fallback``, the same test the other way round hands scoring
    back to the prior when the learner falls below it. After any change, the next needs
    ``window`` new labels (hysteresis: the evidence for it is all from after the change).
    ``paired=False`` is the old count-only rule (tests of the learners themselves).
    """

    min_labels: int = 1000
    min_per_class: int = 50
    window: int = 2000
    check_every: int = 250
    patience: int = 2
    fallback: bool = True
    paired: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.min_per_class <= self.min_labels / 2:
            raise ValueError("cold start needs 0 <= min_per_class <= min_labels / 2")
        if self.window < 2 or self.check_every < 1 or self.patience < 1:
            raise ValueError("cold start needs window >= 2, check_every >= 1, patience >= 1")


@dataclass(frozen=True, slots=True)
class CalibrationConfig:
    """Online Platt scaling over the last ``window`` (raw log-odds, label) pairs, refitted every
    ``refit_every`` labels once each class has ``min_per_class`` examples in the window."""

    window: int = 5000
    refit_every: int = 250
    min_per_class: int = 20
    ridge: float = 1.0

    def __post_init__(self) -> None:
        if not (self.window >= 2 * self.min_per_class and self.refit_every >= 1):
            raise ValueError("calibration needs window >= 2 * min_per_class and refit_every >= 1")
        if self.ridge < 0:
            raise ValueError("calibration ridge must be >= 0")


@dataclass(frozen=True, slots=True)
class PromotionRule:
    """When the challenger replaces the champion (checked every ``check_every`` labels).

    Both are scored on the *same* labels since the last promotion or challenger reset (at most
    ``window`` of them). The challenger is promoted when that duel has at least ``min_labels``
    labels with ``min_per_class`` of each class and, on ``patience`` consecutive checks, the
    paired test says it is better (`PairedComparison.candidate_wins`: the 95% interval of its
    AUC advantage above zero, the advantage at least ``auc_margin``, its mean log loss no worse
    than the champion's plus ``log_loss_slack``).
    """

    window: int = 5000
    min_labels: int = 2000
    min_per_class: int = 50
    check_every: int = 500
    auc_margin: float = 0.01
    log_loss_slack: float = 0.0
    patience: int = 2

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise ValueError("promotion needs patience >= 1")
        if not 2 * self.min_per_class <= self.min_labels <= self.window:
            raise ValueError("promotion needs 2 * min_per_class <= min_labels <= window")
        if self.check_every < 1 or self.auc_margin < 0 or self.log_loss_slack < 0:
            raise ValueError("promotion needs check_every >= 1 and non-negative margins")


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """All the churn model's settings.

    Parameters
    ----------
    horizon_days
        The churn horizon: scores are P(churn within this many days); labels use the same.
    bands
        Band thresholds on the calibrated probability.
    prior
        The cold-start prior.
    cold_start
        When the learned champion takes over from the prior.
    champion, challenger
        The two learners trained side by side; ``challenger=None`` trains none.
    calibration
        The online calibrator each learner gets.
    metrics_window
        Labels in the sliding window of the reported metrics (exact AUC, log loss, Brier,
        calibration table).
    calibration_bins
        Equal-count bins of the calibration table.
    promotion
        The champion/challenger rule.
    drift_delta
        ADWIN's confidence on the champion's log-loss stream (smaller: fewer false alarms).
    drift_block
        ADWIN sees the mean log loss of each block of this many consecutive labels, not each
        label's: labels arrive in clumps (all of a day's "stayed" labels when the watermark
        passes their horizon, cancellations as they happen), and one label's loss is heavy
        tailed (0.01 for most, up to 9 for a surprise churn), both of which break ADWIN's
        bound; block means are near Gaussian and average the clumps out.
    reset_challenger_on_drift
        When ADWIN sees the champion's loss *rise*, restart the challenger from scratch, so a
        learner that has only seen the new regime competes for promotion.
    treatment
        What to do with labels of treated customers.
    """

    horizon_days: int = 30
    bands: BandThresholds = field(default_factory=BandThresholds)
    prior: RulePrior = field(default_factory=RulePrior)
    cold_start: ColdStartRule = field(default_factory=ColdStartRule)
    champion: LearnerSpec = field(default_factory=LearnerSpec)
    challenger: LearnerSpec | None = field(
        default_factory=lambda: LearnerSpec("adam", optimizer="adam", lr=0.002)
    )
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    metrics_window: int = 5000
    calibration_bins: int = 10
    promotion: PromotionRule = field(default_factory=PromotionRule)
    drift_delta: float = 0.002
    drift_block: int = 20
    reset_challenger_on_drift: bool = True
    treatment: TreatmentPolicy = TreatmentPolicy.EXCLUDE

    def resolver(self, *, lapse_days: int = 90, lookback_days: int | None = None) -> LabelResolver:
        """The `LabelResolver` of this config's horizon: the one horizon setting every part
        reads (the scoring worker's ``label_due_at``, the learner's labels, the prior).

        >>> ModelConfig(horizon_days=14).resolver().horizon.days
        14
        """
        return LabelResolver.for_horizon(
            self.horizon_days, lapse_days=lapse_days, lookback_days=lookback_days
        )

    def __post_init__(self) -> None:
        if self.horizon_days < 1 or self.metrics_window < 2 or self.calibration_bins < 1:
            raise ValueError("need horizon_days >= 1, metrics_window >= 2, calibration_bins >= 1")
        if self.prior.horizon_days != self.horizon_days:  # one horizon: the prior follows it
            object.__setattr__(self, "prior", self.prior.for_horizon(self.horizon_days))
        if not 0 < self.drift_delta < 1 or self.drift_block < 1:
            raise ValueError("need drift_delta in (0, 1) and drift_block >= 1")
        if self.challenger is not None and self.challenger.name == self.champion.name:
            raise ValueError("champion and challenger need different names")
