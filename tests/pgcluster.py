"""Throwaway PostgreSQL clusters on 127.0.0.1 for fault tests: a primary, a streaming replica
(pg_basebackup -R), and freezing a whole cluster with SIGSTOP as a hung server would be."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest


def pg_bin() -> Path:
    """The server binaries: TEST_PG_BIN (scripts/test sets it), else the newest Debian ones."""
    configured = os.environ.get("TEST_PG_BIN")
    if configured:
        return Path(configured)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not candidates:
        pytest.fail("PostgreSQL server binaries not found (apt-get install postgresql)")
    return candidates[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_db_user(command: list[str]) -> list[str]:
    if os.getuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


class Cluster:
    """One PostgreSQL server in `directory`, listening on 127.0.0.1:`port`, user rdapd."""

    def __init__(self, directory: Path | None = None) -> None:
        # Not under pytest's tmp_path: its parents are private to the test user, and the server
        # runs as `postgres` when the tests run as root.
        self.directory = directory or Path(tempfile.mkdtemp(prefix="rdapd-pg-"))
        self.directory.chmod(0o755)
        self.data = self.directory / "data"
        self.port = _free_port()
        self.bin = pg_bin()

    @property
    def dsn(self) -> str:
        """The libpq connection URI (psycopg)."""
        return f"postgresql://rdapd@127.0.0.1:{self.port}/postgres"

    @property
    def url(self) -> str:
        """The same, as a SQLAlchemy URL."""
        return self.dsn.replace("postgresql://", "postgresql+psycopg://", 1)

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            _as_db_user([str(self.bin / args[0]), *args[1:]]),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr or result.stdout}")

    def _own(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            shutil.chown(self.directory, "postgres")

    def init(self) -> Cluster:
        self._own()
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "rdapd",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        return self

    def start(self) -> Cluster:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off "
            "-c wal_level=replica -c max_wal_senders=4 -c hot_standby=on "
            "-c wal_receiver_status_interval=1"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "log"),
            "-w",
            "-o",
            options,
            "start",
        )
        return self

    def stop(self) -> None:
        self.thaw()
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def replica(self) -> Cluster:
        """A streaming replica of this (running) cluster, started."""
        standby = Cluster()
        standby._own()
        standby._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "rdapd",
            "-D",
            str(standby.data),
            "-R",
            "-X",
            "stream",
        )
        standby.start()
        standby.wait_until_streaming()
        return standby

    def wait_until_streaming(self, timeout: float = 30.0) -> None:
        """Wait until this replica's WAL receiver is connected to its primary (`pg_ctl -w`
        returns once the server accepts connections, which can be before that)."""
        query = "SELECT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')"
        deadline = time.monotonic() + timeout
        while True:
            with psycopg.connect(self.dsn, autocommit=True) as connection:
                row = connection.execute(query).fetchone()
            if row and row[0]:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"replica on port {self.port} is not streaming")
            time.sleep(0.1)

    def _postmaster(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def _processes(self) -> list[int]:
        """The postmaster and its children (each child is its own session, so no killpg)."""
        postmaster = self._postmaster()
        found = [postmaster]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    found.append(int(stat.parent.name))
        return found

    def freeze(self) -> None:
        """SIGSTOP every process of the server: it accepts connections (the kernel does) and
        answers nothing, as a hung server does."""
        for pid in self._processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            for pid in self._processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        self.freeze()
        try:
            yield
        finally:
            self.thaw()


def wait_for(condition: object, timeout: float = 20.0) -> None:
    """Poll `condition()` until true or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.1)
