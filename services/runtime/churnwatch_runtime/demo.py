"""``churnwatch demo``: the whole system on one machine, with simulated customers flowing through.

Starts the infrastructure, every service that is built (each as its own process, as in
production), waits until each answers ``/readyz``, then runs the simulator in live mode against
the ingest API. Ctrl-C (or ``--seconds``) stops the processes it started, newest first.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from churnwatch_runtime import local
from churnwatch_runtime.paths import cw_home
from churnwatch_runtime.settings import CommonSettings


@dataclass(frozen=True)
class Service:
    """A process the demo starts: module to run, and the port of its /readyz (if it has one)."""

    name: str
    module: str
    args: tuple[str, ...]
    port_env: str | None
    default_port: int | None = None

    @property
    def port(self) -> int | None:
        if self.port_env is None:
            return None
        return int(os.environ.get(self.port_env, str(self.default_port)))


SERVICES = (
    Service("ingest", "churnwatch_ingest", ("http",), "CW_INGEST_PORT", 8001),
    Service("raw-validator", "churnwatch_ingest", ("raw",), None),
    Service("scoring", "churnwatch_scoring", (), "CW_SCORING_PORT", 8003),
    Service("learner", "churnwatch_scoring.learner", (), None),
    Service("alerts", "churnwatch_alerts", (), "CW_ALERTS_PORT", 8002),
    Service("api", "churnwatch_api", (), "CW_API_PORT", 8000),
)


def built(module: str) -> bool:
    """A service counts as built once its package can be run with ``python -m``."""
    try:
        spec = importlib.util.find_spec(f"{module}.__main__")
    except ModuleNotFoundError:
        return False
    return spec is not None


def wait_ready(name: str, port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see its log under var/logs")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{name} not ready on port {port} after {timeout:.0f}s")


def spawn(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    logs = cw_home() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"{name}.log").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def run_demo(*, rate: float, customers: int, seconds: float) -> int:
    settings = CommonSettings()
    print("starting Kafka and PostgreSQL ...", flush=True)
    env = {**os.environ, **local.start_infra(settings)}
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        for svc in SERVICES:
            if not built(svc.module):
                print(f"  {svc.name}: not built yet, skipped", flush=True)
                continue
            proc = spawn(svc.name, ["-m", svc.module, *svc.args], env)
            procs.append((svc.name, proc))
            port = svc.port
            if port is not None:
                wait_ready(svc.name, port, proc)
            print(f"  {svc.name}: running (pid {proc.pid})", flush=True)
        sim = [
            "-m", "churnwatch_sim.cli", "run",
            "--clock", "live", "--rate", str(rate), "--customers", str(customers),
            "--to", f"http://127.0.0.1:{SERVICES[0].port}",
        ]  # fmt: skip
        procs.append(("simulator", spawn("simulator", sim, env)))
        print_banner(cw_home() / "logs")
        deadline = time.monotonic() + seconds if seconds > 0 else None
        while deadline is None or time.monotonic() < deadline:
            for name, proc in procs:
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the demo", flush=True)
                    return 1
            time.sleep(1)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        # newest first and one at a time: the simulator flushes to ingest before ingest stops
        for _, proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def print_banner(logs: Path) -> None:
    ingest, api = SERVICES[0].port, SERVICES[-1].port
    print(
        "\nchurnwatch demo is running — simulated customers are flowing through.\n"
        f"  ingest API      http://127.0.0.1:{ingest}/docs   (POST /v1/events)\n"
        f"  ingest metrics  http://127.0.0.1:{ingest}/metrics\n"
        f"  dashboard/API   http://127.0.0.1:{api}/        (when the api service is built)\n"
        "  at-risk list    .venv/bin/churnwatch at-risk   (save-team queue: churnwatch tasks)\n"
        f"  logs            {logs}/\n"
        "Ctrl-C stops the services; `churnwatch infra down` stops Kafka and PostgreSQL.\n",
        flush=True,
    )
