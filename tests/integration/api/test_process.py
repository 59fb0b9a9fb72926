"""``churnwatch run api`` as an operator runs it: a real process on a port, keys from the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from churnwatch_runtime.infra._proc import free_port

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "churnwatch_runtime.cli"]


@pytest.fixture
def api_process(fresh_database: str) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": fresh_database, "CW_API_PORT": str(port)}
    proc = subprocess.Popen([*CLI, "run", "api"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"the api exited with {proc.returncode}"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the api was not ready within 60 s"
            time.sleep(0.3)
        yield base, env
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_run_api_serves_keys_made_on_the_command_line(
    api_process: tuple[str, dict[str, str]],
) -> None:
    base, env = api_process
    made = subprocess.run(
        [*CLI, "keys", "create", "--scopes", "read", "--name", "ops", "--quiet"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    key = made.stdout.strip()
    me = httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert me.json()["name"] == "ops"
    assert httpx.get(f"{base}/v1/me").status_code == 401
    docs = httpx.get(f"{base}/docs")
    assert "/docs-assets/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "churnwatch API"
