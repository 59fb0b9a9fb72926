"""Settings every service shares: where Kafka and PostgreSQL are, and the topic names.

Each service adds its own settings class on top (``IngestSettings(CommonSettings)``). Only wiring
modules (app factories, ``main()``) build settings; domain code takes plain arguments.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


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
    """Connection settings; ``CW_KAFKA_BOOTSTRAP`` and ``DATABASE_URL`` point anywhere.

    A service's subclass has its own prefix (``CW_INGEST_``) but the shared fields keep their
    ``CW_`` names: an extra source reads them. Precedence: arguments, the subclass's prefix,
    ``CW_*``, defaults.
    """

    model_config = SettingsConfigDict(env_prefix="CW_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = Field(
        "postgresql+asyncpg://postgres@127.0.0.1:55432/churnwatch",
        validation_alias=AliasChoices("DATABASE_URL", "CW_DATABASE_URL"),
    )
    topic_partitions: int = Field(6, ge=1, le=1000)
    horizon_days: int = Field(
        30,
        ge=1,
        description="the churn horizon (CW_HORIZON_DAYS): scores are P(churn within it) and every"
        " label is learned at snapshot + it; one setting the scoring workers and the learner read",
    )
    topics: TopicNames = Field(default_factory=TopicNames)
    untrusted_retention_ms: int = Field(
        7 * 24 * 3_600_000,
        ge=60_000,
        description="retention of cw.events.raw and cw.events.dlq, which hold upstream bytes as"
        " sent (personal data in clear); applied when the project creates them (docs/privacy.md)",
    )
    metrics_auth: bool = Field(
        True,
        description="/metrics of the worker services needs a key with read; CW_METRICS_AUTH=off"
        " only where the port is private to the scraper (docs/security.md)",
    )
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _local_password(self) -> CommonSettings:
        """The local cluster's password (``var/postgres/password``, 0600) when ``DATABASE_URL``
        names that running cluster without one: ``churnwatch`` commands just work for the user
        who started it, and nobody else (docs/security.md)."""
        from churnwatch_runtime.infra.postgres import with_local_password
        from churnwatch_runtime.paths import cw_home

        url = with_local_password(self.database_url, cw_home() / "postgres")
        if url != self.database_url:
            self.database_url = url
        return self

    def topic_configs(self) -> dict[str, dict[str, str]]:
        """Configs the project creates topics with: a bounded retention on the untrusted ones.

        >>> CommonSettings(untrusted_retention_ms=3_600_000).topic_configs()["cw.events.dlq"]
        {'retention.ms': '3600000'}
        """
        retention = {"retention.ms": str(self.untrusted_retention_ms)}
        return {self.topics.events_raw: retention, self.topics.events_dlq: dict(retention)}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if settings_cls is CommonSettings:
            return (init_settings, env_settings, dotenv_settings, file_secret_settings)
        common = _CommonEnv(settings_cls)
        return (init_settings, env_settings, common, dotenv_settings, file_secret_settings)


class _CommonEnv(PydanticBaseSettingsSource):
    """The shared settings given in the environment under their own ``CW_`` names."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ answers for all fields at once

    def __call__(self) -> dict[str, Any]:
        return CommonSettings().model_dump(exclude_unset=True)
