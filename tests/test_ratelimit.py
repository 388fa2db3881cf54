"""Rate limits: keys per IP, IPv6 /64 and client; role tiers; search cost; RDAP 429s; Redis."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask, g

from rdap import create_app
from rdap.principal import ANONYMOUS, Principal
from rdap.ratelimit import PRINCIPAL_ATTR, ip_key, limit_rdap, request_cost
from rdap.settings import Settings

REDIS_URL = os.environ.get("TEST_REDIS_URL")
REDIS_SERVER = os.environ.get("TEST_REDIS_SERVER")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Decorated once: the limiter is process-wide, and each decoration adds a limit to it.
@limit_rdap("lookup")
def probe_lookup() -> dict[str, bool]:
    return {"ok": True}


@limit_rdap("search")
def probe_search() -> dict[str, bool]:
    return {"ok": True}


def limited_app(settings: Settings, **changes: object) -> Flask:
    """The real app plus test-only routes limited as RDAP lookups and searches will be."""
    app = create_app(dataclasses.replace(settings, **changes))  # type: ignore[arg-type]

    @app.before_request
    def _principal() -> None:  # stands in for the RDAP views' auth hook
        setattr(g, PRINCIPAL_ATTR, app.config.get("TEST_PRINCIPAL", ANONYMOUS))

    app.add_url_rule("/probe/lookup", view_func=probe_lookup)
    app.add_url_rule("/probe/search", view_func=probe_search)
    return app


@pytest.fixture
def rl_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, ratelimit_enabled=True, ratelimit_public="3/minute")


def test_ip_keys_group_ipv6_by_64():
    assert ip_key("192.0.2.7") == "ip:192.0.2.7"
    assert ip_key("2001:db8:1:2:aaaa::1") == ip_key("2001:db8:1:2:ffff::9")
    assert ip_key("2001:db8:1:2::1") == "ip6:2001:db8:1:2::/64"
    assert ip_key("2001:db8:1:3::1") != ip_key("2001:db8:1:2::1")
    assert ip_key("::ffff:192.0.2.7") == "ip:192.0.2.7"
    assert ip_key(None) == "ip:unknown"
    assert ip_key("not-an-ip") == "ip:not-an-ip"


def test_429_is_an_rdap_error_with_retry_after(rl_settings, db):
    http = limited_app(rl_settings).test_client()
    for _ in range(3):
        assert http.get("/probe/lookup").status_code == 200
    response = http.get("/probe/lookup")
    assert response.status_code == 429
    assert response.content_type == "application/rdap+json"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    body = response.get_json(force=True)
    assert body["errorCode"] == 429
    assert body["title"] == "Too Many Requests"
    assert body["description"]
    assert body["rdapConformance"] == ["rdap_level_0"]


def test_searches_cost_more_from_the_same_budget(rl_settings, db):
    app = limited_app(rl_settings, ratelimit_public="6/minute", ratelimit_search_cost=5)
    http = app.test_client()
    with app.app_context():
        assert request_cost("lookup") == 1
        assert request_cost("search") == 5
        with pytest.raises(ValueError, match="kind"):
            request_cost("bulk")
    assert http.get("/probe/search").status_code == 200
    assert http.get("/probe/lookup").status_code == 200
    assert http.get("/probe/lookup").status_code == 429


def test_ipv6_neighbours_share_a_budget(rl_settings, db):
    http = limited_app(rl_settings).test_client()
    for suffix in ("1", "2", "3"):
        env = {"REMOTE_ADDR": f"2001:db8:0:1::{suffix}"}
        assert http.get("/probe/lookup", environ_base=env).status_code == 200
    assert (
        http.get("/probe/lookup", environ_base={"REMOTE_ADDR": "2001:db8:0:1::9"}).status_code
        == 429
    )
    assert (
        http.get("/probe/lookup", environ_base={"REMOTE_ADDR": "2001:db8:0:2::1"}).status_code
        == 200
    )


def test_authenticated_callers_count_per_client_at_their_tier(rl_settings, db):
    app = limited_app(rl_settings, ratelimit_registrar="5/minute")
    http = app.test_client()
    for _ in range(3):
        assert http.get("/probe/lookup").status_code == 200
    assert http.get("/probe/lookup").status_code == 429  # the IP is spent ...
    app.config["TEST_PRINCIPAL"] = Principal(role="registrar", registrar_id=1, client_id="c-1")
    for _ in range(5):  # ... the client has its own, larger budget
        assert http.get("/probe/lookup").status_code == 200
    assert http.get("/probe/lookup").status_code == 429
    app.config["TEST_PRINCIPAL"] = Principal(role="registrar", registrar_id=1, client_id="c-2")
    assert http.get("/probe/lookup").status_code == 200


def test_disabled_limits_never_429(settings, db):
    http = limited_app(settings, ratelimit_enabled=False, ratelimit_public="1/minute").test_client()
    assert all(http.get("/probe/lookup").status_code == 200 for _ in range(5))


def test_unreachable_redis_falls_back_to_memory_with_one_warning(rl_settings, db, caplog):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    http = limited_app(rl_settings, ratelimit_storage_uri=dead).test_client()
    caplog.set_level(logging.WARNING, logger="flask-limiter")
    started = time.monotonic()
    statuses = [http.get("/probe/lookup").status_code for _ in range(4)]
    assert time.monotonic() - started < 10
    assert statuses == [200, 200, 200, 429]  # in-process limits still hold
    warnings = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(warnings) == 1


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    if not REDIS_SERVER or not shutil.which(REDIS_SERVER):
        pytest.skip("TEST_REDIS_SERVER not set (scripts/test sets it)")
    port = free_port()
    proc = subprocess.Popen(
        [
            REDIS_SERVER,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        _wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")


def test_redis_going_away_keeps_answering(rl_settings, db, caplog, own_redis):
    url, proc = own_redis
    http = limited_app(
        rl_settings, ratelimit_public="10/minute", ratelimit_storage_uri=url
    ).test_client()
    assert http.get("/probe/lookup").status_code == 200
    proc.kill()
    proc.wait(timeout=10)
    caplog.set_level(logging.WARNING, logger="flask-limiter")
    assert [http.get("/probe/lookup").status_code for _ in range(3)] == [200, 200, 200]
    assert any("falling back to in-memory" in r.getMessage() for r in caplog.records)


SERVER = textwrap.dedent(
    """
    import sys
    from flask import g
    from werkzeug.serving import make_server
    from rdap import create_app
    from rdap.principal import ANONYMOUS
    from rdap.ratelimit import limit_rdap
    from rdap.settings import Settings

    app = create_app(Settings.from_env())

    @app.before_request
    def anonymous():
        g.principal = ANONYMOUS

    @app.get("/probe")
    @limit_rdap("lookup")
    def probe():
        return {"ok": True}

    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()
    """
)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set (scripts/test sets it)")
def test_two_server_processes_share_one_limit_in_redis(settings, tmp_path):

    assert REDIS_URL is not None
    redis.Redis.from_url(REDIS_URL).flushdb()
    script = tmp_path / "serve_probe.py"
    script.write_text(SERVER)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RDAP_")},
        "RDAP_DATABASE_URL": settings.database_url,
        "RDAP_INSTANCE_PATH": str(tmp_path / "instance"),
        "RDAP_RATELIMIT_STORAGE_URI": REDIS_URL,
        "RDAP_RATELIMIT_PUBLIC": "5/minute",
    }
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            _wait_for_port(port, timeout=30)
        a, b = (f"http://127.0.0.1:{port}/probe" for port in ports)
        statuses = [_status(url) for url in (a, b, a, b, a)]
        assert statuses == [200] * 5
        assert _status(b) == 429  # B saw only two requests, but the budget is shared
        assert _status(a) == 429
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        redis.Redis.from_url(REDIS_URL).flushdb()
