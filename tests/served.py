"""A real rdapd server for HTTP-level tests: gunicorn on 127.0.0.1 and a free port, started by the
test, answering raw requests a client library would refuse to send, and always stopped."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# `rdapd serve` with another gunicorn worker type (the command itself always runs `sync`).
_WITH_WORKER = (
    "import sys\n"
    "from rdap.serve import WORKERS, serve\n"
    "from rdap.settings import Settings\n"
    "threads = 4 if sys.argv[1] == 'gthread' else 1\n"
    "serve(Settings.from_env(), sys.argv[2], worker_class=WORKERS[sys.argv[1]], threads=threads)\n"
)
START_TIMEOUT = 90.0  # seconds; several engineers' tests share two CPUs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str, instance: Path, **settings: str) -> dict[str, str]:
    """A served process's environment: this test's database, none of the caller's RDAP_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RDAP_")}
    env.update(
        RDAP_DATABASE_URL=database_url,
        RDAP_INSTANCE_PATH=str(instance),
        RDAP_SECRET_KEY="test-secret-key-0123456789abcdef",
        RDAP_RATELIMIT_ENABLED="false",
        RDAP_WORKERS="1",
    )
    env.update({f"RDAP_{name.upper()}": value for name, value in settings.items()})
    return env


@contextlib.contextmanager
def served(env: dict[str, str], log: Path, *, worker: str = "command") -> Iterator[int]:
    """Serve on a free port; yields the port. `worker="command"` runs `rdapd serve --bind`
    itself; "sync" or "gthread" runs rdap.serve.serve with that gunicorn worker type."""
    port = free_port()
    bind = f"127.0.0.1:{port}"
    if worker == "command":
        command = [sys.executable, "-m", "rdap", "serve", "--bind", bind]
    else:
        command = [sys.executable, "-c", _WITH_WORKER, worker, bind]
    with log.open("wb") as output:
        proc = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_answering(port, proc, log)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def _wait_until_answering(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError):
            status, _, _ = request(port, b"GET /help HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            if status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"no answer on 127.0.0.1:{port}: {log.read_text(errors='replace')[-2000:]}")


def request(port: int, raw: bytes, timeout: float = 20.0) -> tuple[int, dict[str, str], bytes]:
    """Send `raw` bytes as they are; (status, headers with lower-case names, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                headers = _headers(head)
                if len(body) >= int(headers.get("content-length", -1)) >= 0:
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    return int(status_line.split(" ")[1]), _headers(head), body


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET `path` on the server: (status, JSON body)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    status, _, body = request(port, ("\r\n".join(lines) + "\r\n\r\n").encode())
    return status, json.loads(body)
