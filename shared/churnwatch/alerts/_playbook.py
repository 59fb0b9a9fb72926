"""Playbooks: declarative, versioned rules (trigger, condition, action) parsed from YAML.

`parse_playbooks` validates a whole document and rejects it with every problem and its path
(``playbooks[2].condition.all[0].field: unknown field 'tierr' (did you mean 'tier'?)``);
`default_playbooks` loads the six shipped in ``defaults/playbooks.yaml``. docs/playbooks.md
documents the format.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from churnwatch.messages import ACTION_TYPES, ActionType

from ._condition import MAX_DEPTH, MAX_NODES, Condition
from ._errors import Issue, PlaybookError
from ._facts import STAGES

__all__ = [
    "ACTION_TYPES",
    "CHANNELS",
    "DEFAULT_CHANNEL",
    "DEFAULT_MODE",
    "TRIGGER_TYPES",
    "ActionSpec",
    "Playbook",
    "PriorityRule",
    "Trigger",
    "default_playbooks",
    "parse_duration",
    "parse_playbooks",
]

Channel = Literal["phone", "email", "sms", "push"]
CHANNELS: tuple[str, ...] = get_args(Channel)
TriggerType = Literal[
    "score_changed", "band_entered", "complaint_unresolved_for", "payment_failed",
    "first_purchase_without_repeat", "lapsed",
]  # fmt: skip
TRIGGER_TYPES: tuple[str, ...] = get_args(TriggerType)

DEFAULT_MODE: dict[str, Literal["task", "automated"]] = {
    "save_call": "task", "service_recovery": "task", "offer": "automated",
    "billing_outreach": "automated", "repeat_nudge": "automated", "win_back": "automated",
}  # fmt: skip
"""A save call and a service recovery are tasks for people; the rest are sent automatically."""
DEFAULT_CHANNEL: dict[str, str] = {
    "save_call": "phone", "service_recovery": "phone", "offer": "email",
    "billing_outreach": "email", "repeat_nudge": "email", "win_back": "email",
}  # fmt: skip

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(value: Any) -> timedelta:
    """A duration from ``"48h"``, ``"14d"``, ``"2w"``, ``"30m"``, ``"90s"`` or seconds.

    >>> parse_duration("14d"), parse_duration("1.5h"), parse_duration(60)
    (datetime.timedelta(days=14), datetime.timedelta(seconds=5400), datetime.timedelta(seconds=60))
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return timedelta(seconds=float(m[1]) * _UNIT_SECONDS[m[2]])
    raise ValueError(f"expected a duration such as '48h', '14d' or '2w', got {value!r}")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
_Strict = ConfigDict(frozen=True, extra="forbid")

# which trigger parameters each trigger type takes (required ones first) and their defaults
_TRIGGER_PARAMS: dict[str, dict[str, Any]] = {
    "score_changed": {},
    "band_entered": {"bands": None},
    "complaint_unresolved_for": {"hours": None},
    "payment_failed": {"min_consecutive": 1},
    "first_purchase_without_repeat": {"days": None},
    "lapsed": {"stages": ("lapsed", "churned")},
}


class Trigger(BaseModel):
    """What wakes a playbook up; each type takes its own parameters (docs/playbooks.md)."""

    model_config = _Strict

    type: TriggerType
    bands: tuple[Literal["low", "medium", "high", "critical"], ...] | None = Field(
        None, validate_default=True
    )
    hours: float | None = Field(None, gt=0, validate_default=True)
    days: float | None = Field(None, gt=0, validate_default=True)
    min_consecutive: int | None = Field(None, ge=1, validate_default=True)
    stages: tuple[str, ...] | None = Field(None, validate_default=True)

    @field_validator("bands", "hours", "days", "min_consecutive", "stages")
    @classmethod
    def _params_of_type(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("type")
        if kind is None:
            return value
        params = _TRIGGER_PARAMS[kind]
        name = info.field_name
        assert name is not None
        if name not in params:
            if value is not None:
                raise ValueError(f"not a parameter of trigger {kind!r}")
            return None
        if value is None:
            if params[name] is None:
                raise ValueError(f"required by trigger {kind!r}")
            return params[name]
        if name == "stages":
            unknown = [s for s in value if s not in STAGES]
            if unknown or not value:
                raise ValueError(f"unknown stages {unknown}; expected some of {', '.join(STAGES)}")
        if name == "bands" and not value:
            raise ValueError("needs at least one band")
        return value


class ActionSpec(BaseModel):
    """What a match does: the action type, how it is carried out, and its parameters."""

    model_config = _Strict

    type: ActionType
    mode: Literal["task", "automated"] | None = Field(None, validate_default=True)
    channel: Channel | None = Field(None, validate_default=True)
    team: str | None = Field(None, min_length=1, max_length=64, validate_default=True)
    sla_hours: dict[Literal["bronze", "silver", "gold", "platinum"], float] | None = None
    offer_code: str | None = Field(None, min_length=1, max_length=64)
    discount_pct: float | None = Field(None, gt=0, le=90)
    talking_points: tuple[str, ...] = ()
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("mode")
    @classmethod
    def _default_mode(cls, mode: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        return DEFAULT_MODE[kind] if mode is None and kind is not None else mode

    @field_validator("channel")
    @classmethod
    def _default_channel(cls, channel: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        return DEFAULT_CHANNEL[kind] if channel is None and kind is not None else channel

    @field_validator("team")
    @classmethod
    def _team_for_tasks(cls, team: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("mode") == "task" and team is None:
            raise ValueError("a task needs the team that works it")
        return team

    @field_validator("sla_hours")
    @classmethod
    def _sla_for_tasks(cls, sla: dict[str, float] | None, info: ValidationInfo) -> Any:
        if sla is None:
            return None
        if info.data.get("mode") != "task":
            raise ValueError("only a task has an SLA")
        if any(hours <= 0 for hours in sla.values()):
            raise ValueError("SLA hours must be positive")
        return sla

    @field_validator("offer_code", "discount_pct")
    @classmethod
    def _offers_only(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None and info.data.get("type") not in (None, "offer", "win_back"):
            raise ValueError("only an offer or a win-back carries an offer code or a discount")
        return value


class PriorityRule(BaseModel):
    """How matches of a playbook are ranked in the queue: by this fact, highest first."""

    model_config = _Strict

    by: Literal["value_at_risk", "clv", "churn_probability"] = "value_at_risk"


class Playbook(BaseModel):
    """One versioned playbook (docs/playbooks.md); build it with `parse_playbooks`."""

    model_config = _Strict

    id: str = Field(pattern=r"^[a-z][a-z0-9_\-]{0,63}$")
    version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    enabled: bool = True
    trigger: Trigger
    condition: Condition | None = None
    action: ActionSpec
    priority: PriorityRule = PriorityRule()
    holdout: float = Field(0.1, ge=0, le=0.5)
    """Share of matching customers kept as untreated controls, in [0, 0.5]."""
    cooldown: Duration = timedelta(days=30)
    """No second exposure of the same customer to this playbook within this time."""

    @model_validator(mode="after")
    def _bounded_condition(self) -> Playbook:
        if self.condition is not None:
            nodes, depth = self.condition.size()
            if nodes > MAX_NODES or depth > MAX_DEPTH:
                raise ValueError(
                    f"condition too large: {nodes} nodes, depth {depth} "
                    f"(limits {MAX_NODES}, {MAX_DEPTH})"
                )
        return self


class _Document(BaseModel):
    model_config = _Strict
    playbooks: list[Playbook]


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a bad mapping key: the key names itself
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _conflicts(playbooks: list[Playbook]) -> list[Issue]:
    issues: list[Issue] = []
    enabled: dict[str, int] = {}
    versions: dict[tuple[str, int], int] = {}
    for i, pb in enumerate(playbooks):
        if (pb.id, pb.version) in versions:
            first = versions[(pb.id, pb.version)]
            issues.append(
                Issue(
                    f"playbooks[{i}].version", f"{pb.id!r} v{pb.version} is also playbooks[{first}]"
                )
            )
        versions.setdefault((pb.id, pb.version), i)
        if pb.enabled:
            if pb.id in enabled:
                issues.append(
                    Issue(
                        f"playbooks[{i}].id",
                        f"two enabled playbooks with id {pb.id!r}"
                        f" (also playbooks[{enabled[pb.id]}])",
                    )
                )
            enabled.setdefault(pb.id, i)
    return issues


def parse_playbooks(text: str) -> tuple[Playbook, ...]:
    """Every playbook of a YAML document ``{playbooks: [...]}``, or `PlaybookError` listing
    every problem with its path.

    >>> doc = '''
    ... playbooks:
    ...   - id: vip
    ...     version: 1
    ...     name: VIP save call
    ...     trigger: {type: band_entered, bands: [high, critical]}
    ...     condition: {all: [{field: tierr, op: in, value: [gold, platinum]}]}
    ...     action: {type: save_call, team: save-team}
    ... '''
    >>> parse_playbooks(doc)
    Traceback (most recent call last):
      ...
    churnwatch.alerts._errors.PlaybookError: playbooks[0].condition.all[0].field: unknown field 'tierr' (did you mean 'tier'?)
    >>> parse_playbooks(doc.replace("tierr", "tier"))[0].action.channel
    'phone'
    """  # noqa: E501
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise PlaybookError([Issue(where, f"invalid YAML: {exc}")]) from None
    if isinstance(data, list):
        data = {"playbooks": data}
    if not isinstance(data, dict):
        raise PlaybookError([Issue("", "expected a mapping with a 'playbooks' list")])
    try:
        doc = _Document.model_validate(data)
    except ValidationError as exc:
        issues = [Issue(_path(e["loc"]), _message(e)) for e in exc.errors()]
        raise PlaybookError(issues) from None
    if issues := _conflicts(doc.playbooks):
        raise PlaybookError(issues)
    return tuple(doc.playbooks)


@lru_cache(maxsize=1)
def default_playbooks() -> tuple[Playbook, ...]:
    """The six playbooks churnwatch ships (``defaults/playbooks.yaml``).

    >>> [pb.id for pb in default_playbooks()]  # doctest: +NORMALIZE_WHITESPACE
    ['save_call_vip', 'offer_at_risk', 'service_recovery', 'billing_outreach', 'repeat_nudge',
     'win_back_high_value']
    """
    text = resources.files("churnwatch.alerts").joinpath("defaults/playbooks.yaml").read_text()
    return parse_playbooks(text)
