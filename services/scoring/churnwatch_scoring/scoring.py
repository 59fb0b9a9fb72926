"""Scoring one customer at a clock, then valuing a whole batch of them (pure, no I/O).

`score_customer` is the per-customer part (features, churn score, band, lifecycle transition,
reasons, next due time, snapshot decision); `finish` values the batch in one vectorised CLV call,
assigns tiers and RFM segments against the worker's population, and lays out every row the
processor writes. The split exists because CLV is cheap per batch and dear per customer.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from churnwatch.messages import trusted
from churnwatch.model import (
    BandThresholds,
    CustomerKind,
    LabelResolver,
    Scorer,
    Snapshot,
    SnapshotOutcome,
    SnapshotPolicy,
    band_for,
)
from churnwatch.profile import (
    CustomerProfile,
    Reason,
    RfmValues,
    Stage,
    features,
    from_seconds,
    next_due,
    rfm_values,
    top_reasons,
    transition,
)
from churnwatch.storage.publish import Published, PublishPolicy
from churnwatch.value import RetailStats, RetailSummary, observe, value_at_risk
from churnwatch_scoring.population import Population
from churnwatch_scoring.records import (
    Cause,
    ScoreRecord,
    SnapshotRow,
    Why,
    history_why,
    score_message,
    score_msg_id,
)
from churnwatch_scoring.valuation import (
    ClvParams,
    ValueSettings,
    retail_retained,
    retail_values,
    subscription_retained,
    subscription_value,
)


@dataclass(slots=True)
class Entry:
    """A cached customer: profile, retail statistics, the last *history* entry's (probability,
    band) — what the next score is compared with — and the day of the last snapshot."""

    profile: CustomerProfile
    retail: RetailStats | None
    last_score: tuple[float, str] | None
    last_snapshot: date | None
    last_published: Published | None = None  # the last cw.scores message (PublishPolicy)


@dataclass(frozen=True)
class ScoreOptions:
    bands: BandThresholds = field(default_factory=BandThresholds)
    reasons: int = 3
    history_min_move: float = 0.10
    snapshots: SnapshotPolicy = field(default_factory=SnapshotPolicy)
    resolver: LabelResolver = field(default_factory=LabelResolver)
    value: ValueSettings = field(default_factory=ValueSettings)
    publish: PublishPolicy = field(default_factory=PublishPolicy)


@dataclass(slots=True)
class Scored:
    """A customer scored at ``clock``, waiting for the batch's valuation."""

    customer_id: str
    partition: int
    entry: Entry
    clock: datetime
    probability: float
    band: str
    reasons: tuple[Reason, ...]
    stage: str
    transition: tuple[str, str | None] | None  # (stage, previous) when it changed
    due: datetime | None
    rfm: RfmValues | None
    subscription: bool
    subscription_active: bool
    price_monthly: float
    model_version: str
    cause: Cause
    cause_event_id: str | None
    snapshot: SnapshotRow | None


def score_customer(
    customer_id: str,
    partition: int,
    entry: Entry,
    clock: datetime,
    model: Scorer,
    opts: ScoreOptions,
    *,
    cause: Cause,
    cause_event_id: str | None,
) -> Scored:
    """Score ``entry`` at event time ``clock``; moves its lifecycle stage and snapshot day."""
    profile = entry.profile
    x = features(profile, clock)
    score = model.predict(x)
    band = band_for(score.probability, opts.bands).value
    tr = transition(profile, clock, band=band)
    change = None
    if tr.changed:
        change = (tr.stage.label, None if tr.previous is Stage.NONE else tr.previous.label)
    subscription = x["is_subscription"] > 0
    active = x["subscription_active"] > 0
    snapshot = _snapshot(customer_id, partition, entry, clock, x, subscription, active, opts)
    return Scored(
        customer_id=customer_id,
        partition=partition,
        entry=entry,
        clock=clock,
        probability=score.probability,
        band=band,
        reasons=tuple(top_reasons(score.contributions, profile, clock, k=opts.reasons, values=x)),
        stage=tr.stage.label,
        transition=change,
        due=next_due(profile, clock),
        rfm=rfm_values(profile, clock),
        subscription=subscription,
        subscription_active=active,
        price_monthly=x["price_monthly"],
        model_version=score.model_version,
        cause=cause,
        cause_event_id=cause_event_id,
        snapshot=snapshot,
    )


def _snapshot(
    customer_id: str,
    partition: int,
    entry: Entry,
    clock: datetime,
    x: dict[str, float],
    subscription: bool,
    active: bool,
    opts: ScoreOptions,
) -> SnapshotRow | None:
    """The day's first score of a live customer is kept for its delayed label."""
    if not opts.snapshots.admits(entry.last_snapshot, clock):
        return None
    kind = CustomerKind.SUBSCRIPTION if subscription else CustomerKind.RETAIL
    last = entry.profile.last_activity
    snap = Snapshot(
        customer_id=customer_id,
        taken_at=clock,
        kind=kind,
        features=x,
        last_activity_at=from_seconds(last) if last else None,
        active=active,
    )
    if not opts.resolver.eligible(snap):
        return None
    day = opts.snapshots.day(clock)
    entry.last_snapshot = day
    due = opts.resolver.due_at(snap, SnapshotOutcome())
    return SnapshotRow(
        customer_id=customer_id,
        day=day,
        partition=partition,
        taken_at=clock,
        features=x,
        business_model=kind.value,
        label_due_at=due,
        last_activity_at=snap.last_activity_at,
    )


@dataclass
class BatchResult:
    """Everything a batch writes, one list per table."""

    profiles: list[tuple[str, int, bytes, bytes | None]] = field(default_factory=list)
    records: list[ScoreRecord] = field(default_factory=list)
    history: list[tuple[ScoreRecord, str | None, Why]] = field(default_factory=list)
    transitions: list[tuple[str, str, str | None, datetime]] = field(default_factory=list)
    due: list[tuple[str, int, datetime | None]] = field(default_factory=list)
    snapshots: list[SnapshotRow] = field(default_factory=list)
    messages: list[tuple[ScoreRecord, bytes, str]] = field(default_factory=list)


def finish(
    scored: Sequence[Scored], clv: ClvParams, population: Population, opts: ScoreOptions
) -> BatchResult:
    """Value the batch (one vectorised retail CLV call) and lay out the rows to write.

    Tiers and value at risk come from ``opts.value.basis``: the value if retained by default,
    so that the customers most at risk are not ranked least valuable for being at risk.
    """
    retail_idx = [i for i, s in enumerate(scored) if not s.subscription and s.entry.retail]
    summaries: list[RetailSummary] = [
        observe(s.entry.retail, s.clock, clv.unit_days)
        for s in (scored[i] for i in retail_idx)
        if s.entry.retail
    ]
    values: dict[int, tuple[float, float | None, float | None]] = dict(
        zip(retail_idx, retail_values(clv, summaries, opts.value), strict=True)
    )
    kept: dict[int, float] = dict(
        zip(retail_idx, retail_retained(clv, summaries, opts.value), strict=True)
    )
    out = BatchResult()
    for i, s in enumerate(scored):
        if s.subscription:
            v = subscription_value(
                s.price_monthly, s.probability, s.subscription_active, opts.value
            )
            value: tuple[float, float | None, float | None] = (v, None, None)
            retained = subscription_retained(s.price_monthly, s.subscription_active, opts.value)
        else:
            value = values.get(i, (0.0, None, None))
            retained = kept.get(i, 0.0)
        basis = retained if opts.value.basis == "retained" else value[0]
        population.add(basis, s.rfm)
        rec = trusted(  # computed here; the consumers validate the message
            ScoreRecord,
            {
                "schema_version": 1,
                "partition": s.partition,
                "customer_id": s.customer_id,
                "churn_probability": s.probability,
                "band": s.band,
                "reasons": s.reasons,
                "clv": value[0],
                "clv_low": value[1],
                "clv_high": value[2],
                "value_if_retained": retained,
                "tier": population.tier(basis).value,
                "lifecycle_stage": s.stage,
                "rfm_segment": population.segment(s.rfm),
                "value_at_risk": value_at_risk(min(max(s.probability, 0.0), 1.0), basis),
                "business_model": "subscription" if s.subscription else "retail",
                "model_version": s.model_version,
                "event_time": s.clock,
                "cause": s.cause,
                "cause_event_id": s.cause_event_id,
            },
        )
        entry = s.entry
        why = history_why(entry.last_score, s.probability, s.band, min_move=opts.history_min_move)
        if why is not None:
            out.history.append((rec, entry.last_score[1] if entry.last_score else None, why))
            entry.last_score = (s.probability, s.band)
        retail = pickle.dumps(entry.retail, protocol=5) if entry.retail else None
        out.profiles.append((s.customer_id, s.partition, entry.profile.to_bytes(), retail))
        out.records.append(rec)
        if s.transition is not None:
            out.transitions.append((s.customer_id, s.transition[0], s.transition[1], s.clock))
        out.due.append((s.customer_id, s.partition, s.due))
        if s.snapshot is not None:
            out.snapshots.append(s.snapshot)
        published = Published(
            rec.band, rec.tier, rec.lifecycle_stage, rec.rfm_segment, rec.business_model,
            rec.churn_probability, rec.value_at_risk,
        )  # fmt: skip
        if opts.publish.publish(
            entry.last_published,
            published,
            silence=s.cause == "silence",
            open_episode=open_episode(entry.profile),
        ):
            entry.last_published = published
            out.messages.append((rec, score_message(rec), score_msg_id(rec)))
    return out


def open_episode(profile: CustomerProfile) -> bool:
    """An unresolved complaint, a run of failed payments, or a single purchase: the episodes
    whose triggers read facts that move with every event or with time (`PublishPolicy`).

    >>> open_episode(CustomerProfile()), open_episode(CustomerProfile(purchases=1))
    (False, True)
    """
    return (
        bool(profile.failures)
        or profile.purchases == 1
        or any(e[1] > e[2] for e in profile.complaints.values())
    )
