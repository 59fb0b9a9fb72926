"""Scoring one customer at a clock, then valuing a whole batch of them (pure, no I/O).

`score_customer` is the per-customer part (features, churn score, band, lifecycle transition,
reasons, next due time, snapshot decision), called at each scoring point in event-time order; it
keeps what the valuation needs from that moment (the retail statistics, the open episode), so a
customer scored twice in a batch is valued at each score's own state. `finish` values a chunk in
one vectorised CLV call, assigns tiers and RFM segments against the versioned cut points, and
lays out every row the processor writes. The split exists because CLV is cheap per batch and
dear per customer.
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
    ActivityVocabulary,
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
    activities: ActivityVocabulary | None = None  # per-activity features (docs/profile.md)


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
    retail: RetailStats | None = None  # the statistics at this score (the entry moves on)
    episode: bool = False  # `open_episode` at this score
    purchases: int = 0  # the profile's at this score (the KPI hook's state)
    last_tx: int = 0


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
    # the names pinned by CW_SCORING_ACTIVITIES, else the model's own (docs/model.md)
    x = features(profile, clock, model.activities if opts.activities is None else opts.activities)
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
        retail=entry.retail,
        episode=open_episode(profile),
        purchases=profile.purchases,
        last_tx=profile.last_tx,
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
    records: list[ScoreRecord] = field(default_factory=list)  # the last per customer
    all_records: list[ScoreRecord] = field(default_factory=list)  # one per score, in order
    history: list[tuple[ScoreRecord, str | None, Why]] = field(default_factory=list)
    transitions: list[tuple[str, str, str | None, datetime]] = field(default_factory=list)
    due: list[tuple[str, int, datetime | None]] = field(default_factory=list)
    snapshots: list[SnapshotRow] = field(default_factory=list)
    messages: list[tuple[ScoreRecord, bytes, str]] = field(default_factory=list)


def finish(
    scored: Sequence[Scored],
    clv: ClvParams,
    population: Population,
    opts: ScoreOptions,
    *,
    clv_params_id: int | None = None,
) -> BatchResult:
    """Value a chunk (one vectorised retail CLV call) and lay out the rows to write.

    Tiers and value at risk come from ``opts.value.basis``: the value if retained by default,
    so that the customers most at risk are not ranked least valuable for being at risk. Each
    record names the versions it used (model, ``clv_params_id``, ``population.version``). A
    customer scored several times keeps every history row, transition, snapshot and message,
    and one (the last) profile, latest-score and due row.
    """
    retail_idx = [i for i, s in enumerate(scored) if not s.subscription and s.retail]
    summaries: list[RetailSummary] = [
        observe(s.retail, s.clock, clv.unit_days)
        for s in (scored[i] for i in retail_idx)
        if s.retail
    ]
    values: dict[int, tuple[float, float | None, float | None]] = dict(
        zip(retail_idx, retail_values(clv, summaries, opts.value), strict=True)
    )
    kept: dict[int, float] = dict(
        zip(retail_idx, retail_retained(clv, summaries, opts.value), strict=True)
    )
    out = BatchResult()
    profiles: dict[str, tuple[str, int, bytes, bytes | None]] = {}
    latest: dict[str, ScoreRecord] = {}
    due: dict[str, tuple[str, int, datetime | None]] = {}
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
        value, retained = _money3(value), _money(retained)
        basis = retained if opts.value.basis == "retained" else value[0]
        rfm = s.rfm
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
                "clv_params_id": clv_params_id,
                "cuts_version": population.version,
                "rfm_recency_days": None if rfm is None else rfm.recency_days,
                "rfm_frequency": None if rfm is None else rfm.frequency,
                "rfm_monetary": None if rfm is None else rfm.monetary,
            },
        )
        entry = s.entry
        why = history_why(entry.last_score, s.probability, s.band, min_move=opts.history_min_move)
        if why is not None:
            out.history.append((rec, entry.last_score[1] if entry.last_score else None, why))
            entry.last_score = (s.probability, s.band)
        if s.customer_id not in profiles:  # the entry's state now: every later score's too
            retail = pickle.dumps(entry.retail, protocol=5) if entry.retail else None
            profiles[s.customer_id] = (
                s.customer_id, s.partition, entry.profile.to_bytes(), retail
            )  # fmt: skip
        latest.pop(s.customer_id, None)
        latest[s.customer_id] = rec
        out.all_records.append(rec)
        if s.transition is not None:
            out.transitions.append((s.customer_id, s.transition[0], s.transition[1], s.clock))
        due.pop(s.customer_id, None)
        due[s.customer_id] = (s.customer_id, s.partition, s.due)
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
            open_episode=s.episode,
        ):
            entry.last_published = published
            out.messages.append((rec, score_message(rec), score_msg_id(rec)))
    out.profiles = list(profiles.values())
    out.records = list(latest.values())
    out.due = list(due.values())
    return out


def _money(v: float) -> float:
    """Values to a millionth: numpy's vectorised CLV may round the last bit of an element
    differently with the array's length and position (the chunk), and a tier is a comparison
    with a threshold that is some customer's value; rounding makes both batch-independent.

    >>> _money(12.3456789012345), _money(0.1 + 0.2)
    (12.345679, 0.3)
    """
    return round(v, 6)


def _money3(
    v: tuple[float, float | None, float | None],
) -> tuple[float, float | None, float | None]:
    return (
        round(v[0], 6),
        None if v[1] is None else round(v[1], 6),
        None if v[2] is None else round(v[2], 6),
    )


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
