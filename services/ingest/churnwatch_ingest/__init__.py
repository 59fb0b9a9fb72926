"""churnwatch ingest: events in over HTTP or Kafka, validated, deduplicated, on ``cw.events``.

``create_app(settings)`` is the FastAPI app (``POST /v1/events``); ``run_raw_validator`` is the
Kafka-native path (``cw.events.raw`` → ``cw.events`` / ``cw.events.dlq``). ``python -m
churnwatch_ingest [http|raw|all]`` runs either or both.
"""

from churnwatch_ingest.app import create_app
from churnwatch_ingest.metrics import IngestMetrics
from churnwatch_ingest.raw import run_raw_validator
from churnwatch_ingest.settings import IngestSettings

__all__ = ["IngestMetrics", "IngestSettings", "create_app", "run_raw_validator"]
