"""The churn model: calibrated P(churn within the horizon), learned online from delayed labels.

Pure domain code (docs/model.md). The learner process keeps one `ModelState`: it turns kept
`Snapshot`s into `Label`s with a `LabelResolver` as the event-time watermark passes, `learn`s
them (prequential metrics, drift detection, champion/challenger, the recorded switch from the
cold-start `RulePrior`) and publishes `to_bytes` checkpoints; scoring workers load them with
`ModelState.from_bytes` and call `predict` for a `Score` with a band and per-feature
contributions. `fit_batch_logistic` is the offline baseline the bench compares against.

>>> state = ModelState()
>>> score = state.predict({"activity_recency_days": 45.0, "complaints_unresolved": 2.0})
>>> score.band, score.model_version, max(score.contributions, key=score.contributions.get)
(<Band.HIGH: 'high'>, 'prior-v1', 'activity_recency_days')
"""

from ._batch import BatchLogistic, fit_batch_logistic
from ._calibration import PlattCalibrator
from ._config import (
    CalibrationConfig,
    ColdStartRule,
    LearnerSpec,
    ModelConfig,
    PromotionRule,
    TreatmentPolicy,
)
from ._errors import BaselineDidNotConverge, IncompatibleCheckpoint
from ._labels import (
    CustomerKind,
    Label,
    LabelReason,
    LabelResolver,
    OutcomeEvent,
    OutcomeKind,
    Snapshot,
    SnapshotOutcome,
    SnapshotPolicy,
)
from ._learner import LinearLearner
from ._metrics import (
    CalibrationBin,
    MetricsSummary,
    WindowedMetrics,
    brier_score,
    calibration_table,
    log_loss,
    roc_auc,
)
from ._paired import PairedComparison, compare, delong_auc_difference
from ._prior import DEFAULT_PRIOR_TERMS, PRIOR_VERSION, PriorTerm, RulePrior
from ._records import (
    ChallengerPromoted,
    DriftDetected,
    FellBackToPrior,
    ModelRecord,
    SwitchedToLearned,
    VocabularyChanged,
)
from ._score import Band, BandThresholds, Score, band_for, logit, sigmoid
from ._serving import TREATED_FEATURE, Scorer, ServingModel
from ._state import Contender, ModelState, QualityReport
from ._vocabulary import VocabularyPolicy, vocabulary_version

__all__ = [
    "DEFAULT_PRIOR_TERMS",
    "PRIOR_VERSION",
    "TREATED_FEATURE",
    "Band",
    "BandThresholds",
    "BaselineDidNotConverge",
    "BatchLogistic",
    "CalibrationBin",
    "CalibrationConfig",
    "ChallengerPromoted",
    "ColdStartRule",
    "Contender",
    "CustomerKind",
    "DriftDetected",
    "FellBackToPrior",
    "IncompatibleCheckpoint",
    "Label",
    "LabelReason",
    "LabelResolver",
    "LearnerSpec",
    "LinearLearner",
    "MetricsSummary",
    "ModelConfig",
    "ModelRecord",
    "ModelState",
    "OutcomeEvent",
    "OutcomeKind",
    "PairedComparison",
    "PlattCalibrator",
    "PriorTerm",
    "PromotionRule",
    "QualityReport",
    "RulePrior",
    "Score",
    "Scorer",
    "ServingModel",
    "Snapshot",
    "SnapshotOutcome",
    "SnapshotPolicy",
    "SwitchedToLearned",
    "TreatmentPolicy",
    "VocabularyChanged",
    "VocabularyPolicy",
    "WindowedMetrics",
    "band_for",
    "brier_score",
    "calibration_table",
    "compare",
    "delong_auc_difference",
    "fit_batch_logistic",
    "log_loss",
    "logit",
    "roc_auc",
    "sigmoid",
    "vocabulary_version",
]
