"""The demo: what it suggests to try over port 43, and WHOIS running beside RDAP."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from rdap import demo
from rdap.db import Database
from rdap.escrow.commands import load_demo
from rdap.runtime import Runtime
from rdap.settings import Settings
from tests.live_whois import query


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_whois_runs_beside_rdap_and_stops_with_it(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    load_demo(db, size=40, seed=1)
    runtime = Runtime.build(settings)
    port = _free_port()
    try:
        commands = demo.whois_examples(runtime, f"127.0.0.1:{port}")
    finally:
        runtime.db.dispose()
    assert len(commands) == 4
    assert all(c.startswith(f"whois -h 127.0.0.1 -p {port} '") for c in commands)
    for name, value in {
        "RDAP_DATABASE_URL": settings.database_url,
        "RDAP_INSTANCE_PATH": str(tmp_path / "instance"),
        "RDAP_SECRET_KEY": settings.secret_key,
        "RDAP_RATELIMIT_ENABLED": "false",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RDAP_BASE_URL", raising=False)
    with demo.whois_beside(f"127.0.0.1:{port}", "http://127.0.0.1:8080", "memory://") as child:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = query(port, commands[0].rsplit(" ", 1)[1].strip("'"))
                break
            except OSError:
                assert child.poll() is None
                assert time.monotonic() < deadline, "WHOIS did not start"
                time.sleep(0.3)
    assert answer.startswith("Domain Name: ")
    assert "Email: http://127.0.0.1:8080/contact?domain=" in answer
    assert child.wait(timeout=1) == 0  # stopped by SIGTERM, gracefully
