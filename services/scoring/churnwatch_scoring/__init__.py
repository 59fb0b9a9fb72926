"""Scoring worker: live customer profiles, churn scores, value, silence sweeps (docs/scoring.md).

`ScoringProcessor` plugs into the worker base (`churnwatch_runtime.worker`); ``python -m
churnwatch_scoring`` runs it with the outbox relay and the health/metrics app. The learner
(``churnwatch_scoring.learner``) publishes the checkpoints and CLV parameters it hot-loads.
"""

from churnwatch_scoring.hotload import ModelSource
from churnwatch_scoring.metrics import ScoringMetrics
from churnwatch_scoring.population import Population
from churnwatch_scoring.processor import ScoringConfig, ScoringProcessor
from churnwatch_scoring.records import ScoreRecord, history_why, last_per_key, score_message
from churnwatch_scoring.scoring import ScoreOptions
from churnwatch_scoring.settings import ScoringSettings
from churnwatch_scoring.valuation import ClvParams, ValueSettings

__all__ = [
    "ClvParams",
    "ModelSource",
    "Population",
    "ScoreOptions",
    "ScoreRecord",
    "ScoringConfig",
    "ScoringMetrics",
    "ScoringProcessor",
    "ScoringSettings",
    "ValueSettings",
    "history_why",
    "last_per_key",
    "score_message",
]
