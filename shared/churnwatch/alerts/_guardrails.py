"""Guardrails: whether a match may reach the customer, and if not, why.

`decide` applies, in this order, the checks whose reason codes are in `REASONS`: an erased
customer is never contacted; only channels the customer consented to; at most one open task per
customer and playbook; the playbook's cooldown; the customer's cooldown across playbooks; the
contact cap per customer and period across playbooks. A match that passes is then split by
its holdout arm: ``act`` (treated) or ``control`` (exposed, no action).

The guardrails run *before* the holdout split and see exposures of both arms (the service
records a control exposure in the `ContactHistory` like a contact), so treated and control
customers are filtered by the same rules and the comparison between them stays fair.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from ._evaluate import Match
from ._playbook import Playbook

if TYPE_CHECKING:
    from churnwatch.profile import CustomerProfile

__all__ = ["REASONS", "ContactHistory", "ContactPolicy", "Decision", "ReasonCode", "decide"]

ReasonCode = Literal[
    "erased", "no_consent", "open_task", "playbook_cooldown", "customer_cooldown", "contact_cap"
]
REASONS: dict[str, str] = {
    "erased": "the customer is erased and is never contacted",
    "no_consent": "no consent for the action's channel",
    "open_task": "a task of this playbook is already open for the customer",
    "playbook_cooldown": "exposed to this playbook within its cooldown",
    "customer_cooldown": "contacted (by any playbook) within the customer cooldown",
    "contact_cap": "the customer's contact cap for the period is reached",
}
"""Every suppression reason code, with what it means."""


@dataclass(frozen=True, slots=True)
class ContactPolicy:
    """Limits across playbooks (per customer); ``allow_unstated_consent``: contact on a channel
    the customer never stated consent for (default no: permission-based contact)."""

    max_contacts: int = 3
    period: timedelta = timedelta(days=30)
    customer_cooldown: timedelta = timedelta(days=2)
    allow_unstated_consent: bool = False


@dataclass(frozen=True, slots=True)
class ContactHistory:
    """What the guardrails need to know about one customer.

    ``exposures`` are the times of past exposures across playbooks (contacts and control
    exposures alike), ``last_exposure`` the latest per playbook, ``open_tasks`` the playbooks
    with a task still open, ``consent`` the channel permissions of the profile (None = never
    stated).
    """

    erased: bool = False
    consent: Mapping[str, bool | None] = field(default_factory=dict)
    open_tasks: frozenset[str] = frozenset()
    last_exposure: Mapping[str, datetime] = field(default_factory=dict)
    exposures: tuple[datetime, ...] = ()

    @classmethod
    def from_profile(
        cls,
        profile: CustomerProfile,
        *,
        open_tasks: frozenset[str] = frozenset(),
        last_exposure: Mapping[str, datetime] | None = None,
        exposures: tuple[datetime, ...] = (),
    ) -> ContactHistory:
        """Consent and erasure from the profile, the rest from the alerts store.

        >>> from churnwatch.profile import CustomerProfile
        >>> ContactHistory.from_profile(CustomerProfile(consent_phone=1)).consent["phone"]
        True
        """
        from churnwatch.profile import contact_permissions

        return cls(
            erased=profile.erased,
            consent=contact_permissions(profile),
            open_tasks=open_tasks,
            last_exposure=dict(last_exposure or {}),
            exposures=exposures,
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """``act`` (treat), ``control`` (log the exposure only) or ``suppress`` with a reason."""

    outcome: Literal["act", "control", "suppress"]
    reason: ReasonCode | None = None
    message: str = ""

    @property
    def exposed(self) -> bool:
        """Whether the customer counts as exposed to the playbook (either arm)."""
        return self.outcome != "suppress"


def _suppress(reason: ReasonCode, detail: str) -> Decision:
    return Decision("suppress", reason, f"{REASONS[reason]}: {detail}")


def decide(
    match: Match,
    playbook: Playbook,
    history: ContactHistory,
    now: datetime,
    policy: ContactPolicy | None = None,
) -> Decision:
    """Whether ``match`` may go ahead at ``now``; every suppression carries its reason.

    >>> from datetime import UTC, datetime
    >>> from churnwatch.alerts import default_playbooks, evaluate, facts_from_score
    >>> pb = default_playbooks()[0]
    >>> score = {"customer_id": "C-7", "churn_probability": 0.7, "band": "critical",
    ...          "clv": 900.0, "tier": "platinum", "value_at_risk": 630.0,
    ...          "event_time": "2026-03-03T00:00:00Z"}
    >>> match = evaluate([pb], facts_from_score(score))[0]
    >>> now = datetime(2026, 3, 3, tzinfo=UTC)
    >>> decide(match, pb, ContactHistory(consent={"phone": False}), now).reason
    'no_consent'
    >>> decide(match, pb, ContactHistory(consent={"phone": True}), now).outcome
    'act'
    """
    p = policy or ContactPolicy()
    if history.erased:
        return _suppress("erased", match.customer_id)
    channel = match.action.channel or ""
    consent = history.consent.get(channel)
    if not (consent or (consent is None and p.allow_unstated_consent)):
        stated = "never stated" if consent is None else "refused"
        return _suppress("no_consent", f"{channel} ({stated})")
    if match.action.mode == "task" and playbook.id in history.open_tasks:
        return _suppress("open_task", playbook.id)
    last = history.last_exposure.get(playbook.id)
    if last is not None and now - last < playbook.cooldown:
        return _suppress("playbook_cooldown", f"last {last.isoformat()}, {playbook.cooldown}")
    recent = [t for t in history.exposures if now - p.period < t <= now]
    if recent and now - max(recent) < p.customer_cooldown:
        return _suppress("customer_cooldown", f"last {max(recent).isoformat()}")
    if len(recent) >= p.max_contacts:
        return _suppress("contact_cap", f"{len(recent)} of {p.max_contacts} in {p.period}")
    if match.control:
        return Decision("control", None, f"holdout of {playbook.id} (share {playbook.holdout})")
    return Decision("act")
