"""Ingest's two processes in the service registry (``churnwatch.services`` entry points)."""

from churnwatch_runtime.registry import ServiceSpec

HTTP = ServiceSpec("ingest", "churnwatch_ingest", ("http",), "CW_INGEST_PORT", 8001, order=10)
RAW = ServiceSpec("raw-validator", "churnwatch_ingest", ("raw",), order=20)
