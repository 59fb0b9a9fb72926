"""``python -m churnwatch_scoring.learner``: the learner (or a standby) until SIGINT/SIGTERM.

Settings come from the environment (``CW_*``, ``CW_LEARNER_*``, ``DATABASE_URL``). The retention
job (``CW_RETENTION_*``, `churnwatch_runtime.retention`) runs beside it: it deletes the
snapshots the learner resolved, once past their retention, and expired history rows.
"""

from __future__ import annotations

import asyncio
import signal

from churnwatch_runtime.db import make_engine
from churnwatch_runtime.logs import configure_logging
from churnwatch_runtime.retention import RetentionSettings, run_forever
from churnwatch_scoring.learner.service import Learner
from churnwatch_scoring.learner.settings import LearnerSettings


async def _run(settings: LearnerSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    engine = make_engine(settings.database_url, pool_size=1)
    janitor = make_engine(settings.database_url, pool_size=1)  # short DELETE transactions
    retention = asyncio.create_task(run_forever(janitor, RetentionSettings(), stop))
    try:
        await Learner(engine, settings).run(stop)
    finally:
        stop.set()
        await retention
        await asyncio.gather(engine.dispose(), janitor.dispose())


def main() -> None:
    settings = LearnerSettings()
    configure_logging(settings.log_level, json=settings.log_json)
    asyncio.run(_run(settings))


if __name__ == "__main__":
    main()
