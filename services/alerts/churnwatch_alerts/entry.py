"""Alerts in the service registry (``churnwatch.services`` entry point)."""

from churnwatch_runtime.registry import ServiceSpec

SERVICE = ServiceSpec("alerts", "churnwatch_alerts", (), "CW_ALERTS_PORT", 8002, order=50)
