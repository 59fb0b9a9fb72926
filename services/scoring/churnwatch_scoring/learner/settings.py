"""The learner's knobs (``CW_LEARNER_*``) on top of the shared connection settings (``CW_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from churnwatch.model import (
    ColdStartRule,
    LabelResolver,
    ModelConfig,
    TreatmentPolicy,
    VocabularyPolicy,
)
from churnwatch.profile import ActivityVocabulary
from churnwatch_runtime.settings import CommonSettings

__all__ = ["LearnerSettings"]


class LearnerSettings(CommonSettings):
    """Everything the learner reads; built once in ``main()`` or a test.

    The horizon is the shared ``CW_HORIZON_DAYS`` (`CommonSettings`), which the scoring worker
    reads too; the lapse window and treatment look-back must equal the worker's. Precedence:
    arguments, ``CW_LEARNER_*``, ``CW_*`` (e.g. ``DATABASE_URL``), defaults.
    """

    model_config = SettingsConfigDict(env_prefix="CW_LEARNER_", extra="ignore")

    group_id: str = Field(
        "scoring",
        description="the scoring workers' group (CW_SCORING_GROUP_ID) in partition_watermarks:"
        " the learner takes its watermark, labels and cut points from that group's rows",
    )
    lock_key: int = Field(0x63776C6E, description="PostgreSQL advisory lock: one active learner")
    standby_poll_s: float = Field(5.0, gt=0, description="how often a standby tries the lock")
    poll_s: float = Field(1.0, gt=0, description="wait when no label is due")
    batch_size: int = Field(500, ge=1, le=100_000, description="snapshots per query")
    checkpoint_every_labels: int = Field(5000, ge=1)
    checkpoint_every_s: float = Field(30.0, ge=0, description="0: after each batch")
    checkpoint_keep: int = Field(50, ge=1, description="model_checkpoints rows kept")
    status_every_s: float = Field(60.0, gt=0)
    lapse_days: int = Field(90, ge=1)
    treatment_lookback_days: int | None = Field(None, ge=0, description="default: the horizon")
    treatment: TreatmentPolicy = TreatmentPolicy.EXCLUDE
    cold_start_min_labels: int = Field(1000, ge=2)
    cold_start_min_per_class: int = Field(50, ge=0)
    cold_start_window: int = Field(2000, ge=2, description="recent labels of the paired test")
    cold_start_check_every: int = Field(250, ge=1)
    cold_start_patience: int = Field(2, ge=1, description="consecutive paired wins needed")
    cold_start_paired: bool = Field(
        True, description="off: switch on label counts alone (no paired test, no fall-back)"
    )
    clv_refit_s: float = Field(600.0, gt=0, description="refit at least this often")
    clv_growth: float = Field(0.10, gt=0, description="or when retail customers grew this much")
    clv_min_customers: int = Field(200, ge=2, description="fewer: no fit, workers keep defaults")
    clv_min_repeat: int = Field(20, ge=1, description="customers with a repeat purchase needed")
    clv_chunk: int = Field(5000, ge=1, description="profiles read per query")
    clv_penalizer: float = Field(0.0, ge=0)
    value_basis: Literal["retained", "clv"] = Field(
        "retained", description="what tiers rank in population_cuts (the workers' value_basis)"
    )
    activities: str = Field(
        "",
        description="pins the activity names the model reads (comma-separated; the workers'"
        " CW_SCORING_ACTIVITIES); empty: picked from activity_volumes (docs/model.md)",
    )
    activities_top: int = Field(8, ge=0, le=64, description="names picked; 0: none")
    activities_min_uses: float = Field(1000.0, ge=0, description="uses counted before a pick")
    activities_margin: float = Field(1.5, ge=1, description="an outsider replaces a member at")
    activities_window_days: int = Field(90, ge=1, description="days of volumes summed (and kept)")
    activities_every_s: float = Field(60.0, ge=0, description="how often the pick is checked")

    def model(self) -> ModelConfig:
        """The `ModelConfig` of a fresh state (a restored checkpoint keeps its own)."""
        rule = ColdStartRule(
            self.cold_start_min_labels,
            self.cold_start_min_per_class,
            window=self.cold_start_window,
            check_every=self.cold_start_check_every,
            patience=self.cold_start_patience,
            paired=self.cold_start_paired,
        )
        return ModelConfig(
            horizon_days=self.horizon_days, cold_start=rule, treatment=self.treatment
        )

    def vocabulary(self) -> VocabularyPolicy:
        """The rule that picks the activity vocabulary from the volumes."""
        return VocabularyPolicy(
            top=self.activities_top,
            min_uses=self.activities_min_uses,
            margin=self.activities_margin,
        )

    def pinned(self) -> ActivityVocabulary | None:
        """The pinned vocabulary of ``activities``, if any.

        >>> LearnerSettings(activities="like, post", log_json=False).pinned().names
        ('like', 'post')
        """
        names = tuple(n.strip() for n in self.activities.split(",") if n.strip())
        return ActivityVocabulary(names) if names else None

    def resolver(self) -> LabelResolver:
        """The label resolver of the one horizon (``CW_HORIZON_DAYS``); look-back defaults to it."""
        return LabelResolver.for_horizon(
            self.horizon_days,
            lapse_days=self.lapse_days,
            lookback_days=self.treatment_lookback_days,
        )
