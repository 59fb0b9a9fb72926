"""Settings every service shares: where Kafka and PostgreSQL are, and the topic names.

Each service adds its own settings class on top (``IngestSettings(CommonSettings)``). Only wiring
modules (app factories, ``main()``) build settings; domain code takes plain arguments.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TopicNames(BaseSettings):
    """Topic names (configurable, e.g. to run two deployments on one cluster)."""

    model_config = SettingsConfigDict(env_prefix="CW_TOPIC_", extra="ignore", frozen=True)

    events_raw: str = "cw.events.raw"
    events: str = "cw.events"
    events_dlq: str = "cw.events.dlq"
    scores: str = "cw.scores"
    actions: str = "cw.actions"

    def all(self) -> list[str]:
        return [self.events_raw, self.events, self.events_dlq, self.scores, self.actions]


class CommonSettings(BaseSettings):
    """Connection settings; ``CW_KAFKA_BOOTSTRAP`` and ``DATABASE_URL`` point anywhere."""

    model_config = SettingsConfigDict(env_prefix="CW_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = Field(
        "postgresql+asyncpg://postgres@127.0.0.1:55432/churnwatch",
        validation_alias=AliasChoices("DATABASE_URL", "CW_DATABASE_URL"),
    )
    topic_partitions: int = Field(6, ge=1, le=1000)
    topics: TopicNames = Field(default_factory=TopicNames)
    log_level: str = "INFO"
    log_json: bool = True
