"""The churnwatch customer simulator: customers with hidden traits, planted churn causes and
a known true response to retention actions (``docs/simulator.md``).

>>> sim = Simulator(SimConfig(days=2).with_overrides(**{"population.customers": 200}))
>>> day = sim.step()
>>> lines = next(day.chunks(10))
>>> lines[0].startswith('{"occurred_at":"2025-01-06T')
True
"""

from churnwatch_sim.actions import (
    Action,
    ActionRejected,
    ActionSource,
    FileActionSource,
    KafkaActionReader,
    parse_action,
)
from churnwatch_sim.blocks import DayEvents
from churnwatch_sim.config import SimConfig, load_config
from churnwatch_sim.engine import Simulator
from churnwatch_sim.hazard import CAUSES
from churnwatch_sim.respond import ActionResult
from churnwatch_sim.runner import RunSummary, run
from churnwatch_sim.sinks import (
    EventLike,
    HttpSink,
    JsonlSink,
    KafkaSink,
    Sink,
    SinkError,
    SinkStats,
    open_sink,
)
from churnwatch_sim.treatment import ACTION_TYPES, SEGMENTS, Effects, Situation, effects, uplift
from churnwatch_sim.truth import TruthWriter

__all__ = [
    "ACTION_TYPES",
    "CAUSES",
    "SEGMENTS",
    "Action",
    "ActionRejected",
    "ActionResult",
    "ActionSource",
    "DayEvents",
    "Effects",
    "EventLike",
    "FileActionSource",
    "HttpSink",
    "JsonlSink",
    "KafkaActionReader",
    "KafkaSink",
    "RunSummary",
    "SimConfig",
    "Simulator",
    "Sink",
    "SinkError",
    "SinkStats",
    "Situation",
    "TruthWriter",
    "effects",
    "load_config",
    "open_sink",
    "parse_action",
    "run",
    "uplift",
]
