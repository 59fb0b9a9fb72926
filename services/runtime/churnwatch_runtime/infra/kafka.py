"""A single-node Apache Kafka 4.x broker (KRaft) run from the jars in ``deploy/kafka/libs``.

Why our own launcher: these machines have Java and Maven but no Docker engine, and the tests must
run against a real broker. The launcher formats storage once (keeping the cluster id, so data
survives restarts), starts the JVM detached, waits until the broker answers a metadata request,
and stops it with SIGTERM (the JVM's shutdown hook exits 143, which is clean).
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from churnwatch_runtime.infra._proc import port_open, read_pid, terminate
from churnwatch_runtime.paths import PROJECT_ROOT

KAFKA_DEPLOY = PROJECT_ROOT / "deploy" / "kafka"


class KafkaStartError(RuntimeError):
    """The broker did not come up; the message carries the tail of its log."""


@dataclass
class KafkaBroker:
    """One broker+controller process with its data, config and logs under ``home``."""

    home: Path
    port: int = 9092
    controller_port: int = 9093
    host: str = "127.0.0.1"
    heap: str = "512m"
    libs: Path = field(default=KAFKA_DEPLOY / "libs")

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def ensure_jars(self) -> None:
        """Fetch the jars with Maven if they are missing (deploy/kafka/fetch.sh is idempotent)."""
        subprocess.run(["bash", str(KAFKA_DEPLOY / "fetch.sh")], check=True)

    def _write_config(self) -> Path:
        template = Template((KAFKA_DEPLOY / "server.properties").read_text())
        text = template.substitute(
            host=self.host,
            port=self.port,
            controller_port=self.controller_port,
            log_dir=str(self.data_dir),
        )
        path = self.home / "server.properties"
        path.write_text(text)
        return path

    def _java(self, *args: str, heap: str) -> list[str]:
        return [
            "java",
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.log_dir}",
            f"-Dlog4j2.configurationFile={KAFKA_DEPLOY / 'log4j2.properties'}",
            "-cp",
            f"{self.libs}/*",
            *args,
        ]

    def format(self, config: Path) -> None:
        """Format storage once; an existing ``meta.properties`` keeps its cluster id and data."""
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        cmd = self._java(
            "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config), heap="256m"
        )
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self, *, timeout: float = 90.0) -> int:
        """Start the broker (or find it running) and wait until it serves metadata."""
        running = self.pid()
        if running is not None:
            self.wait_ready(timeout=timeout)
            return running
        if not (self.libs / "kafka-clients-4.1.1.jar").exists():
            self.ensure_jars()
        for d in (self.home, self.log_dir, self.data_dir):
            d.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        self.format(config)
        console = (self.log_dir / "console.log").open("ab")
        proc = subprocess.Popen(
            self._java("kafka.Kafka", str(config), heap=self.heap),
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=self.home,
        )
        console.close()
        self.pid_file.write_text(str(proc.pid))
        try:
            self.wait_ready(timeout=timeout)
        except KafkaStartError:
            self.stop()
            raise
        return proc.pid

    def wait_ready(self, *, timeout: float = 90.0) -> None:
        """Block until the port accepts connections and a client gets cluster metadata."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() is None:
                raise KafkaStartError(f"broker exited during start-up\n{self.log_tail()}")
            if port_open(self.host, self.port) and asyncio.run(_metadata_ok(self.bootstrap)):
                return
            time.sleep(0.5)
        raise KafkaStartError(f"broker not ready after {timeout:.0f}s\n{self.log_tail()}")

    def stop(self, *, grace: float = 30.0) -> bool:
        """Graceful stop (SIGTERM, SIGKILL after ``grace``). True if it was running."""
        pid = self.pid()
        if pid is None:
            return False
        terminate(pid, grace=grace)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL, as a crash would: the next start runs log recovery and keeps the data."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            terminate(pid, grace=5.0)
            self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 40) -> str:
        out: list[str] = []
        for name in ("console.log", "server.log"):
            path = self.log_dir / name
            if path.exists():
                out += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(out)


async def _metadata_ok(bootstrap: str) -> bool:
    """One metadata round trip with aiokafka, the same client the services use."""
    from aiokafka import AIOKafkaClient

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await client.bootstrap()
        return True
    except Exception:
        return False
    finally:
        await client.close()
