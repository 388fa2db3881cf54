"""Rate limits: keys per IP, IPv6 /64 and client; role tiers; search cost; RDAP 429s; storages.

The counting (rdap.ratelimit) is tested without Flask; the HTTP behaviour through the real RDAP
routes; the limit across worker processes through a real `rdapd serve` on 127.0.0.1.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from rdap import create_app
from rdap.counters import shared_counters, socket_path, split_limits
from rdap.db import Database
from rdap.principal import Principal
from rdap.ratelimit import (
    LimitError,
    RateLimits,
    auth_failure_keys,
    caller_key,
    ip_key,
)
from rdap.settings import Settings
from tests import factories
from tests.oauth_fixtures import basic

REDIS_URL = os.environ.get("TEST_REDIS_URL")
REDIS_SERVER = os.environ.get("TEST_REDIS_SERVER")
REDIS_NO_DISK = ("--save", "", "--appendonly", "no")
PROFILE_CONFORMANCE = [
    "rdap_level_0",
    "icann_rdap_response_profile_1",
    "icann_rdap_technical_implementation_guide_1",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def rl_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, ratelimit_enabled=True, ratelimit_public="3/minute")


@pytest.fixture
def domain(db: Database) -> str:
    with db.session_scope() as session:
        return factories.full_domain(session, name="limited.post").ldh_name


def limited_app(settings: Settings, **changes: object) -> Flask:
    app = create_app(dataclasses.replace(settings, **changes))  # type: ignore[arg-type]
    app.config["TESTING"] = True
    return app


# --- the counting, without Flask ------------------------------------------------------------


def test_ip_keys_group_ipv6_by_64():
    assert ip_key("192.0.2.7") == "ip:192.0.2.7"
    assert ip_key("2001:db8:1:2:aaaa::1") == ip_key("2001:db8:1:2:ffff::9")
    assert ip_key("2001:db8:1:2::1") == "ip6:2001:db8:1:2::/64"
    assert ip_key("2001:db8:1:3::1") != ip_key("2001:db8:1:2::1")
    assert ip_key("::ffff:192.0.2.7") == "ip:192.0.2.7"
    assert ip_key(None) == "ip:unknown"
    assert ip_key("not-an-ip") == "ip:not-an-ip"


def test_callers_are_keyed_by_client_subject_or_address():
    registrar = Principal(role="registrar", registrar_id=1, client_id="c-1", subject="c-1")
    federated = Principal(role="requester", subject="user@idp")
    assert caller_key(registrar, "192.0.2.1") == "client:c-1"
    assert caller_key(federated, "192.0.2.1") == "sub:user@idp"
    assert caller_key(Principal(), "2001:db8::1") == "ip6:2001:db8::/64"
    assert caller_key(None, "192.0.2.1") == "ip:192.0.2.1"
    by_address, by_id = auth_failure_keys("rdapd-abc", "192.0.2.1")
    assert by_address == "ip:192.0.2.1"
    assert by_id.startswith("client:")
    assert "rdapd-abc" not in by_id  # the caller's text is hashed, whatever its length
    assert auth_failure_keys(None, "192.0.2.1") == ("ip:192.0.2.1",)


def test_budgets_without_flask():
    limits = RateLimits.from_settings(
        Settings(ratelimit_public="3/minute", ratelimit_registrar="5/minute")
    )
    assert [limits.hit("ip:a").allowed for _ in range(4)] == [True, True, True, False]
    refused = limits.hit("ip:a")
    assert not refused.allowed
    assert 1 <= refused.retry_after <= 60
    assert refused.limit == "3 per 1 minute"
    assert limits.hit("ip:b").allowed  # another caller
    assert sum(limits.hit("client:x", role="registrar").allowed for _ in range(7)) == 5
    assert limits.cost("lookup") == 1
    assert limits.cost("search") == 5
    with pytest.raises(ValueError, match="kind"):
        limits.cost("bulk")


def test_failure_budgets_count_failures_only():
    limits = RateLimits.from_settings(Settings(ratelimit_auth_failures="2/minute"))
    keys = auth_failure_keys("rdapd-x", "192.0.2.9")
    for _ in range(2):
        assert limits.check_failures(keys).allowed  # checking takes nothing
        limits.record_failure(keys)
    verdict = limits.check_failures(keys)
    assert not verdict.allowed
    assert 1 <= verdict.retry_after <= 60
    # The same id from elsewhere, and elsewhere with another id, are refused too: each key
    # has its own budget.
    assert not limits.check_failures(auth_failure_keys("rdapd-x", "192.0.2.10")).allowed
    assert not limits.check_failures(auth_failure_keys("rdapd-y", "192.0.2.9")).allowed
    assert limits.check_failures(auth_failure_keys("rdapd-y", "192.0.2.10")).allowed


def test_bad_limit_settings_are_configuration_errors():
    with pytest.raises(LimitError, match="RDAP_RATELIMIT_PUBLIC"):
        RateLimits.from_settings(Settings(ratelimit_public="sixty a minute"))
    with pytest.raises(LimitError, match="RDAP_RATELIMIT_STORAGE_URI"):
        RateLimits.from_settings(Settings(ratelimit_storage_uri="bogus://somewhere"))


def test_split_limits_never_add_up_to_more_than_the_limit():
    shares = split_limits(
        Settings(ratelimit_public="60/minute", ratelimit_staff="7/second;1000/hour"), 3
    )
    assert shares.ratelimit_public == "20 per 1 minute"
    assert shares.ratelimit_staff == "2 per 1 second;333 per 1 hour"
    assert shares.ratelimit_auth_failures == "3 per 1 minute"


def test_disabled_limits_never_refuse():
    limits = RateLimits.from_settings(
        Settings(ratelimit_enabled=False, ratelimit_public="1/minute")
    )
    assert all(limits.hit("ip:a").allowed for _ in range(5))


# --- over HTTP ------------------------------------------------------------------------------


def test_429_is_the_rdap_error_body_every_error_has(rl_settings, domain):
    http = limited_app(rl_settings).test_client()
    for _ in range(3):
        assert http.get(f"/domain/{domain}").status_code == 200
    response = http.get(f"/domain/{domain}")
    assert response.status_code == 429
    assert response.content_type == "application/rdap+json"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    body = response.get_json()
    assert body["errorCode"] == 429
    assert body["title"] == "Too Many Requests"
    # The body names the wait the header gives, not the window's length.
    assert body["description"] == [
        f"Rate limit exceeded (3 per 1 minute); retry after {retry_after} seconds."
    ]
    # The same conformance as every other answer: the ICANN profile values included.
    not_found = http.application.test_client().get("/domain/nothing.post")
    assert body["rdapConformance"] == not_found.get_json()["rdapConformance"]
    assert body["rdapConformance"][:3] == PROFILE_CONFORMANCE


def test_answers_that_pass_carry_no_retry_after(rl_settings, domain):
    http = limited_app(rl_settings).test_client()
    for path in (f"/domain/{domain}", "/help", "/domain/nothing.post"):
        response = http.get(path)
        assert response.status_code in (200, 404)
        assert "Retry-After" not in response.headers
        assert not [h for h, _ in response.headers if h.lower().startswith("x-ratelimit")]


def test_searches_cost_more_from_the_same_budget(rl_settings, domain):
    app = limited_app(rl_settings, ratelimit_public="6/minute", ratelimit_search_cost=5)
    http = app.test_client()
    assert http.get("/domains?name=limited*").status_code == 200
    assert http.get(f"/domain/{domain}").status_code == 200
    assert http.get(f"/domain/{domain}").status_code == 429


def test_ipv6_neighbours_share_a_budget(rl_settings, domain):
    http = limited_app(rl_settings).test_client()
    for suffix in ("1", "2", "3"):
        env = {"REMOTE_ADDR": f"2001:db8:0:1::{suffix}"}
        assert http.get("/help", environ_base=env).status_code == 200
    neighbour = {"REMOTE_ADDR": "2001:db8:0:1::9"}
    other_network = {"REMOTE_ADDR": "2001:db8:0:2::1"}
    assert http.get("/help", environ_base=neighbour).status_code == 429
    assert http.get("/help", environ_base=other_network).status_code == 200


def test_authenticated_callers_count_per_client_at_their_tier(rl_settings, domain, make_client):
    app = limited_app(rl_settings, ratelimit_registrar="5/minute")
    http = app.test_client()
    for _ in range(3):
        assert http.get("/help").status_code == 200
    assert http.get("/help").status_code == 429  # the address is spent ...

    def bearer(client_id: str, secret: str) -> dict[str, str]:
        response = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(client_id, secret),
        )
        return {"Authorization": "Bearer " + response.get_json()["access_token"]}

    first, second = make_client("registrar"), make_client("registrar")
    token = bearer(*first)
    for _ in range(5):  # ... the client has its own, larger budget
        assert http.get("/help", headers=token).status_code == 200
    assert http.get("/help", headers=token).status_code == 429
    assert http.get("/help", headers=bearer(*first)).status_code == 429  # a new token: same count
    assert http.get("/help", headers=bearer(*second)).status_code == 200


def test_unreachable_redis_falls_back_to_memory_with_one_warning(rl_settings, domain, caplog):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    http = limited_app(rl_settings, ratelimit_storage_uri=dead).test_client()
    caplog.set_level(logging.WARNING, logger="rdap.ratelimit")
    started = time.monotonic()
    statuses = [http.get("/help").status_code for _ in range(4)]
    assert time.monotonic() - started < 10
    assert statuses == [200, 200, 200, 429]  # in-process limits still hold
    warnings = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(warnings) == 1


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    if not REDIS_SERVER or not shutil.which(REDIS_SERVER):
        pytest.fail("TEST_REDIS_SERVER not set (scripts/test sets it)")
    port = free_port()
    proc = subprocess.Popen(
        [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), *REDIS_NO_DISK],
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


def test_redis_going_away_keeps_answering(rl_settings, domain, caplog, own_redis):
    url, proc = own_redis
    http = limited_app(
        rl_settings, ratelimit_public="10/minute", ratelimit_storage_uri=url
    ).test_client()
    assert http.get("/help").status_code == 200
    proc.kill()
    proc.wait(timeout=10)
    caplog.set_level(logging.WARNING, logger="rdap.ratelimit")
    assert [http.get("/help").status_code for _ in range(3)] == [200, 200, 200]
    assert any("falling back to in-memory" in r.getMessage() for r in caplog.records)


SERVER = textwrap.dedent(
    """
    import sys
    from werkzeug.serving import make_server
    from rdap import create_app
    from rdap.settings import Settings

    app = create_app(Settings.from_env())
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()
    """
)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _env(settings: Settings, instance: Path, **rdap: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RDAP_")}
    env.update(
        RDAP_DATABASE_URL=settings.database_url,
        RDAP_INSTANCE_PATH=str(instance),
        RDAP_SECRET_KEY=settings.secret_key,
        RDAP_REQUIRE_TLS="false",
    )
    env.update({f"RDAP_{name.upper()}": value for name, value in rdap.items()})
    return env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set (scripts/test sets it)")
def test_two_server_processes_share_one_limit_in_redis(settings, domain, tmp_path):
    assert REDIS_URL is not None
    redis.Redis.from_url(REDIS_URL).flushdb()
    script = tmp_path / "serve_app.py"
    script.write_text(SERVER)
    env = _env(
        settings,
        tmp_path / "instance",
        ratelimit_storage_uri=REDIS_URL,
        ratelimit_public="5/minute",
    )
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
        a, b = (f"http://127.0.0.1:{port}/help" for port in ports)
        assert [_status(url) for url in (a, b, a, b, a)] == [200] * 5
        assert _status(b) == 429  # B saw only two requests, but the budget is shared
        assert _status(a) == 429
    finally:
        for proc in procs:
            _stop(proc)
        redis.Redis.from_url(REDIS_URL).flushdb()


# --- one limit for the whole server: real `rdapd serve` with several workers -------------------

LIMIT = 20
BURST = 50


def _serve_burst(
    settings: Settings, instance: Path, *, path_env: str | None
) -> collections.Counter[int]:
    """Start `rdapd serve --workers 2` on 127.0.0.1, fire BURST anonymous lookups at once, stop
    it; the statuses seen."""
    env = _env(settings, instance, ratelimit_public=f"{LIMIT}/minute", log_level="WARNING")
    if path_env is not None:
        env["PATH"] = path_env
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rdap", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, timeout=60)
        time.sleep(1.5)  # both workers booted, so both take requests
        url = f"http://127.0.0.1:{port}/domain/limited.post"
        with concurrent.futures.ThreadPoolExecutor(max_workers=BURST) as pool:
            return collections.Counter(pool.map(_status, [url] * BURST))
    finally:
        _stop(proc)


@pytest.fixture
def short_instance() -> Iterator[Path]:
    """An instance folder with a short path: a unix socket's path has at most 107 bytes."""
    with tempfile.TemporaryDirectory(prefix="rdapd-", dir="/tmp") as tmp:
        yield Path(tmp) / "instance"


def test_rdapd_serve_holds_the_limit_across_workers(settings, domain, short_instance):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server not installed (scripts/test requires it)")
    statuses = _serve_burst(settings, short_instance, path_env=None)
    assert statuses[200] == LIMIT
    assert statuses[429] == BURST - LIMIT
    # The private Redis went with the server.
    assert not socket_path(Settings(instance_path=short_instance)).exists()


def test_without_redis_server_the_workers_share_the_limit(settings, domain, short_instance):
    bin_dir = short_instance.parent / "bin"  # a PATH without redis-server
    bin_dir.mkdir()
    statuses = _serve_burst(settings, short_instance, path_env=str(bin_dir))
    assert statuses[200] + statuses[429] == BURST
    # Never more than the limit; at least one worker's share.
    assert LIMIT // 2 <= statuses[200] <= LIMIT


def test_a_running_private_redis_is_shared_and_a_stale_socket_replaced(short_instance):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server not installed (scripts/test requires it)")
    settings = Settings(instance_path=short_instance, ratelimit_public="2/minute")
    path = socket_path(settings)
    path.parent.mkdir(parents=True)
    path.write_text("")  # a stale socket file left by a killed server
    with shared_counters(settings, processes=2) as first:
        assert first.ratelimit_storage_uri == f"redis+unix://{path}"
        with shared_counters(settings, processes=1) as second:  # e.g. `rdapd whois` beside it
            assert second.ratelimit_storage_uri == first.ratelimit_storage_uri
            a, b = RateLimits.from_settings(first), RateLimits.from_settings(second)
            assert [a.hit("ip:x").allowed, b.hit("ip:x").allowed] == [True, True]
            assert not a.hit("ip:x").allowed
        assert redis.Redis(unix_socket_path=str(path)).ping()  # the owner's Redis still runs
    assert not path.exists()


def test_shared_storages_and_disabled_limits_are_left_alone(tmp_path):
    configured = Settings(instance_path=tmp_path, ratelimit_storage_uri="redis://db:6379/0")
    with shared_counters(configured, processes=4) as served:
        assert served == configured
    disabled = Settings(instance_path=tmp_path, ratelimit_enabled=False)
    with shared_counters(disabled, processes=4) as served:
        assert served == disabled
    assert not (tmp_path / "ratelimit").exists()
