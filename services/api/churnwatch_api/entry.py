"""The API in the service registry (``churnwatch.services`` entry point)."""

from churnwatch_runtime.registry import ServiceSpec

SERVICE = ServiceSpec("api", "churnwatch_api", (), "CW_API_PORT", 8000, order=60)
