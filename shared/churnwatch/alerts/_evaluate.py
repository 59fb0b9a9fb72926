"""Evaluation: which playbooks a score record matches, and what each match would do.

`evaluate` checks every enabled playbook's trigger and condition against one customer's `Facts`.
A trigger that fires names its *episode* (the band entry, the complaint, the run of failed
payments, …) in a trigger key; the action id is a hash of playbook, version, customer and that
key, so the same episode seen again — a retry, a restart, the next score while the complaint is
still open — gives the same action id, never a second action.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from churnwatch.messages import ActionMessage, action_json, trusted

from ._condition import holds
from ._facts import TIERS, Facts
from ._holdout import action_id, in_holdout
from ._playbook import ActionSpec, Playbook, Trigger

__all__ = ["Match", "evaluate", "queue_key", "trigger_key"]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "never"


def trigger_key(trigger: Trigger, facts: Facts) -> str | None:
    """The key of the episode that fires ``trigger`` on ``facts``, or None if it does not fire.

    >>> from churnwatch.alerts import Facts, Trigger
    >>> f = Facts(customer_id="C-1", event_time="2026-03-01T00:00:00Z", churn_probability=0.4,
    ...           band="high", previous_band="medium", tier="gold", clv=300.0,
    ...           value_at_risk=120.0)
    >>> trigger_key(Trigger(type="band_entered", bands=("high", "critical")), f)
    'band_entered:high@2026-03-01T00:00:00+00:00'
    >>> trigger_key(Trigger(type="band_entered", bands=("critical",)), f) is None
    True
    """
    f = facts
    match trigger.type:
        case "score_changed":
            if f.cause_event_id is not None:
                return f"score:{f.cause_event_id}"
            return f"score:silence@{_iso(f.event_time)}"
        case "band_entered":
            bands = trigger.bands or ()
            if f.band in bands and f.previous_band not in bands:
                return f"band_entered:{f.band}@{_iso(f.event_time)}"
        case "complaint_unresolved_for":
            age = f.unresolved_complaint_age_hours
            if age is not None and trigger.hours is not None and age >= trigger.hours:
                return f"complaint@{_iso(f.oldest_open_complaint_at)}"
        case "payment_failed":
            failures = f.consecutive_failed_payments or 0
            if failures >= (trigger.min_consecutive or 1):
                return f"payment_failed@{_iso(f.first_failed_payment_at)}"
        case "first_purchase_without_repeat":
            days = f.days_since_first_purchase
            if f.purchase_count == 1 and days is not None and days >= (trigger.days or 0):
                return f"first_purchase@{_iso(f.first_purchase_at)}"
        case "lapsed":
            if f.lifecycle_stage in (trigger.stages or ()):
                return f"lapsed@{_iso(f.last_activity_at)}"
    return None


@dataclass(frozen=True, slots=True)
class Match:
    """A playbook that matched a customer: the action it would take, its arm and its rank."""

    playbook_id: str
    playbook_version: int
    customer_id: str
    action: ActionSpec
    trigger_key: str
    action_id: str
    control: bool
    """The customer is in this playbook's holdout: log the exposure, take no action."""
    priority: float
    """The playbook's priority fact (value at risk by default): higher goes first."""
    tier: str
    churn_probability: float
    event_time: datetime
    reasons: tuple[str, ...] = ()

    def action_message(self, issued_at: datetime, **extra: Any) -> ActionMessage:
        """The ``cw.actions`` message (docs/messages.md); ``extra`` params (an SLA due time, an
        assignee, …) are added to ``params``. Built unvalidated: the consumers validate."""
        spec = self.action
        params: dict[str, Any] = {
            "playbook_id": self.playbook_id,
            "playbook_version": self.playbook_version,
            "mode": spec.mode,
            "channel": spec.channel,
            **spec.params,
        }
        optional: dict[str, Any] = {"team": spec.team, "offer_code": spec.offer_code}
        optional["discount_pct"] = spec.discount_pct
        params.update({k: v for k, v in optional.items() if v is not None})
        if spec.mode == "task":
            params["talking_points"] = [*spec.talking_points, *self.reasons]
        params.update(extra)
        values = {
            "schema_version": 1,
            "action_id": self.action_id,
            "customer_id": self.customer_id,
            "action_type": spec.type,
            "issued_at": issued_at,
            "params": params,
        }
        return trusted(ActionMessage, values)

    def to_action(self, issued_at: datetime, **extra: Any) -> dict[str, Any]:
        """`action_message` in its wire form, as a dict (``issued_at`` as text)."""
        return action_json(self.action_message(issued_at, **extra))


def queue_key(match: Match) -> tuple[float, int, float, str, str]:
    """Sort key of the work queue: priority fact (value at risk) descending, then tier
    (platinum first), then churn probability descending; ids break the remaining ties."""
    tier_rank = TIERS.index(match.tier) if match.tier in TIERS else -1
    return (-match.priority, -tier_rank, -match.churn_probability, match.customer_id,
            match.playbook_id)  # fmt: skip


def evaluate(playbooks: Iterable[Playbook], facts: Facts, *, salt: str = "") -> list[Match]:
    """The enabled playbooks whose trigger fires and whose condition holds, in `queue_key`
    order; ``salt`` is the deployment's holdout salt.

    >>> from churnwatch.alerts import default_playbooks, facts_from_score
    >>> score = {"customer_id": "C-7", "churn_probability": 0.7, "band": "critical",
    ...          "clv": 900.0, "tier": "platinum", "value_at_risk": 630.0,
    ...          "event_time": "2026-03-03T00:00:00Z"}
    >>> [(m.playbook_id, m.action.type) for m in evaluate(default_playbooks(),
    ...                                                    facts_from_score(score))]
    [('save_call_vip', 'save_call')]
    """
    matches: list[Match] = []
    for pb in playbooks:
        if not pb.enabled:
            continue
        key = trigger_key(pb.trigger, facts)
        if key is None or not holds(pb.condition, facts):
            continue
        matches.append(
            Match(
                playbook_id=pb.id,
                playbook_version=pb.version,
                customer_id=facts.customer_id,
                action=pb.action,
                trigger_key=key,
                action_id=action_id(pb.id, pb.version, facts.customer_id, key),
                control=in_holdout(facts.customer_id, pb.id, pb.holdout, salt),
                priority=float(facts.value(pb.priority.by)),
                tier=facts.tier,
                churn_probability=facts.churn_probability,
                event_time=facts.event_time,
                reasons=facts.reasons,
            )
        )
    return sorted(matches, key=queue_key)
