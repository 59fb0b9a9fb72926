"""The KPI hook's switch (``CW_SCORING_KPIS``): on by default, off only when asked; off, it
records nothing (so the benchmark's with/without comparison compares what it says)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from churnwatch.events import EXAMPLES, EventType, parse_event
from churnwatch.profile import CustomerProfile, apply
from churnwatch_scoring.app import build_processor
from churnwatch_scoring.settings import ScoringSettings


def test_the_hook_is_on_by_default_and_off_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CW_SCORING_KPIS", raising=False)
    assert build_processor(ScoringSettings()).kpis.enabled
    monkeypatch.setenv("CW_SCORING_KPIS", "off")
    assert not build_processor(ScoringSettings()).kpis.enabled


def test_an_enabled_hook_captures_events_and_times_itself_a_disabled_one_does_neither() -> None:
    ev = parse_event(
        orjson.dumps(EXAMPLES[EventType.PURCHASE]), now=datetime(2100, 1, 1, tzinfo=UTC)
    )
    profile = CustomerProfile()
    apply(profile, ev)
    on = build_processor(ScoringSettings(kpis=True)).kpis
    off = build_processor(ScoringSettings(kpis=False)).kpis
    for hook in (on, off):
        hook.event(0, ev, profile, late=True)
    assert (len(on._facts), on._late) == (1, {(ev.source, 0): 1})
    assert on.take_seconds() > 0
    assert on.take_seconds() == 0  # taken
    assert (off._facts, off._late, off.take_seconds()) == ([], {}, 0)
