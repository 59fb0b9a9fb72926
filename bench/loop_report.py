"""What the closed loop through the services measured, against the simulator's truth.

Pure helpers of `bench.loop` (no I/O): the per-exposure truth the loop logged (`Exposed`), and
per playbook the measured uplift the alerts uplift job stored (`uplift_reports`, segment
``all``) beside the mean true uplift over *the same resolved exposures* (both arms: the holdout
estimates the average effect over everyone the playbook reached), and the uplift the same
exposures show with the simulator's realised churn instead of the job's labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from churnwatch.alerts import Exposure, Interval, uplift_reports

__all__ = ["Exposed", "PlaybookRow", "compare", "realised_churn", "table"]


@dataclass(slots=True)
class Exposed:
    """One exposure (either arm) as the loop found it in PostgreSQL, with the oracle's truth
    at that moment: the start of simulated day ``day + 1``, when its action takes effect."""

    action_id: str
    customer: int  # population index
    playbook_id: str
    action_type: str
    arm: str
    day: int  # the simulated day after whose barrier the exposure was read
    true_uplift: float
    p_churn_control: float
    alive: bool
    late: bool = False  # read on a later day than its exposed_at's
    applied_uplift: float | None = None  # ActionResult.true_uplift, treated and applied only


def realised_churn(e: Exposed, churn_days: Sequence[int], horizon: int) -> bool:
    """Whether the customer was gone at exposure or churned within the ``horizon`` days after.

    >>> e = Exposed("a", 1, "pb", "save_call", "treated", 10, 0.1, 0.2, True)
    >>> realised_churn(e, [40], 30), realised_churn(e, [41], 30), realised_churn(e, [10], 30)
    (True, False, False)
    """
    return not e.alive or any(e.day < d <= e.day + horizon for d in churn_days)


@dataclass(frozen=True, slots=True)
class PlaybookRow:
    """One playbook: what the job stored, and the truth over its resolved exposures."""

    playbook_id: str
    exposed_treated: int  # every exposure in the database, resolved or not
    exposed_control: int
    treated: int  # resolved, as stored in uplift_reports
    control: int
    churn_treated: float | None
    churn_control: float | None
    measured: Interval | None
    true_uplift: float | None  # mean over the resolved exposures, both arms
    realised: Interval | None  # the same exposures, churn as the simulator realised it

    @property
    def abs_err(self) -> float | None:
        if self.measured is None or self.true_uplift is None:
            return None
        return abs(self.measured.estimate - self.true_uplift)

    @property
    def covered(self) -> bool | None:
        if self.measured is None or self.true_uplift is None:
            return None
        return self.measured.covers(self.true_uplift)


def compare(
    stored: Mapping[str, tuple[int, int, float | None, float | None, Interval | None]],
    resolved: Iterable[tuple[str, str, str]],
    exposed: Mapping[str, Exposed],
    realised: Mapping[str, bool],
    counts: Mapping[str, Mapping[str, int]],
) -> dict[str, PlaybookRow]:
    """Per playbook: ``stored`` (treated, control, churn treated, churn control, uplift) from
    ``uplift_reports``; ``resolved`` (action id, playbook, arm) of the job's resolved exposures;
    the loop's `Exposed` and realised churn by action id; ``counts`` exposures by playbook/arm.

    >>> e = {k: Exposed(k, 0, "pb", "offer", arm, 0, u, 0.3, True)
    ...      for k, arm, u in (("a", "treated", 0.1), ("b", "control", 0.3))}
    >>> rows = compare({"pb": (1, 1, 0.0, 1.0, Interval(-1.0, -1.5, -0.5))},
    ...                [("a", "pb", "treated"), ("b", "pb", "control")], e,
    ...                {"a": False, "b": True}, {"pb": {"treated": 1, "control": 1}})
    >>> r = rows["pb"]
    >>> round(r.true_uplift, 2), round(r.abs_err, 2), r.covered, r.realised.estimate
    (0.2, 1.2, False, 1.0)
    """
    truth: dict[str, list[float]] = {}
    real: dict[str, list[Exposure]] = {}
    for action_id, playbook_id, arm in resolved:
        e = exposed.get(action_id)
        if e is None:
            continue
        truth.setdefault(playbook_id, []).append(e.true_uplift)
        real.setdefault(playbook_id, []).append(
            Exposure(
                playbook_id,
                "all",
                "treated" if arm == "treated" else "control",
                realised[action_id],
            )
        )
    real_reports = {
        r.playbook_id: r.uplift
        for r in uplift_reports([x for xs in real.values() for x in xs])
        if r.segment == "all"
    }
    out: dict[str, PlaybookRow] = {}
    for pb in sorted(set(stored) | set(counts)):
        t, c, ct, cc, measured = stored.get(pb, (0, 0, None, None, None))
        values = truth.get(pb, [])
        out[pb] = PlaybookRow(
            pb,
            counts.get(pb, {}).get("treated", 0),
            counts.get(pb, {}).get("control", 0),
            t,
            c,
            ct,
            cc,
            measured,
            sum(values) / len(values) if values else None,
            real_reports.get(pb),
        )
    return out


def _f(x: float | None, spec: str = "+.4f") -> str:
    return "n/a" if x is None else format(x, spec)


def _i(i: Interval | None) -> str:
    return "n/a" if i is None else f"{i.estimate:+.4f} [{i.low:+.4f}, {i.high:+.4f}]"


def table(rows: Mapping[str, PlaybookRow]) -> str:
    """A plain-text table, one line per playbook (for the notes and the CLI).

    >>> print(table({"pb": PlaybookRow("pb", 3, 1, 2, 1, 0.5, 1.0, Interval(0.5, 0.1, 0.9),
    ...                                0.4, None)}))  # doctest: +NORMALIZE_WHITESPACE
    pb: exposed 3 treated / 1 control; resolved 2 / 1; churn 0.500 vs 1.000;
    measured +0.5000 [+0.1000, +0.9000]; true +0.4000 (|err| 0.1000, inside);
    realised-churn uplift n/a
    """
    lines = []
    for r in rows.values():
        inside = {None: "n/a", True: "inside", False: "OUTSIDE"}[r.covered]
        lines.append(
            f"{r.playbook_id}: exposed {r.exposed_treated} treated / {r.exposed_control} control;"
            f" resolved {r.treated} / {r.control}; churn {_f(r.churn_treated, '.3f')} vs "
            f"{_f(r.churn_control, '.3f')}; measured {_i(r.measured)}; true "
            f"{_f(r.true_uplift)} (|err| {_f(r.abs_err, '.4f')}, {inside}); realised-churn "
            f"uplift {_i(r.realised)}"
        )
    return "\n".join(lines)
