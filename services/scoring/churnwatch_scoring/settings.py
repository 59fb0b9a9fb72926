"""Settings of the scoring worker (env prefix ``CW_SCORING_``); built only by the wiring."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from churnwatch.model import BandThresholds
from churnwatch_runtime.settings import CommonSettings


class ScoringSettings(CommonSettings):
    """Where the worker listens and how it scores; defaults follow docs/kpis.md.

    The shared fields keep their ``CW_`` names (``CW_KAFKA_BOOTSTRAP``, ``DATABASE_URL``), as
    in ingest: precedence is arguments, ``CW_SCORING_*``, ``CW_*``, defaults.
    """

    model_config = SettingsConfigDict(env_prefix="CW_SCORING_", extra="ignore")

    port: int = Field(8003, ge=1, le=65535)
    host: str = Field("127.0.0.1", description="bind address; 0.0.0.0 exposes it (a decision)")
    group_id: str = "scoring"
    band_medium: float = Field(0.15, gt=0, lt=1)
    band_high: float = Field(0.35, gt=0, lt=1)
    band_critical: float = Field(0.6, gt=0, lt=1)
    value_basis: Literal["retained", "clv"] = "retained"  # what tiers and value at risk rank
    allowed_lateness_s: float = Field(300.0, ge=0)
    history_min_move: float = Field(0.10, gt=0, le=1)
    cache_per_partition: int = Field(
        10_000,
        ge=100,
        description="profiles kept in memory per owned partition (LRU): the worker's RSS is"
        " bounded by this, not by the population (docs/scaling.md)",
    )
    publish: Literal["every", "changes"] = Field(
        "every",
        description="cw.scores: every score, or only scores that carry something new"
        " (churnwatch.storage.PublishPolicy; latest_scores is written on every score)",
    )
    publish_min_move: float = Field(0.02, gt=0, le=1, description="probability move (changes)")
    publish_min_value_move: float = Field(0.10, gt=0, description="relative value-at-risk move")
    activities: str = Field(
        "",
        description="pins the feature_use names (comma-separated) the model reads one by one"
        " (set the learner's CW_LEARNER_ACTIVITIES to the same); empty: the names the learner"
        " picked from the business's volumes, hot-loaded with the model (docs/model.md)",
    )
    snapshot_gap_days: int = Field(
        7, ge=1, description="a label snapshot per customer at most every this many days (1: daily)"
    )
    silence: bool = True  # the sweep; off only for tests that compare batchings
    model_poll_s: float = Field(5.0, ge=0)
    max_records: int = Field(5_000, ge=1)
    max_wait_ms: int = Field(100, ge=1)
    relay: bool = True  # run the outbox relay in this process
    relay_batch: int = Field(5_000, ge=1)
    kpis: bool = Field(True, description="keep the KPI aggregates (CW_SCORING_KPIS=off: not)")

    def bands(self) -> BandThresholds:
        return BandThresholds(self.band_medium, self.band_high, self.band_critical)
