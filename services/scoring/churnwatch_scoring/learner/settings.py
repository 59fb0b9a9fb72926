"""The learner's knobs (``CW_LEARNER_*``) on top of the shared connection settings (``CW_*``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from churnwatch.model import ColdStartRule, LabelResolver, ModelConfig, TreatmentPolicy
from churnwatch_runtime.settings import CommonSettings

__all__ = ["LearnerSettings"]


class LearnerSettings(CommonSettings):
    """Everything the learner reads; built once in ``main()`` or a test.

    The horizon, lapse window and treatment look-back must equal the scoring worker's (it
    computes ``label_due_at`` with the same `LabelResolver`). Precedence: arguments,
    ``CW_LEARNER_*``, ``CW_*`` (e.g. ``DATABASE_URL``), defaults.
    """

    model_config = SettingsConfigDict(env_prefix="CW_LEARNER_", extra="ignore")

    group_id: str = Field(
        "cw-scoring", description="scoring workers' group in partition_watermarks"
    )
    lock_key: int = Field(0x63776C6E, description="PostgreSQL advisory lock: one active learner")
    standby_poll_s: float = Field(5.0, gt=0, description="how often a standby tries the lock")
    poll_s: float = Field(1.0, gt=0, description="wait when no label is due")
    batch_size: int = Field(500, ge=1, le=100_000, description="snapshots per query")
    checkpoint_every_labels: int = Field(5000, ge=1)
    checkpoint_every_s: float = Field(30.0, ge=0, description="0: after each batch")
    checkpoint_keep: int = Field(50, ge=1, description="model_checkpoints rows kept")
    status_every_s: float = Field(60.0, gt=0)
    horizon_days: int = Field(30, ge=1)
    lapse_days: int = Field(90, ge=1)
    treatment_lookback_days: int | None = Field(None, ge=0, description="default: the horizon")
    treatment: TreatmentPolicy = TreatmentPolicy.EXCLUDE
    cold_start_min_labels: int = Field(1000, ge=2)
    cold_start_min_per_class: int = Field(50, ge=0)
    clv_refit_s: float = Field(600.0, gt=0, description="refit at least this often")
    clv_growth: float = Field(0.10, gt=0, description="or when retail customers grew this much")
    clv_min_customers: int = Field(200, ge=2, description="fewer: no fit, workers keep defaults")
    clv_min_repeat: int = Field(20, ge=1, description="customers with a repeat purchase needed")
    clv_chunk: int = Field(5000, ge=1, description="profiles read per query")
    clv_penalizer: float = Field(0.0, ge=0)

    def model(self) -> ModelConfig:
        """The `ModelConfig` of a fresh state (a restored checkpoint keeps its own)."""
        rule = ColdStartRule(self.cold_start_min_labels, self.cold_start_min_per_class)
        return ModelConfig(
            horizon_days=self.horizon_days, cold_start=rule, treatment=self.treatment
        )

    def resolver(self) -> LabelResolver:
        """The label resolver; look-back defaults to the horizon."""
        lookback = (
            self.horizon_days
            if self.treatment_lookback_days is None
            else (self.treatment_lookback_days)
        )
        return LabelResolver(
            horizon=timedelta(days=self.horizon_days),
            lapse_window=timedelta(days=self.lapse_days),
            treatment_lookback=timedelta(days=lookback),
        )
