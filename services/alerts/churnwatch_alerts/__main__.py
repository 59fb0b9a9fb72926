"""``python -m churnwatch_alerts``: the alerts worker, outbox relay, webhook dispatcher and
/healthz, /readyz, /metrics on port 8002. Settings from the environment (``CW_*``,
``CW_ALERTS_*``, ``DATABASE_URL``).
"""

from __future__ import annotations

import asyncio

from churnwatch_alerts.app import run
from churnwatch_alerts.settings import AlertsSettings
from churnwatch_runtime.logs import configure_logging


def main() -> None:
    settings = AlertsSettings()
    configure_logging(settings.log_level, json=settings.log_json)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
