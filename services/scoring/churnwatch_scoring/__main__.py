"""``python -m churnwatch_scoring``: the scoring worker, its outbox relay and /healthz, /readyz,
/metrics on port 8003. Settings from the environment (``CW_*``, ``CW_SCORING_*``, ``DATABASE_URL``).
"""

from __future__ import annotations

import asyncio

from churnwatch_runtime.logs import configure_logging
from churnwatch_scoring.app import run
from churnwatch_scoring.settings import ScoringSettings


def main() -> None:
    settings = ScoringSettings()
    configure_logging(settings.log_level, json=settings.log_json)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
