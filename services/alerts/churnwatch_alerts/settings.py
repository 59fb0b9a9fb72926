"""Settings of the alerts service (env prefix ``CW_ALERTS_``); built only by the wiring.

The shared fields keep their ``CW_`` names (``CW_KAFKA_BOOTSTRAP``, ``DATABASE_URL``):
`CommonSettings` reads them for every subclass.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from churnwatch.alerts import ContactPolicy
from churnwatch_alerts.expiry import ExpiryConfig
from churnwatch_alerts.plan import PlanConfig
from churnwatch_alerts.processor import AlertsConfig
from churnwatch_alerts.uplift import UpliftConfig
from churnwatch_alerts.webhooks import WebhookConfig
from churnwatch_runtime.settings import CommonSettings


class AlertsSettings(CommonSettings):
    """Where the service listens, its guardrail policy, auto-close and webhook knobs."""

    model_config = SettingsConfigDict(env_prefix="CW_ALERTS_", extra="ignore")

    port: int = Field(8002, ge=1, le=65535)
    host: str = Field("127.0.0.1", description="bind address; 0.0.0.0 exposes it (a decision)")
    group_id: str = "alerts"
    holdout_salt: str = ""
    max_contacts: int = Field(3, ge=1)
    contact_period_days: float = Field(30.0, gt=0)
    customer_cooldown_hours: float = Field(48.0, ge=0)
    allow_unstated_consent: bool = False
    recover_after_hours: float = Field(168.0, ge=0)
    recover_band: str = Field("high", pattern="^(low|medium|high|critical)$")
    playbook_poll_s: float = Field(10.0, ge=0)
    assign_policy: str = Field("round_robin", pattern="^(round_robin|by_tier|none)$")
    seed_defaults: bool = True  # load the shipped playbooks if the table is empty
    max_records: int = Field(2_000, ge=1)
    max_wait_ms: int = Field(100, ge=1)
    relay: bool = True
    relay_batch: int = Field(5_000, ge=1)
    webhooks: bool = True
    webhook_max_attempts: int = Field(8, ge=1)
    webhook_backoff_base_s: float = Field(1.0, gt=0)
    webhook_backoff_cap_s: float = Field(600.0, gt=0)
    webhook_timeout_s: float = Field(10.0, gt=0)
    webhook_batch: int = Field(100, ge=1)
    webhook_poll_s: float = Field(0.2, gt=0)
    uplift: bool = True  # the periodic uplift job (churnwatch_alerts.uplift)
    uplift_interval_s: float = Field(3600.0, gt=0)
    uplift_horizon_days: float = Field(30.0, gt=0)
    uplift_lapse_days: int = Field(90, ge=1)
    uplift_watermark_group: str | None = "scoring"  # the scoring worker's consumer group
    # task expiry (churnwatch_alerts.expiry): the clock is the uplift watermark group's
    task_expiry: bool = True
    task_expiry_interval_s: float = Field(300.0, gt=0)
    task_expire_after_hours: float = Field(720.0, gt=0)  # = the uplift horizon (30 days)
    task_expiry_clock: str = Field("watermark", pattern="^(watermark|wall)$")

    def alerts_config(self) -> AlertsConfig:
        policy = ContactPolicy(
            max_contacts=self.max_contacts,
            period=timedelta(days=self.contact_period_days),
            customer_cooldown=timedelta(hours=self.customer_cooldown_hours),
            allow_unstated_consent=self.allow_unstated_consent,
        )
        plan = PlanConfig(
            actions_topic=self.topics.actions,
            salt=self.holdout_salt,
            policy=policy,
            recover_after=timedelta(hours=self.recover_after_hours),
            recover_band=self.recover_band,
            assign=self.assign_policy,
        )
        return AlertsConfig(group_id=self.group_id, plan=plan, playbook_poll_s=self.playbook_poll_s)

    def uplift_config(self) -> UpliftConfig:
        return UpliftConfig(
            horizon=timedelta(days=self.uplift_horizon_days),
            lapse_days=self.uplift_lapse_days,
            interval_s=self.uplift_interval_s,
            watermark_group=self.uplift_watermark_group or None,
        )

    def expiry_config(self) -> ExpiryConfig:
        return ExpiryConfig(
            expire_after=timedelta(hours=self.task_expire_after_hours),
            clock="wall" if self.task_expiry_clock == "wall" else "watermark",
            watermark_group=self.uplift_watermark_group or None,
            interval_s=self.task_expiry_interval_s,
        )

    def webhook_config(self) -> WebhookConfig:
        return WebhookConfig(
            batch=self.webhook_batch,
            max_attempts=self.webhook_max_attempts,
            backoff_base=self.webhook_backoff_base_s,
            backoff_cap=self.webhook_backoff_cap_s,
            timeout=self.webhook_timeout_s,
            poll_interval=self.webhook_poll_s,
        )
