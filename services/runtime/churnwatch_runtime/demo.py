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
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from churnwatch_runtime import local, registry
from churnwatch_runtime.demo_state import DemoConflict, load, plan_history, save
from churnwatch_runtime.paths import cw_home
from churnwatch_runtime.settings import CommonSettings
from churnwatch_runtime.supervise import Supervisor

HISTORY_ENV = "CW_DEMO_HISTORY_DAYS"
DEFAULT_HISTORY_DAYS = 120
HISTORY_MARK = "history done:"  # the simulator's line when the replayed history is all sent
DEDUP_WINDOW = timedelta(
    days=7
)  # ingest's default CW_INGEST_DEDUP_WINDOW (runtime can't import it)


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
    *,
    rate: float,
    customers: int,
    history_days: int,
    ingest: int | None,
    bootstrap: str,
    seed: int | None = None,
    start: date | None = None,
) -> list[str]:
    """The simulator's command line: history, then live into ingest, answering actions.

    ``seed`` and ``start`` (the first simulated day) pin the history, so a second demo replays
    the same one (:mod:`churnwatch_runtime.demo_state`).

    >>> simulator_args(rate=200, customers=2000, history_days=120, ingest=8001,
    ...                bootstrap="127.0.0.1:9092")[-6:]  # doctest: +NORMALIZE_WHITESPACE
    ['--history-days', '120', '--to', 'http://127.0.0.1:8001',
     '--actions-from', 'kafka://127.0.0.1:9092/cw.actions']
    >>> simulator_args(rate=1, customers=1, history_days=3, ingest=1, bootstrap="h:1", seed=7,
    ...                start=date(2026, 1, 1))[-4:]
    ['--seed', '7', '--start', '2026-01-01']
    """
    args = [
        "-m", "churnwatch_sim.cli", "run",
        "--clock", "live", "--rate", str(rate), "--customers", str(customers),
        "--history-days", str(history_days),
        "--to", f"http://127.0.0.1:{ingest}",
        "--actions-from", f"kafka://{bootstrap}/cw.actions",
    ]  # fmt: skip
    if seed is not None:
        args += ["--seed", str(seed)]
    if start is not None:
        args += ["--start", start.isoformat()]
    return args


def wait_for_line(log: Path, offset: int, mark: str, tick: Callable[[], None]) -> str:
    """The first line containing ``mark`` written to ``log`` after ``offset``.

    The demo has no other channel to the simulator than its log; ``tick`` keeps the supervisor
    going meanwhile (a crashed simulator is restarted and replays its history again).
    """
    while True:
        with log.open("rb") as fh:
            fh.seek(offset)
            for raw in fh.read().decode(errors="replace").splitlines():
                if mark in raw:
                    return raw.strip()
        tick()
        time.sleep(0.5)


def wipe_local_state(home: Path) -> None:
    """``--fresh``: stop the local broker and database and delete their data and the demo state.

    Refused when ``CW_KAFKA_BOOTSTRAP`` / ``DATABASE_URL`` name servers we do not manage: their
    data is not ours to delete.
    """
    settings = CommonSettings()
    if local.local_broker(settings) is None or local.local_postgres(settings) is None:
        raise DemoConflict(
            "--fresh wipes the local broker and database only; CW_KAFKA_BOOTSTRAP or"
            " DATABASE_URL points elsewhere (empty those yourself, or unset them)"
        )
    local.stop_infra()
    for name in ("kafka", "postgres", "demo"):
        shutil.rmtree(home / name, ignore_errors=True)


def run_demo(
    *,
    rate: float,
    customers: int,
    seconds: float,
    history_days: int | None = None,
    fresh: bool = False,
) -> int:
    """Run the demo until ``seconds`` of live time have passed (0 = until Ctrl-C).

    ``history_days`` (None: ``$CW_DEMO_HISTORY_DAYS`` or 120) simulated days are replayed
    through ingest before the live phase; 0 starts live at once, with brand-new customers. A
    second demo resumes the history in ``var/`` (same seed and first day); ``fresh`` wipes the
    local state first and starts a new one. Crashed services are restarted with backoff.
    """
    home = cw_home()
    try:
        if fresh:
            print("--fresh: stopping Kafka and PostgreSQL and wiping their data ...", flush=True)
            wipe_local_state(home)
        plan = plan_history(
            load(home), fresh=fresh, customers=customers,
            history_days=history_days_from(history_days),
            now=datetime.now(UTC), dedup_window=DEDUP_WINDOW,
        )  # fmt: skip
    except DemoConflict as exc:
        print(f"churnwatch demo: {exc}", file=sys.stderr, flush=True)
        return 2
    history = plan.history_days
    began = time.monotonic()
    settings = CommonSettings()
    print("starting Kafka and PostgreSQL ...", flush=True)
    env = {**os.environ, **local.start_infra(settings)}
    print(f"  infra up after {time.monotonic() - began:.0f} s", flush=True)
    save(home, plan.state)
    if plan.kind == "resume":
        print(
            f"resuming the simulated history in {home} (seed {plan.state.seed}, first day"
            f" {plan.state.start}): what was sent before is dropped by ingest as duplicates;"
            " `churnwatch demo --fresh` starts over",
            flush=True,
        )
    keys = make_demo_keys(env)
    env.setdefault("CW_API_COOKIE_SECURE", "false")  # the dashboard is served over plain http
    env["CW_INGEST_KEY"] = keys.simulator
    specs = {svc.name: svc for svc in registry.services()}
    sup = Supervisor(spawn)
    try:
        for svc in specs.values():
            proc = sup.start(svc.name, svc.argv(), env)
            port = svc.port
            if port is not None:
                wait_ready(svc.name, port, proc)
            print(f"  {svc.name}: running (pid {proc.pid})", flush=True)
        log = home / "logs" / "simulator.log"
        offset = log.stat().st_size if log.exists() else 0
        args = simulator_args(
            rate=rate, customers=customers, history_days=history,
            ingest=specs["ingest"].port, bootstrap=env["CW_KAFKA_BOOTSTRAP"],
            seed=plan.state.seed, start=plan.state.start if history else None,
        )  # fmt: skip
        sup.start("simulator", args, env)
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
            line = wait_for_line(log, offset, HISTORY_MARK, sup.tick)
            took = time.monotonic() - began
            replayed = line.removeprefix(HISTORY_MARK).split("; live")[0].strip()
            simulated.insert(0, f"history         {replayed} (replayed through ingest)")
            print(f"  history replayed {took:.0f} s after the start", flush=True)
        print_banner(
            home / "logs", simulated, keys,
            ingest=specs["ingest"].port, api=specs["api"].port if "api" in specs else None,
        )  # fmt: skip
        deadline = time.monotonic() + seconds if seconds > 0 else None
        saved = time.monotonic()
        while deadline is None or time.monotonic() < deadline:
            sup.tick()
            if time.monotonic() - saved > 30:  # when it last ran decides whether it may resume
                save(home, replace(plan.state, last_seen=datetime.now(UTC)))
                saved = time.monotonic()
            time.sleep(1)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        save(home, replace(plan.state, last_seen=datetime.now(UTC)))
        sup.stop_all()


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
        "A crashed service is restarted (after 1 s, 2 s, 4 s … 30 s); the others go on.\n"
        "Ctrl-C stops the services; `churnwatch infra down` stops Kafka and PostgreSQL;\n"
        "`churnwatch demo` again resumes this simulated history, `--fresh` starts a new one.\n",
        flush=True,
    )
