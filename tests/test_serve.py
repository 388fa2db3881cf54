"""Serving: worker count follows where lookups read from, workers settle their heap, and a real
gunicorn answers every error as RDAP, names its own address, and reads bodies safely."""

from __future__ import annotations

import base64
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest

from rdap import serve
from rdap.settings import LOCAL_HOSTS, Settings
from tests.served import get, request, served, server_env


@pytest.fixture(autouse=True)
def three_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "available_cpus", lambda: 3)


def test_one_worker_per_cpu_on_sqlite() -> None:
    settings = Settings.from_env({"RDAP_DATABASE_URL": "sqlite:////tmp/x.sqlite3"})
    assert serve.gunicorn_options(settings, "127.0.0.1:1")["workers"] == 3


def test_more_workers_than_cpus_when_lookups_wait_on_a_network_database() -> None:
    networked = {"RDAP_DATABASE_URL": "postgresql+psycopg://rdapd@db/rdapd"}
    assert serve.gunicorn_options(Settings.from_env(networked), "x")["workers"] == 7
    # A PostgreSQL replica for reads counts, whatever the primary is.
    replica = {"RDAP_DATABASE_READ_URL": "postgresql+psycopg://rdapd@replica/rdapd"}
    assert serve.gunicorn_options(Settings.from_env(replica), "x")["workers"] == 7


def test_an_explicit_count_wins() -> None:
    settings = Settings.from_env({"RDAP_WORKERS": "4"})
    assert serve.gunicorn_options(settings, "x")["workers"] == 4


def test_settle_heap_freezes_the_app_and_collects_less_often() -> None:
    before = gc.get_threshold()
    try:
        serve.settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == serve.GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


# --- through a real gunicorn: `rdapd serve` (sync workers) and the gthread worker type -----------

RDAP = "application/rdap+json"
PROFILE = [
    "rdap_level_0",
    "icann_rdap_response_profile_1",
    "icann_rdap_technical_implementation_guide_1",
]
HOST = b"Host: 127.0.0.1\r\n"


@pytest.fixture(scope="module", params=["command", "gthread"])
def server(request, migrated_url, tmp_path_factory) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """`rdapd serve --bind 127.0.0.1:<free port>`, and rdap.serve.serve with gthread workers."""
    tmp = tmp_path_factory.mktemp(f"served-{request.param}")
    env = server_env(migrated_url, tmp / "instance")
    with served(env, tmp / "server.log", worker=request.param) as port:
        yield port


def _rdap_error(answer: tuple[int, dict[str, str], bytes], status: int) -> dict[str, Any]:
    code, headers, body = answer
    assert code == status, body
    assert headers["content-type"].startswith(RDAP)
    assert headers["access-control-allow-origin"] == "*"
    document: dict[str, Any] = json.loads(body)
    assert document["errorCode"] == status
    assert document["rdapConformance"][:3] == PROFILE
    assert document["title"]
    assert document["description"]
    return document


def _headers(count: int) -> bytes:
    return b"".join(b"X-Header-%d: v\r\n" % i for i in range(count))


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        # Over the app's limits (rdap.views.framing): refused by the app.
        (b"GET /domain/" + b"a" * 5000 + b".post HTTP/1.1\r\n" + HOST + b"\r\n", 414),
        (b"GET /help HTTP/1.1\r\n" + HOST + b"X-Big: " + b"x" * 9000 + b"\r\n\r\n", 431),
        (b"GET /help HTTP/1.1\r\n" + HOST + _headers(110) + b"\r\n", 431),
        # Over gunicorn's limits, or not HTTP at all: refused by the worker.
        (b"GET /domain/" + b"a" * 9000 + b".post HTTP/1.1\r\n" + HOST + b"\r\n", 414),
        (b"GET /help HTTP/1.1\r\n" + HOST + b"X-Big: " + b"x" * 20000 + b"\r\n\r\n", 431),
        (b"GET /help HTTP/1.1\r\n" + HOST + _headers(300) + b"\r\n", 431),
        (b"GET /help\x00 HTTP/1.1\r\n" + HOST + b"\r\n", 400),
        (b"GET /he\xfflp HTTP/1.1\r\n" + HOST + b"\r\n", 400),
        (b"GET /help HTTP/1.1\r\n" + HOST + b"Bad Header: x\r\n\r\n", 400),
    ],
    ids=[
        "uri-5000",
        "header-9k",
        "headers-110",
        "uri-9000",
        "header-20k",
        "headers-300",
        "nul-in-request-line",
        "ff-in-request-line",
        "malformed-header",
    ],
)
def test_errors_outside_the_app_are_rdap_bodies(server: int, raw: bytes, status: int) -> None:
    document = _rdap_error(request(server, raw), status)
    text = json.dumps(document)
    assert "aaaa" not in text
    assert "xxxx" not in text  # the request is never echoed


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/complaints", "application/json"), ("/oauth/token", "application/x-www-form-urlencoded")],
)
@pytest.mark.parametrize(
    "chunks", [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}}}}\r\n0\r\n\r\n"], ids=["bad-size", "bad-length"]
)
def test_malformed_chunked_body_is_a_400(
    server: int, path: str, content_type: str, chunks: bytes
) -> None:
    raw = (
        f"POST {path} HTTP/1.1\r\n".encode()
        + HOST
        + f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        + chunks
    )
    document = _rdap_error(request(server, raw), 400)
    assert document["description"] == ["the request body is malformed or incomplete"]


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
def test_undecodable_basic_credentials_are_invalid_client(server: int, path: str) -> None:
    form = b"grant_type=client_credentials" if path == "/oauth/token" else b"token=x"
    raw = (
        f"POST {path} HTTP/1.1\r\n".encode()
        + HOST
        + b"Authorization: Basic //46/w==\r\n"
        + b"Content-Type: application/x-www-form-urlencoded\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(form)
        + form
    )
    status, headers, body = request(server, raw)
    assert status == 401
    assert json.loads(body)["error"] == "invalid_client"
    assert headers["www-authenticate"].startswith("Basic ")


def test_cors_preflight_is_answered(server: int) -> None:
    raw = (
        b"OPTIONS /domain/example.post HTTP/1.1\r\n"
        + HOST
        + b"Origin: https://client.example\r\n"
        + b"Access-Control-Request-Method: GET\r\n"
        + b"Access-Control-Request-Headers: authorization\r\n"
        # A 204 has no Content-Length: read to the close, so a stray body would be seen.
        + b"Connection: close\r\n\r\n"
    )
    status, headers, body = request(server, raw)
    assert status == 204
    assert body == b""
    assert "content-type" not in headers
    assert "GET" in headers["access-control-allow-methods"]
    assert "Authorization" in headers["access-control-allow-headers"]
    assert int(headers["access-control-max-age"]) > 0
    assert headers["access-control-allow-origin"] == "*"


def test_a_forged_host_is_refused(server: int) -> None:
    _rdap_error(request(server, b"GET /help HTTP/1.1\r\nHost: evil.example\r\n\r\n"), 400)


def test_served_issuer_names_the_bound_address(server: int, make_client) -> None:  # type: ignore[no-untyped-def]
    here = f"http://127.0.0.1:{server}"
    status, meta = get(server, "/.well-known/oauth-authorization-server")
    assert status == 200
    assert meta["issuer"] == here
    assert meta["token_endpoint"] == f"{here}/oauth/token"
    assert meta["jwks_uri"] == f"{here}/oauth/jwks"
    status, help_ = get(server, "/help")
    providers = help_["farv1_openidcConfiguration"]["openidcProviders"]
    assert [p["iss"] for p in providers] == [here]
    assert help_["notices"][0]["links"][0]["value"] == f"{here}/help"
    client_id, secret = make_client()
    form = b"grant_type=client_credentials"
    credentials = base64.b64encode(f"{client_id}:{secret}".encode())
    status, _, body = request(
        server,
        b"POST /oauth/token HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{server}\r\n".encode()
        + b"Authorization: Basic "
        + credentials
        + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(form)
        + form,
    )
    assert status == 200, body
    payload = json.loads(body)["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == claims["aud"] == here
    # ... and the server accepts its own token.
    status, _ = get(
        server, "/help", {"Authorization": f"Bearer {json.loads(body)['access_token']}"}
    )
    assert status == 200


# --- what `rdapd serve` derives from the address it binds to --------------------------------


@pytest.mark.parametrize(
    ("bind", "issuer", "hosts"),
    [
        ("127.0.0.1:18181", "http://127.0.0.1:18181", (*LOCAL_HOSTS, "127.0.0.1")),
        ("[::1]:8080", "http://[::1]:8080", (*LOCAL_HOSTS, "::1")),
        ("rdap.test:8443", "http://rdap.test:8443", (*LOCAL_HOSTS, "rdap.test")),
        ("0.0.0.0:8080", "http://localhost:8080", ()),
    ],
)
def test_bind_address_gives_issuer_and_allowed_host(bind: str, issuer: str, hosts: tuple) -> None:  # type: ignore[type-arg]
    settings = serve.settings_for_bind(Settings(), bind)
    assert settings.effective_oauth_issuer == issuer
    assert settings.allowed_hosts == hosts


def test_a_configured_base_url_or_issuer_wins_over_the_bind_address() -> None:
    based = Settings(base_url="https://rdap.example/")
    assert serve.settings_for_bind(based, "127.0.0.1:18181") == based
    assert based.effective_oauth_issuer == "https://rdap.example"
    named = serve.settings_for_bind(Settings(oauth_issuer="https://id.example"), "127.0.0.1:1")
    assert named.effective_oauth_issuer == "https://id.example"
    unix = Settings()
    assert serve.settings_for_bind(unix, "unix:/run/rdapd.sock") == unix


def test_served_workers_answer_their_errors_as_rdap() -> None:
    worker_class = serve.gunicorn_options(Settings(), "x")["worker_class"]
    assert worker_class in serve.WORKERS.values()
    assert not worker_class.endswith("SyncWorker")  # gunicorn would swap it for gthread


def test_error_answer_without_an_rdapd_app_still_is_rdap() -> None:
    answer = serve.error_answer(object(), 414, "URI Too Long")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert json.loads(body)["rdapConformance"] == ["rdap_level_0"]
    assert f"Content-Length: {len(body)}".encode() in head
