"""``python -m churnwatch_api`` (``churnwatch run api``): the API and dashboard on :8000.

Settings come from the environment (``CW_API_*``, ``CW_*``, ``DATABASE_URL``).
"""

from __future__ import annotations

import uvicorn

from churnwatch_api.app import create_app
from churnwatch_api.settings import ApiSettings
from churnwatch_runtime.logs import configure_logging


def main() -> None:
    settings = ApiSettings()
    configure_logging(settings.log_level, json=settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=settings.access_log,
    )


if __name__ == "__main__":
    main()
