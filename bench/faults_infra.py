"""The moving parts of the fault-injection run (`bench.faults`): a broker and a PostgreSQL this
process can restart, the services as supervised subprocesses it can SIGKILL, and a webhook
receiver that can be told to time out or fail.

Why a supervisor here: in production something (systemd, Kubernetes, ``churnwatch demo``)
restarts a crashed service; the suite plays that part, restarts every process it kills and also
any that exits on its own (counted as an unplanned exit in the report, never hidden).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from churnwatch_runtime.infra import KafkaBroker, LocalPostgres
from churnwatch_runtime.infra._proc import free_port

ROOT = Path(__file__).resolve().parents[1]

# service name → python -m arguments
COMMANDS: dict[str, list[str]] = {
    "ingest": ["churnwatch_ingest", "http"],
    "ingest-raw": ["churnwatch_ingest", "raw"],
    "scoring": ["churnwatch_scoring"],
    "scoring-b": ["churnwatch_scoring"],
    "learner": ["churnwatch_scoring.learner"],
    "alerts": ["churnwatch_alerts"],
}


@dataclass
class Cluster:
    """One broker and one PostgreSQL under ``home`` on fixed free ports (a restart keeps them)."""

    home: Path
    broker: KafkaBroker = field(init=False)
    pg: LocalPostgres = field(init=False)

    def __post_init__(self) -> None:
        self.broker = KafkaBroker(
            home=self.home / "kafka", port=free_port(), controller_port=free_port(), heap="512m"
        )
        self.pg = LocalPostgres(home=self.home / "pg", port=free_port())

    def start(self) -> None:
        self.broker.start(timeout=120)
        self.pg.start()

    def stop(self) -> None:
        try:
            self.pg.stop()
        finally:
            self.broker.stop()

    def restart_broker(self, down_s: float) -> None:
        self.broker.stop()
        time.sleep(down_s)
        self.broker.start(timeout=120)

    def restart_postgres(self, down_s: float) -> None:
        self.pg.stop()
        time.sleep(down_s)
        self.pg.start()

    def database(self, name: str) -> str:
        """A new migrated database on the cluster; its URL (with the SCRAM password)."""
        from churnwatch_runtime.db import upgrade

        self.pg.create_database(name)
        url = self.pg.url(name)
        upgrade(url)
        return url


@dataclass
class Supervisor:
    """The services as subprocesses logging to ``logs/<name>.log``; restarts what exits."""

    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    unplanned: Counter[str] = field(default_factory=Counter)  # exits nobody asked for
    kills: Counter[str] = field(default_factory=Counter)
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)  # fault vs. restart loop

    def start(self, name: str) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        env = {**self.env, **self.extra_env.get(name, {})}
        with (self.logs / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", *COMMANDS[name]], env=env, stdout=log, stderr=log, cwd=ROOT
            )
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        """SIGKILL (no cleanup: open transactions, unacked sends and sessions die with it)."""
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        self.kills[name] += 1

    def stop(self, name: str) -> None:
        """SIGTERM and wait (a worker leaving its group cleanly)."""
        proc = self.procs.pop(name)
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def check(self) -> None:
        """Restart every service that exited without being asked to (a real supervisor's job)."""
        with self.lock:
            for name, proc in list(self.procs.items()):
                if proc.poll() is not None:
                    self.unplanned[name] += 1
                    self.start(name)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def rss_kib(self) -> dict[str, int]:
        """Resident memory of each running service (``/proc/<pid>/status`` VmRSS)."""
        out: dict[str, int] = {}
        for name, proc in self.procs.items():
            try:
                text = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    out[name] = int(line.split()[1])
        return out


@dataclass
class Receiver:
    """A webhook endpoint: ``mode`` "ok" answers 200; "timeout" holds the request past the
    sender's timeout (then 200, which nobody reads); "fail" answers 500. Records every request
    and the action ids it answered 2xx to a sender that was still waiting."""

    hold_s: float = 2.0
    mode: str = "ok"
    requests: Counter[str] = field(default_factory=Counter)
    answered_ok: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    timed_out: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, action: str) -> tuple[int, float]:
        with self._lock:
            self.requests[action] += 1
            mode = self.mode
            if mode == "fail":
                self.failed += 1
                return 500, 0.0
            if mode == "timeout":
                self.timed_out += 1
                return 200, self.hold_s
            self.answered_ok[action] += 1
            return 200, 0.0


@contextmanager
def serve(receiver: Receiver) -> Iterator[str]:
    """Run ``receiver`` on a free local port; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            self.rfile.read(length)
            status, hold = receiver.handle(self.headers.get("X-Churnwatch-Action-Id", "?"))
            if hold:
                time.sleep(hold)
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up (timeout): nothing to answer

        def log_message(self, format: str, *args: object) -> None:
            return

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.shutdown()
        server.server_close()


def service_env(
    bootstrap: str, db_url: str, tag: str, ports: dict[str, int], partitions: int
) -> dict[str, str]:
    """Every service's settings for one run: its own topics and groups (``tag``); the model
    pinned to the prior (the learner learns and checkpoints, but never activates a model or
    fits CLV, so scores cannot depend on when a restarted worker loads a checkpoint)."""
    env = dict(os.environ)
    t = {k: f"faults.{tag}.{k}" for k in ("events", "raw", "dlq", "scores", "actions")}
    env.update(
        CW_KAFKA_BOOTSTRAP=bootstrap, DATABASE_URL=db_url, CW_LOG_LEVEL="WARNING",
        CW_TOPIC_PARTITIONS=str(partitions), CW_TOPIC_EVENTS=t["events"],
        CW_TOPIC_EVENTS_RAW=t["raw"], CW_TOPIC_EVENTS_DLQ=t["dlq"], CW_TOPIC_SCORES=t["scores"],
        CW_TOPIC_ACTIONS=t["actions"],
        CW_INGEST_PORT=str(ports["ingest"]), CW_INGEST_RAW_GROUP_ID=f"faults-raw-{tag}",
        CW_INGEST_RAW_METRICS_PORT=str(ports["ingest-raw"]),
        CW_SCORING_GROUP_ID=f"faults-scoring-{tag}", CW_SCORING_PORT=str(ports["scoring"]),
        CW_LEARNER_GROUP_ID=f"faults-scoring-{tag}", CW_LEARNER_CHECKPOINT_EVERY_S="1",
        CW_LEARNER_POLL_S="0.5", CW_LEARNER_STANDBY_POLL_S="0.5",
        CW_LEARNER_COLD_START_MIN_LABELS=str(10**9), CW_LEARNER_CLV_MIN_CUSTOMERS=str(10**9),
        CW_ALERTS_GROUP_ID=f"faults-alerts-{tag}", CW_ALERTS_PORT=str(ports["alerts"]),
        CW_ALERTS_UPLIFT="false", CW_ALERTS_UPLIFT_WATERMARK_GROUP=f"faults-scoring-{tag}",
        CW_ALERTS_WEBHOOK_TIMEOUT_S="1", CW_ALERTS_WEBHOOK_BACKOFF_BASE_S="0.2",
        CW_ALERTS_WEBHOOK_BACKOFF_CAP_S="2", CW_ALERTS_WEBHOOK_MAX_ATTEMPTS="100000",
    )  # fmt: skip
    return env


def topics_of(env: dict[str, str]) -> dict[str, str]:
    return {
        "events": env["CW_TOPIC_EVENTS"],
        "raw": env["CW_TOPIC_EVENTS_RAW"],
        "scores": env["CW_TOPIC_SCORES"],
        "actions": env["CW_TOPIC_ACTIONS"],
    }
