"""Kafka plumbing shared by the services: topic admin and client factories (aiokafka)."""

from churnwatch_runtime.kafka.admin import ensure_topics, missing_topics, topic_partitions
from churnwatch_runtime.kafka.clients import make_consumer, make_producer

__all__ = [
    "ensure_topics",
    "make_consumer",
    "make_producer",
    "missing_topics",
    "topic_partitions",
]
