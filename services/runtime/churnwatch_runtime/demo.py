"""``churnwatch demo``: the whole system on one machine, with simulated customers flowing through.

Starts the infrastructure, every service that is built (each as its own process, as in
production), waits until each answers ``/readyz``, then runs the simulator against the ingest API:
first a history (``history_days`` simulated days ending today, replayed as fast as ingest takes
them) so that the customers have a past when the user first looks, then the same customers live,
answering the actions alerts puts on ``cw.actions``. Ctrl-C (or ``--seconds``, counted from the
start of the live phase) stops the processes it started, newest first.
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

HISTORY_ENV = "CW_DEMO_HISTORY_DAYS"
DEFAULT_HISTORY_DAYS = 120
HISTORY_MARK = "history done:"  # the simulator's line when the replayed history is all sent


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


def history_days_from(value: int | None) -> int:
    """``value``, else ``$CW_DEMO_HISTORY_DAYS``, else :data:`DEFAULT_HISTORY_DAYS`."""
    days = value if value is not None else int(os.environ.get(HISTORY_ENV, DEFAULT_HISTORY_DAYS))
    if days < 0:
        raise ValueError("history_days must not be negative")
    return days


def simulator_args(
    *, rate: float, customers: int, history_days: int, ingest: int | None, bootstrap: str
) -> list[str]:
    """The simulator's command line: history, then live into ingest, answering actions.

    >>> simulator_args(rate=200, customers=2000, history_days=120, ingest=8001,
    ...                bootstrap="127.0.0.1:9092")[-6:]  # doctest: +NORMALIZE_WHITESPACE
    ['--history-days', '120', '--to', 'http://127.0.0.1:8001',
     '--actions-from', 'kafka://127.0.0.1:9092/cw.actions']
    """
    return [
        "-m", "churnwatch_sim.cli", "run",
        "--clock", "live", "--rate", str(rate), "--customers", str(customers),
        "--history-days", str(history_days),
        "--to", f"http://127.0.0.1:{ingest}",
        "--actions-from", f"kafka://{bootstrap}/cw.actions",
    ]  # fmt: skip


def wait_for_line(log: Path, offset: int, mark: str, proc: subprocess.Popen[bytes]) -> str:
    """The first line containing ``mark`` written to ``log`` after ``offset``.

    The demo has no other channel to the simulator than its log; it fails if the process ends.
    """
    while True:
        with log.open("rb") as fh:
            fh.seek(offset)
            for raw in fh.read().decode(errors="replace").splitlines():
                if mark in raw:
                    return raw.strip()
        if proc.poll() is not None:
            raise RuntimeError(f"the simulator exited with {proc.returncode}; see {log}")
        time.sleep(0.5)


def run_demo(
    *, rate: float, customers: int, seconds: float, history_days: int | None = None
) -> int:
    """Run the demo until ``seconds`` of live time have passed (0 = until Ctrl-C).

    ``history_days`` (None: ``$CW_DEMO_HISTORY_DAYS`` or 120) simulated days are replayed
    through ingest before the live phase; 0 starts live at once, with brand-new customers.
    """
    history = history_days_from(history_days)
    began = time.monotonic()
    settings = CommonSettings()
    print("starting Kafka and PostgreSQL ...", flush=True)
    env = {**os.environ, **local.start_infra(settings)}
    print(f"  infra up after {time.monotonic() - began:.0f} s", flush=True)
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
        log = cw_home() / "logs" / "simulator.log"
        offset = log.stat().st_size if log.exists() else 0
        args = simulator_args(
            rate=rate, customers=customers, history_days=history,
            ingest=SERVICES[0].port, bootstrap=env["CW_KAFKA_BOOTSTRAP"],
        )  # fmt: skip
        sim = spawn("simulator", args, env)
        procs.append(("simulator", sim))
        simulated = [
            f"live            {customers:,} customers at {rate:g} events/s, answering the"
            " actions alerts puts on cw.actions"
        ]
        if history:
            print(
                f"replaying {history} days of history for {customers:,} customers through"
                f" ingest (takes a while; services score and act on it as it comes) ...",
                flush=True,
            )
            line = wait_for_line(log, offset, HISTORY_MARK, sim)
            took = time.monotonic() - began
            replayed = line.removeprefix(HISTORY_MARK).split("; live")[0].strip()
            simulated.insert(0, f"history         {replayed} (replayed through ingest)")
            print(f"  history replayed {took:.0f} s after the start", flush=True)
        print_banner(cw_home() / "logs", simulated)
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


def print_banner(logs: Path, simulated: list[str]) -> None:
    ingest, api = SERVICES[0].port, SERVICES[-1].port
    print(
        "\nchurnwatch demo is running — simulated customers are flowing through.\n"
        + "".join(f"  {line}\n" for line in simulated)
        + f"  ingest API      http://127.0.0.1:{ingest}/docs   (POST /v1/events)\n"
        f"  ingest metrics  http://127.0.0.1:{ingest}/metrics\n"
        f"  dashboard/API   http://127.0.0.1:{api}/        (when the api service is built)\n"
        "  at-risk list    .venv/bin/churnwatch at-risk   (save-team queue: churnwatch tasks)\n"
        f"  logs            {logs}/\n"
        "Ctrl-C stops the services; `churnwatch infra down` stops Kafka and PostgreSQL.\n",
        flush=True,
    )
