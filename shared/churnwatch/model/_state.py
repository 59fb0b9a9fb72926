"""`ModelState`: everything the churn model is, in one picklable object.

One learner process owns the state: it calls `learn` for each resolved label (in the order the
labels topic gives them), keeps `to_bytes` checkpoints for its own restarts and publishes
`serving()` copies that the scoring workers hot-load. Per label, `learn` does, in order:

1. **treatment policy**: a treated label is skipped (``exclude``) or learned with the
   ``treated`` indicator at 1 and not scored (``indicator``);
2. **prequential step**: the prior, the champion and the challenger each score the features
   *before* learning them; the pairs feed each one's metrics window and the learners' raw
   log-odds their calibrators; then both learners learn the example;
3. **drift**: the champion's log loss, averaged over blocks of ``drift_block`` labels, goes to
   ADWIN; a detection is recorded, and when the loss rose the challenger restarts from scratch
   (if configured);
4. **duel**: both calibrated probabilities join the promotion window; every ``check_every``
   labels the `PromotionRule` (a paired test, `compare`) is checked, and after ``patience``
   consecutive wins champion and challenger swap;
5. **guarded switch**: the prior's and the champion's probabilities join a window of recent
   labels; the champion replaces the prior only once it beats it there by the paired test
   (`ColdStartRule`), and hands back to the prior when the prior beats it the same way.
"""

from __future__ import annotations

import copy
import math
import pickle
import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from river import drift

from churnwatch.profile import ActivityVocabulary

from ._calibration import PlattCalibrator
from ._config import LearnerSpec, ModelConfig, TreatmentPolicy
from ._labels import Label, Snapshot
from ._learner import LinearLearner
from ._metrics import MetricsSummary, WindowedMetrics
from ._paired import PairedComparison, compare
from ._records import (
    ChallengerPromoted,
    DriftDetected,
    FellBackToPrior,
    ModelRecord,
    SwitchedToLearned,
    VocabularyChanged,
)
from ._score import Score, sigmoid
from ._serving import TREATED_FEATURE, ServingModel, load_checkpoint, score_features
from ._vocabulary import vocabulary_version

__all__ = [
    "Contender",
    "ModelState",
    "QualityReport",
]

_CHECKPOINT_FORMAT = "churnwatch.model/2"
_HISTORY = 1000
_LOSS_CLIP = 1e-4
_RECENT_BLOCKS = 5  # drift direction: mean loss of the last 5 blocks vs ADWIN's level before


class Contender:
    """One learner with its own calibrator and prequential metrics window."""

    def __init__(self, spec: LearnerSpec, config: ModelConfig) -> None:
        self.spec = spec
        self.learner = LinearLearner(spec)
        self.calibrator = PlattCalibrator(config.calibration)
        self.metrics = WindowedMetrics(config.metrics_window)

    def score_then_learn(self, features: Mapping[str, float], churned: bool) -> float:
        """Prequential step: score, record, then learn; returns the pre-learning probability."""
        z = self.learner.log_odds_then_learn(features, churned)
        p = sigmoid(self.calibrator.calibrate(z))
        self.metrics.add(p, churned)
        self.calibrator.learn(z, churned)
        return p


@dataclass(frozen=True, slots=True)
class QualityReport:
    """Live model quality for the API: each model's window metrics and the current duel."""

    version: str
    serving: str
    labels: int
    positives: int
    skipped_treated: int
    prior: MetricsSummary
    champion_name: str
    champion: MetricsSummary
    challenger_name: str | None
    challenger: MetricsSummary | None
    duel_labels: int
    drifts: int
    promotions: int
    fallbacks: int = 0
    switch_check: PairedComparison | None = None
    """the latest paired comparison of the champion (candidate) with the prior (incumbent)"""


class ModelState:
    """The churn model: prior, champion, challenger, calibrators, metrics, decisions, version.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from churnwatch.model import ColdStartRule, ModelConfig
    >>> rule = ColdStartRule(min_labels=40, min_per_class=10, paired=False)
    >>> state = ModelState(ModelConfig(cold_start=rule))
    >>> state.predict({"failed_payments_consecutive": 2.0}).model_version
    'prior-v1'
    >>> at = datetime(2024, 5, 1, tzinfo=UTC)
    >>> records = []
    >>> for k in range(40):
    ...     records += state.learn({"failed_payments": k % 4}, k % 4 >= 2, at=at)
    >>> type(records[0]).__name__, state.version
    ('SwitchedToLearned', 'sgd.g1.n40')
    >>> ModelState.from_bytes(state.to_bytes()).predict({"failed_payments": 3.0}) == state.predict(
    ...     {"failed_payments": 3.0})
    True
    """

    # the guarded switch (set by _guard_defaults, also for older checkpoints)
    _recent: deque[tuple[bool, float, float]]  # (label, prior, champion) before learning
    _switch_wins: int
    _since_switch_check: int
    _since_change: int
    _promotion_wins: int
    fallbacks: int
    switch_check: PairedComparison | None
    activities = ActivityVocabulary(())  # no names until `set_activities` (older checkpoints)

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        cfg = self.config
        self.champion = Contender(cfg.champion, cfg)
        self.challenger = None if cfg.challenger is None else Contender(cfg.challenger, cfg)
        self.prior_metrics = WindowedMetrics(cfg.metrics_window)
        self.generation = 0
        self.labels = 0
        self.positives = 0
        self.skipped_treated = 0
        self.drifts = 0
        self.promotions = 0
        self.switched_at: datetime | None = None
        self.history: deque[ModelRecord] = deque(maxlen=_HISTORY)
        self._adwin = _adwin(cfg.drift_delta)
        self._block_loss, self._block_size = 0.0, 0
        self._recent_blocks: deque[float] = deque(maxlen=_RECENT_BLOCKS)
        self._duel: deque[tuple[bool, float, float]] = deque(maxlen=cfg.promotion.window)
        self._since_check = 0
        self.__dict__.update(_guard_defaults(cfg))

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Checkpoints written before the guarded switch lack its fields: default them."""
        self.__dict__.update({sys.intern(k): v for k, v in state.items()})  # as pickle does
        for name, value in _guard_defaults(state["config"]).items():
            self.__dict__.setdefault(name, value)

    # -- scoring -------------------------------------------------------------------------

    @property
    def learned_active(self) -> bool:
        """Whether the learned champion (not the prior) answers `predict`."""
        return self.switched_at is not None

    @property
    def version(self) -> str:
        """``prior-v1`` in cold start, else ``<champion>.g<generation>.n<labels learned>``, then
        ``.<vocabulary tag>`` once activity names are picked (the prior reads none of them)."""
        if not self.learned_active:
            return self.config.prior.version
        base = f"{self.champion.spec.name}.g{self.generation}.n{self.labels}"
        tag = vocabulary_version(self.activities)
        return base if tag == "a0" else f"{base}.{tag}"

    def set_activities(self, vocab: ActivityVocabulary, at: datetime) -> list[ModelRecord]:
        """Read the activity names of ``vocab`` from now on (features of other names are simply
        absent); a `VocabularyChanged` record when it differs from the current one."""
        before = self.activities
        if vocab == before:
            return []
        self.activities = vocab
        record = VocabularyChanged(
            at,
            self.labels,
            vocabulary_version(before),
            vocabulary_version(vocab),
            tuple(n for n in vocab.names if n not in before.names),
            tuple(n for n in before.names if n not in vocab.names),
            self.version,
        )
        self.history.append(record)
        return [record]

    def predict(self, features: Mapping[str, float]) -> Score:
        """The churn score of one customer's features; never changes the state."""
        learner = self.champion.learner if self.learned_active else None
        cal = self.champion.calibrator
        return score_features(self.config, learner, cal.slope, cal.offset, self.version, features)

    def serving(self) -> ServingModel:
        """A compact copy of what `predict` uses, for the scoring workers."""
        if not self.learned_active:
            return ServingModel(self.config, None, 1.0, 0.0, self.version, self.activities)
        cal = self.champion.calibrator
        learner = copy.deepcopy(self.champion.learner)
        return ServingModel(
            self.config, learner, cal.slope, cal.offset, self.version, self.activities
        )

    # -- learning ------------------------------------------------------------------------

    def learn_label(self, snapshot: Snapshot, label: Label) -> list[ModelRecord]:
        """`learn` a resolved snapshot at the event time its label became known."""
        return self.learn(
            snapshot.features, label.churned, at=label.known_at, treated=label.treated
        )

    def learn(
        self, features: Mapping[str, float], churned: bool, *, at: datetime, treated: bool = False
    ) -> list[ModelRecord]:
        """Score-then-learn one labelled snapshot; returns the decisions it triggered."""
        cfg = self.config
        if treated and cfg.treatment is TreatmentPolicy.EXCLUDE:
            self.skipped_treated += 1
            return []
        y = bool(churned)
        x = self._untreated(features)  # validates the features before any change
        self.labels += 1
        self.positives += y
        records: list[ModelRecord] = []
        if treated:  # indicator policy: learn the treated outcome, keep it out of the metrics
            treated_x = {**x, TREATED_FEATURE: 1.0}
            self.champion.learner.learn(treated_x, y)
            if self.challenger is not None:
                self.challenger.learner.learn(treated_x, y)
        else:
            p_prior = cfg.prior.probability(features)
            self.prior_metrics.add(p_prior, y)
            p_champion = self.champion.score_then_learn(x, y)
            self._recent.append((y, p_prior, p_champion))
            p_challenger = None
            if self.challenger is not None:
                p_challenger = self.challenger.score_then_learn(x, y)
            records += self._watch_drift(p_champion, y, at)
            if p_challenger is not None and self.challenger is not None:
                self._duel.append((y, p_champion, p_challenger))
                records += self._maybe_promote(at)
        records += self._maybe_switch(at)
        self.history.extend(records)
        return records

    def _check_features(self, features: Mapping[str, float]) -> Mapping[str, float]:
        if self.config.treatment is TreatmentPolicy.INDICATOR and TREATED_FEATURE in features:
            raise ValueError(
                f"feature name {TREATED_FEATURE!r} is reserved by the indicator policy"
            )
        return features

    def _untreated(self, features: Mapping[str, float]) -> Mapping[str, float]:
        if self.config.treatment is TreatmentPolicy.INDICATOR:
            return {**self._check_features(features), TREATED_FEATURE: 0.0}
        return features

    def _watch_drift(self, p: float, y: bool, at: datetime) -> list[ModelRecord]:
        q = min(max(p if y else 1.0 - p, _LOSS_CLIP), 1.0)
        self._block_loss += -math.log(q)
        self._block_size += 1
        if self._block_size < self.config.drift_block:
            return []
        mean_loss = self._block_loss / self._block_size
        self._block_loss, self._block_size = 0.0, 0
        self._recent_blocks.append(mean_loss)
        before = float(self._adwin.estimation)
        self._adwin.update(mean_loss)
        if not self._adwin.drift_detected:
            return []
        # the direction: are the latest blocks above the level ADWIN estimated before the cut?
        # (not ADWIN's estimate after it, which still mixes in older data and mostly records
        # the learning curve's slow fall, so it called the synthetic drift "falling")
        after = sum(self._recent_blocks) / len(self._recent_blocks)
        rising = after > before
        reset = rising and self.config.reset_challenger_on_drift and self.challenger is not None
        if reset and self.challenger is not None:
            self.challenger = Contender(self.challenger.spec, self.config)
            self._duel.clear()
            self._since_check = 0
        self.drifts += 1
        return [
            DriftDetected(at, self.champion.spec.name, before, after, rising, self.labels, reset)
        ]

    def _maybe_promote(self, at: datetime) -> list[ModelRecord]:
        rule = self.config.promotion
        self._since_check += 1
        if self._since_check < rule.check_every or len(self._duel) < rule.min_labels:
            return []
        self._since_check = 0
        duel = np.array(self._duel, dtype=np.float64)
        y = duel[:, 0].astype(bool)
        positives = int(y.sum())
        if min(positives, y.size - positives) < rule.min_per_class:
            return []
        assert self.challenger is not None
        test = compare(y, duel[:, 1], duel[:, 2])
        if not test.candidate_wins(rule.auc_margin, rule.log_loss_slack):
            self._promotion_wins = 0
            return []
        self._promotion_wins += 1
        if self._promotion_wins < rule.patience:
            return []
        self._promotion_wins = 0
        old = self.champion
        self.champion, self.challenger = self.challenger, old
        if self.learned_active:  # in cold start the switch starts generation 1
            self.generation += 1
        self.promotions += 1
        self._duel.clear()
        self._recent.clear()  # the prior-vs-champion evidence was about the old champion
        self._since_change = 0
        self._adwin = _adwin(self.config.drift_delta)
        self._block_loss, self._block_size = 0.0, 0
        return [
            ChallengerPromoted(
                at,
                self.champion.spec.name,
                old.spec.name,
                int(y.size),
                positives,
                test.incumbent_auc,
                test.candidate_auc,
                _mean_loss(y, duel[:, 1]),
                _mean_loss(y, duel[:, 2]),
                self.version,
                test.auc_low,
                test.auc_high,
            )
        ]

    def _maybe_switch(self, at: datetime) -> list[ModelRecord]:
        rule = self.config.cold_start
        self._since_change += 1
        negatives = self.labels - self.positives
        if self.labels < rule.min_labels or min(self.positives, negatives) < rule.min_per_class:
            return []
        if not rule.paired:  # the count-only rule
            return [] if self.learned_active else [self._switch(at, None)]
        self._since_switch_check += 1
        if self._since_switch_check < rule.check_every or self._since_change < rule.window:
            return []
        self._since_switch_check = 0
        recent = np.array(self._recent, dtype=np.float64)
        y = recent[:, 0].astype(bool)
        if min(int(y.sum()), int((~y).sum())) < max(rule.min_per_class, 2):
            return []
        if self.learned_active:  # is the prior now better than the learner?
            test = compare(y, recent[:, 2], recent[:, 1])
        else:
            test = compare(y, recent[:, 1], recent[:, 2])
        self.switch_check = test if not self.learned_active else _flip(test)
        if not test.candidate_wins():
            self._switch_wins = 0
            return []
        self._switch_wins += 1
        if self._switch_wins < rule.patience:
            return []
        if self.learned_active and not rule.fallback:
            return []
        self._switch_wins, self._since_change = 0, 0
        if not self.learned_active:
            return [self._switch(at, test)]
        demoted = self.version
        self.switched_at = None
        self.fallbacks += 1
        return [
            FellBackToPrior(
                at,
                self.labels,
                test.labels,
                test.candidate_auc,
                test.incumbent_auc,
                test.auc_low,
                test.auc_high,
                -test.log_loss_diff,
                demoted,
                self.version,
            )
        ]

    def _switch(self, at: datetime, test: PairedComparison | None) -> SwitchedToLearned:
        self.switched_at = at
        self.generation += 1
        prior, learned = self.prior_metrics.summary(1), self.champion.metrics.summary(1)
        return SwitchedToLearned(
            at,
            self.labels,
            self.positives,
            self.labels - self.positives,
            prior.auc if test is None else test.incumbent_auc,
            learned.auc if test is None else test.candidate_auc,
            self.version,
            0 if test is None else test.labels,
            None if test is None else test.auc_low,
            None if test is None else test.auc_high,
            None if test is None else test.log_loss_diff,
        )

    # -- reporting and checkpoints -------------------------------------------------------

    def quality(self) -> QualityReport:
        """The live metrics of the prior, champion and challenger over their windows."""
        bins = self.config.calibration_bins
        challenger = self.challenger
        return QualityReport(
            version=self.version,
            serving=self.champion.spec.name if self.learned_active else self.config.prior.version,
            labels=self.labels,
            positives=self.positives,
            skipped_treated=self.skipped_treated,
            prior=self.prior_metrics.summary(bins),
            champion_name=self.champion.spec.name,
            champion=self.champion.metrics.summary(bins),
            challenger_name=None if challenger is None else challenger.spec.name,
            challenger=None if challenger is None else challenger.metrics.summary(bins),
            duel_labels=len(self._duel),
            drifts=self.drifts,
            promotions=self.promotions,
            fallbacks=self.fallbacks,
            switch_check=self.switch_check,
        )

    def to_bytes(self) -> bytes:
        """A versioned checkpoint of the whole state (pickle), for the learner's own restarts.

        Load only checkpoints your own learner wrote; workers load `serving` copies instead.
        """
        return pickle.dumps((_CHECKPOINT_FORMAT, self), protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelState:
        """Load a checkpoint written by `to_bytes`; `IncompatibleCheckpoint` otherwise."""
        return load_checkpoint(data, _CHECKPOINT_FORMAT, cls)


def _guard_defaults(config: ModelConfig) -> dict[str, Any]:
    """The guarded switch's fields of a fresh state (also for older checkpoints)."""
    return {
        "_recent": deque(maxlen=config.cold_start.window),
        "_switch_wins": 0,
        "_since_switch_check": 0,
        "_since_change": 0,
        "_promotion_wins": 0,
        "fallbacks": 0,
        "switch_check": None,
    }


def _flip(test: PairedComparison) -> PairedComparison:
    """A comparison seen from the other side (candidate and incumbent swapped)."""
    return PairedComparison(
        test.labels,
        test.positives,
        test.candidate_auc,
        test.incumbent_auc,
        -test.auc_diff,
        -test.auc_high,
        -test.auc_low,
        -test.log_loss_diff,
        -test.log_loss_high,
        -test.log_loss_low,
    )


def _mean_loss(y: np.ndarray[Any, Any], p: np.ndarray[Any, Any]) -> float:
    q = np.clip(np.where(y, p, 1.0 - p), _LOSS_CLIP, 1.0)
    return float(-np.log(q).mean())


def _adwin(delta: float) -> Any:
    """River's ADWIN (untyped) on the champion's block-mean prequential log loss.

    ``clock=1``: it checks for a change after every block (each is already many labels).
    """
    return drift.ADWIN(delta=delta, clock=1)  # type: ignore[no-untyped-call]
