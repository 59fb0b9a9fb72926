"""A real browser for the dashboard's tests and benchmark: Debian's ``chromium`` driven by the
PyPI ``playwright`` package through its executable path (``playwright install`` downloads a
browser build and cannot work here), and the real API served by uvicorn on a free port.

``make test`` installs chromium first (``scripts/ensure_chromium.sh``); elsewhere a test without
it skips and says how to install it.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from churnwatch_api import ApiSettings, create_app
from churnwatch_runtime.infra._proc import free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "artifacts" / "screenshots"

# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# closed network refuses (docs: /work/.library/env/machines/polyglot.md, shared web-notes).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip
INSTALL_HINT = "install it with: sudo apt-get update && sudo apt-get install -y chromium"


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_options() -> dict[str, Any]:
    """Keyword arguments of ``playwright.chromium.launch`` for the system's chromium."""
    return {"executable_path": chromium_path(), "headless": True, "args": CHROMIUM_ARGS}


class LiveApi:
    """The API app in a uvicorn server on a background thread (a real socket: the browser's)."""

    def __init__(self, settings: ApiSettings) -> None:
        self.port = settings.port
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning",
            lifespan="on", timeout_graceful_shutdown=2,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-api", daemon=True)

    def start(self, timeout_s: float = 30.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the API did not answer on {self.url} within {timeout_s} s")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def live_api(database_url: str, **overrides: Any) -> Iterator[LiveApi]:
    """The real API on a free port over ``database_url`` (plain http: cookie not Secure)."""
    settings = ApiSettings(
        database_url=database_url, port=free_port(), cookie_secure=False, auth_cache_ttl_s=0,
        log_json=False, **overrides,
    )  # fmt: skip
    api = LiveApi(settings)
    api.start()
    try:
        yield api
    finally:
        api.stop()
