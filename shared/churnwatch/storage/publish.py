"""When a score goes to ``cw.scores``: every score, or only scores that carry something new.

``latest_scores`` is written on every score whatever the policy; this decides only the message.
With ``changes``, a score is published when any of these holds (else it is dropped):

- nothing was published for the customer in this worker's memory (first score, a restart, an
  evicted cache entry): when in doubt, publish;
- band, tier, lifecycle stage, RFM segment or business model changed since the last published
  score (so the alerts service never misses a band change, nor a stage for ``lapsed``);
- the churn probability moved by ``min_move`` or more, or the value at risk by ``min_value_move``
  of the last published value (thresholds in conditions read them);
- a silence rescore (scheduled exactly when time-based facts move);
- the customer has an open episode (an unresolved complaint, a run of failed payments, a single
  purchase): triggers ``complaint_unresolved_for``, ``payment_failed`` and
  ``first_purchase_without_repeat`` read facts that change with every event or with time, so
  these customers are published on every score, as with ``every``.

A playbook whose *condition* reads a profile fact that moves without any of the above (e.g.
``days_since_last_activity``) sees it at the next published score only: keep ``every`` then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PublishPolicy", "Published"]

Mode = Literal["every", "changes"]


@dataclass(frozen=True, slots=True)
class Published:
    """What a published score said, for comparing the next one with."""

    band: str
    tier: str
    stage: str
    segment: str | None
    business_model: str
    probability: float
    value_at_risk: float


@dataclass(frozen=True, slots=True)
class PublishPolicy:
    """``every`` (default: each score is a message) or ``changes`` (module docstring).

    >>> p = PublishPolicy("changes")
    >>> a = Published("low", "gold", "active", "loyal", "retail", 0.05, 10.0)
    >>> p.publish(None, a, silence=False, open_episode=False)
    True
    >>> p.publish(a, a, silence=False, open_episode=False)
    False
    >>> from dataclasses import replace
    >>> p.publish(a, replace(a, probability=0.06), silence=False, open_episode=False)
    False
    >>> p.publish(a, replace(a, probability=0.08), silence=False, open_episode=False)
    True
    >>> p.publish(a, replace(a, band="medium"), silence=False, open_episode=False)
    True
    >>> p.publish(a, replace(a, value_at_risk=11.5), silence=False, open_episode=False)
    True
    >>> p.publish(a, a, silence=True, open_episode=False), p.publish(a, a, silence=False,
    ...     open_episode=True), PublishPolicy().publish(a, a, silence=False, open_episode=False)
    (True, True, True)
    """

    mode: Mode = "every"
    min_move: float = 0.02
    min_value_move: float = 0.10

    def __post_init__(self) -> None:
        if self.mode not in ("every", "changes"):
            raise ValueError(f"publish mode must be 'every' or 'changes', got {self.mode!r}")
        if not 0 < self.min_move <= 1 or self.min_value_move <= 0:
            raise ValueError("min_move must be in (0, 1] and min_value_move > 0")

    def publish(
        self, last: Published | None, now: Published, *, silence: bool, open_episode: bool
    ) -> bool:
        """Whether the score ``now`` is a ``cw.scores`` message, given the last published."""
        if self.mode == "every" or last is None or silence or open_episode:
            return True
        if (last.band, last.tier, last.stage, last.segment, last.business_model) != (
            now.band, now.tier, now.stage, now.segment, now.business_model,
        ):  # fmt: skip
            return True
        if abs(now.probability - last.probability) >= self.min_move - 1e-12:
            return True
        scale = max(abs(last.value_at_risk), 1e-9)
        return abs(now.value_at_risk - last.value_at_risk) / scale >= self.min_value_move
