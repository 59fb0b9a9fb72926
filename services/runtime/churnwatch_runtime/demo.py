"""``churnwatch demo``: the whole system on one machine, with simulated customers flowing through.

Starts the infrastructure, creates the demo's keys (an admin key, a key of the save-team agent
``A-1`` it adds, and the simulator's ``events:write`` key; earlier demo keys are revoked), starts
every registered service (``churnwatch.services`` entry points, each as its own process, as in
production), waits until each answers ``/readyz``, then runs the simulator against the ingest API:
first a history (``history_days`` simulated days ending today, replayed as fast as ingest takes
them) so that the customers have a past when the user first looks, then the same customers live,
answering the actions alerts puts on ``cw.actions``. Ctrl-C (or ``--seconds``, counted from the
start of the live phase) stops the processes it started, newest first.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from churnwatch_runtime import local, registry
from churnwatch_runtime.paths import cw_home
from churnwatch_runtime.settings import CommonSettings

HISTORY_ENV = "CW_DEMO_HISTORY_DAYS"
DEFAULT_HISTORY_DAYS = 120
HISTORY_MARK = "history done:"  # the simulator's line when the replayed history is all sent


DEMO_AGENT = "A-1"
DEMO_TEAM = "save-team"


@dataclass(frozen=True)
class DemoKeys:
    """The keys the demo creates at start (earlier demo keys of the same names are revoked)."""

    admin: str
    agent: str
    simulator: str


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
    keys = make_demo_keys(env)
    env.setdefault("CW_API_COOKIE_SECURE", "false")  # the dashboard is served over plain http
    env["CW_INGEST_KEY"] = keys.simulator
    specs = {svc.name: svc for svc in registry.services()}
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        for svc in specs.values():
            proc = spawn(svc.name, svc.argv(), env)
            procs.append((svc.name, proc))
            port = svc.port
            if port is not None:
                wait_ready(svc.name, port, proc)
            print(f"  {svc.name}: running (pid {proc.pid})", flush=True)
        log = cw_home() / "logs" / "simulator.log"
        offset = log.stat().st_size if log.exists() else 0
        args = simulator_args(
            rate=rate, customers=customers, history_days=history,
            ingest=specs["ingest"].port, bootstrap=env["CW_KAFKA_BOOTSTRAP"],
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
        print_banner(
            cw_home() / "logs", simulated, keys,
            ingest=specs["ingest"].port, api=specs["api"].port if "api" in specs else None,
        )  # fmt: skip
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


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One ``churnwatch`` command in a child process (the runtime imports no service)."""
    return subprocess.run(
        [sys.executable, "-m", "churnwatch_runtime.cli", *args],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def make_demo_keys(env: dict[str, str]) -> DemoKeys:
    """Add the demo's save-team agent (if missing) and create its three keys, replacing old ones."""
    cli(["agents", "add", DEMO_AGENT, "--team", DEMO_TEAM], env)  # fails harmlessly if it exists
    made = {}
    for role, scopes, agent in [
        ("admin", "admin", None),
        ("agent", "read,tasks:write", DEMO_AGENT),
        ("simulator", "events:write,events:erase", None),  # it plays the CRM's erasures too
    ]:
        args = ["keys", "create", "--scopes", scopes, "--name", f"demo-{role}", "--replace"]
        done = cli([*args, "--json", *(["--agent", agent] if agent else [])], env)
        if done.returncode != 0:
            raise RuntimeError(f"could not create the demo's {role} key: {done.stderr.strip()}")
        made[role] = json.loads(done.stdout)["key"]
    return DemoKeys(**made)


def print_banner(
    logs: Path, simulated: list[str], keys: DemoKeys, *, ingest: int | None, api: int | None
) -> None:
    dashboard = (
        f"  dashboard/API   http://127.0.0.1:{api}/   (API docs: http://127.0.0.1:{api}/docs)\n"
        f"  admin key       {keys.admin}\n"
        f"  agent {DEMO_AGENT} key {keys.agent}   (read, tasks:write; log in with either)\n"
        if api is not None
        else ""
    )
    print(
        "\nchurnwatch demo is running — simulated customers are flowing through.\n"
        + "".join(f"  {line}\n" for line in simulated)
        + dashboard
        + f"  ingest API      http://127.0.0.1:{ingest}/docs   (POST /v1/events, scope"
        " events:write)\n"
        f"  ingest metrics  http://127.0.0.1:{ingest}/metrics\n"
        f"  raw metrics     http://127.0.0.1:{os.environ.get('CW_INGEST_RAW_METRICS_PORT', '8004')}"
        "/metrics   (raw-validator: dead letters by reason)\n"
        "  at-risk list    .venv/bin/churnwatch at-risk   (save-team queue: churnwatch tasks)\n"
        "  keys            .venv/bin/churnwatch keys list / create / revoke\n"
        f"  logs            {logs}/\n"
        "Ctrl-C stops the services; `churnwatch infra down` stops Kafka and PostgreSQL.\n",
        flush=True,
    )
