"""A second simulated business: a subscription social app (issue 13).

One monthly plan, no purchases, no failed payments. Customers sign up (``customer_profile``),
subscribe (``subscription_started``), renew every 30 days (``subscription_renewed``) and use eight
in-app activities, sent as ``feature_use`` with the activity's name in ``attributes.feature``
(one event per customer, activity and day, with ``count``). A churner decides on a day and is
silent from then on; the plan ends at the end of the paid period, either by a cancellation sent
that day (``effective_at`` = the end) or, for a share ``non_renewal`` of churners, by simply not
renewing: a ``subscription_expired`` at the end of the period (effective then), no cancellation.

**Planted truth** (`SocialTruth`, written out with `SocialApp.truth`): each customer has an
engagement level and a slowly drifting *discontent*. Discontent raises the rates of ``unfriend``
and ``report`` and lowers ``message`` and ``reply``; the daily churn hazard is a logistic
function of the customer's **observed** counts of those four activities over the last 7 days
(plus a small tenure effect), so churn is driven by particular activities and the others
(``post``, ``like``, ``comment``, ``share``) carry only engagement. A model that counts every
activity as one (the old profile) cannot see which.

>>> app = SocialApp(customers=50, days=3, seed=1)
>>> lines = app.step()
>>> lines[0].startswith('{"event_id":"soc-')
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

__all__ = ["ACTIVITIES", "SocialApp", "SocialTruth"]

ACTIVITIES = ("post", "like", "comment", "message", "reply", "share", "unfriend", "report")
_BASE = np.array([0.6, 4.0, 1.2, 1.5, 1.2, 0.3, 0.04, 0.02])  # uses per day at engagement 1
_DISCONTENT = np.array([0.0, 0.0, 0.0, -0.8, -0.8, 0.0, 1.6, 1.4])  # log-rate per unit


@dataclass(frozen=True)
class SocialTruth:
    """The planted churn model: daily hazard = sigmoid(intercept + Σ weight × 7-day count of the
    activity + tenure_weight × tenure in years)."""

    intercept: float = -5.6
    weights: dict[str, float] = field(
        default_factory=lambda: {"unfriend": 0.55, "report": 0.7, "message": -0.06, "reply": -0.06}
    )
    tenure_weight: float = -0.3
    discontent_ar: float = 0.97
    discontent_sd: float = 0.25
    non_renewal: float = 0.4
    """the share of churners who let the plan run out instead of cancelling"""


class SocialApp:
    """The population, stepped one day at a time; `step` returns the day's events as JSON lines
    in time order."""

    def __init__(
        self,
        customers: int,
        days: int,
        seed: int = 7,
        start: datetime = datetime(2025, 1, 6, tzinfo=UTC),
        truth: SocialTruth | None = None,
    ) -> None:
        self.n, self.days, self.start = customers, days, start
        self.truth = truth or SocialTruth()
        self.rng = np.random.default_rng(seed)
        self.day = 0
        self.joined = self.rng.integers(0, max(1, int(days * 0.6)), customers)
        self.engagement = np.exp(self.rng.normal(0.0, 0.5, customers))
        self.discontent = self.rng.normal(0.0, 0.8, customers)
        self.alive = np.zeros(customers, dtype=bool)
        self.gone = np.zeros(customers, dtype=bool)
        self.recent = np.zeros((customers, 7, len(ACTIVITIES)), dtype=np.int32)
        self.churned_day = np.full(customers, -1)
        self.ended_day = np.full(customers, -1)  # the end of the last paid period
        self.expired = np.zeros(customers, dtype=bool)  # ended by non-renewal
        self._weights = np.array([self.truth.weights.get(a, 0.0) for a in ACTIVITIES])

    @property
    def done(self) -> bool:
        return self.day >= self.days

    def start_of(self, day: int) -> datetime:
        return self.start + timedelta(days=day)

    def step(self) -> list[str]:
        """Simulate one day for everyone; the events, sorted by time."""
        rng, d, t0 = self.rng, self.day, self.start_of(self.day)
        out: list[tuple[float, str]] = []
        for c in np.flatnonzero((self.joined == d) & ~self.gone):
            at = t0 + timedelta(hours=float(rng.uniform(0, 20)))
            out.append(
                (
                    at.timestamp(),
                    self._line(c, d, 0, "customer_profile", at, _PROFILE.format(at=_iso(at))),
                )
            )
            start = at + timedelta(minutes=5)
            out.append(
                (start.timestamp(), self._line(c, d, 1, "subscription_started", start, _STARTED))
            )
            self.alive[c] = True
        tr = self.truth
        noise = rng.normal(0.0, tr.discontent_sd, self.n)
        self.discontent = tr.discontent_ar * self.discontent + noise
        live = np.flatnonzero(self.alive)
        slot = d % 7
        self.recent[:, slot, :] = 0
        if live.size:
            log_rate = np.log(_BASE)[None, :] + np.log(self.engagement[live])[:, None]
            log_rate = log_rate + self.discontent[live, None] * _DISCONTENT[None, :] * 0.5
            counts = rng.poisson(np.exp(log_rate))
            self.recent[live, slot, :] = counts
            for row, c in enumerate(live):
                for k in np.flatnonzero(counts[row]):
                    at = t0 + timedelta(hours=float(rng.uniform(6, 23)))
                    attrs = _USE.format(name=ACTIVITIES[k], count=int(counts[row, k]))
                    out.append((at.timestamp(), self._line(c, d, 10 + k, "feature_use", at, attrs)))
            tenure_years = (d - self.joined[live]) / 365.0
            z = tr.intercept + self.recent[live].sum(axis=1) @ self._weights
            hazard = 1.0 / (1.0 + np.exp(-(z + tr.tenure_weight * tenure_years)))
            leave = live[rng.random(live.size) < hazard]
            lapse = rng.random(leave.size) < tr.non_renewal
            for c, lets_lapse in zip(leave, lapse, strict=True):
                paid = int((d - self.joined[c]) % 30)
                self.ended_day[c], self.expired[c] = d + 30 - paid, lets_lapse
                if not lets_lapse:
                    at = t0 + timedelta(hours=23, minutes=30)
                    end = self.start_of(d + 30 - paid)
                    attrs = _CANCEL.format(c=c, end=_iso(end))
                    out.append(
                        (at.timestamp(), self._line(c, d, 2, "subscription_cancelled", at, attrs))
                    )
                self.alive[c], self.gone[c], self.churned_day[c] = False, True, d
            for c in np.flatnonzero(self.expired & (self.ended_day == d)):
                # not renewed: billing closes the plan a minute after the renewal would have run
                at = t0 + timedelta(minutes=2)
                attrs = _EXPIRED.format(c=c, end=_iso(t0))
                out.append((at.timestamp(), self._line(c, d, 4, "subscription_expired", at, attrs)))
            renew = live[((d - self.joined[live]) % 30 == 0) & (d > self.joined[live])]
            for c in renew:
                if self.alive[c]:
                    at = t0 + timedelta(minutes=1)
                    out.append(
                        (at.timestamp(), self._line(c, d, 3, "subscription_renewed", at, _RENEWED))
                    )
        self.day += 1
        out.sort(key=lambda pair: pair[0])
        return [line for _, line in out]

    def truth_document(self) -> dict[str, object]:
        """The planted model and each customer's join day, churn (decision) day, plan end day
        (-1: never) and whether the plan ended by non-renewal, as JSON data."""
        return {
            "business": "social_app",
            "activities": list(ACTIVITIES),
            "model": asdict(self.truth),
            "joined_day": self.joined.tolist(),
            "churned_day": self.churned_day.tolist(),
            "ended_day": self.ended_day.tolist(),
            "expired": self.expired.tolist(),
        }

    def _line(
        self, c: object, day: int, kind: object, event_type: str, at: datetime, attrs: str
    ) -> str:
        return _LINE.format(
            c=c,
            day=day,
            kind=kind,
            type=event_type,
            at=_iso(at),
            attrs=attrs.replace("{c}", str(c)),
        )


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_LINE = (
    '{{"event_id":"soc-{c}-{day}-{kind}","event_type":"{type}","customer_id":"S-{c}",'
    '"occurred_at":"{at}","source":"socialsim","schema_version":1,"attributes":{attrs}}}'
)
_USE = '{{"feature":"{name}","count":{count},"channel":"mobile_app"}}'
_CANCEL = '{{"subscription_id":"SUB-{c}","exit_reason":"other","effective_at":"{end}"}}'
_EXPIRED = '{{"subscription_id":"SUB-{c}","plan":"social","effective_at":"{end}"}}'
_PROFILE = '{{"signed_up_at":"{at}","consent":{{"email":true}}}}'
_STARTED = (
    '{"subscription_id":"SUB-{c}","plan":"social","price":"4.99","currency":"EUR",'
    '"billing_period":"monthly","trial":false}'
)
_RENEWED = (
    '{"subscription_id":"SUB-{c}","plan":"social","price":"4.99","currency":"EUR",'
    '"billing_period":"monthly"}'
)
