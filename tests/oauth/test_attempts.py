"""Guessing at the token endpoint: failures are limited, and no answer tells which ids exist."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import secrets

import pytest
from flask import Flask
from sqlalchemy import select

from rdap import create_app
from rdap.db import Database
from rdap.models import OAuthClient
from rdap.oauth import service
from rdap.settings import Settings
from tests.oauth_fixtures import basic

TOKEN = {"grant_type": "client_credentials"}


@pytest.fixture
def guarded(settings: Settings, db: Database) -> Flask:
    app = create_app(
        dataclasses.replace(settings, ratelimit_enabled=True, ratelimit_auth_failures="5/minute")
    )
    app.config["TESTING"] = True
    return app


def _from(address: str) -> dict[str, dict[str, str]]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_failed_attempts_are_refused_with_429_before_any_secret_is_checked(
    guarded, make_client, monkeypatch
):
    http = guarded.test_client()
    client_id, secret = make_client()
    for _ in range(5):
        response = http.post("/oauth/token", data=TOKEN, headers=basic(client_id, "wrong"))
        assert response.status_code == 401
    checks: list[str] = []
    monkeypatch.setattr(service, "verify_secret", lambda s, h: checks.append(s) or False)
    response = http.post("/oauth/token", data=TOKEN, headers=basic(client_id, "wrong"))
    assert response.status_code == 429
    assert checks == []  # refused before any hash was computed
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content_type == "application/json"
    body = response.get_json()
    # An OAuth error response (RFC 6749 §5.2) that is also an RFC 9083 error body.
    assert body["error"] == "temporarily_unavailable"
    assert body["errorCode"] == 429
    assert body["title"] == "Too Many Requests"
    assert body["description"] == [body["error_description"]]
    assert f"retry after {retry_after} seconds" in body["error_description"]
    assert "icann_rdap_response_profile_1" in body["rdapConformance"]
    # The right secret from the same address waits too: the address's budget is spent.
    assert (
        http.post("/oauth/token", data=TOKEN, headers=basic(client_id, secret)).status_code == 429
    )


def test_each_client_id_and_each_address_has_its_own_failure_budget(guarded, make_client):
    http = guarded.test_client()
    target, _ = make_client()
    other, other_secret = make_client()
    for n in range(5):  # five addresses, one failure each, all against one id
        response = http.post(
            "/oauth/token", data=TOKEN, headers=basic(target, "wrong"), **_from(f"192.0.2.{n}")
        )
        assert response.status_code == 401
    # The id's budget is spent, from any address; ...
    refused = http.post(
        "/oauth/token", data=TOKEN, headers=basic(target, "wrong"), **_from("198.51.100.1")
    )
    assert refused.status_code == 429
    # ... another id from a fresh address is untouched.
    fine = http.post(
        "/oauth/token", data=TOKEN, headers=basic(other, other_secret), **_from("198.51.100.2")
    )
    assert fine.status_code == 200
    # One address guessing many ids (here through client_secret_post) is stopped after five.
    statuses = [
        http.post(
            "/oauth/token",
            data={**TOKEN, "client_id": f"rdapd-{n:016x}", "client_secret": "x"},
            **_from("203.0.113.7"),
        ).status_code
        for n in range(7)
    ]
    assert statuses == [401] * 5 + [429] * 2


def test_successes_do_not_spend_the_failure_budget(guarded, make_client):
    http = guarded.test_client()
    client_id, secret = make_client()
    for _ in range(4):
        assert (
            http.post("/oauth/token", data=TOKEN, headers=basic(client_id, "no")).status_code == 401
        )
    for _ in range(10):
        assert (
            http.post("/oauth/token", data=TOKEN, headers=basic(client_id, secret)).status_code
            == 200
        )
    assert http.post("/oauth/token", data=TOKEN, headers=basic(client_id, "no")).status_code == 401


def test_revocation_shares_the_failure_budget(guarded, make_client):
    http = guarded.test_client()
    client_id, _ = make_client()
    statuses = [
        http.post(
            "/oauth/revoke", data={"token": "t"}, headers=basic(client_id, "wrong")
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    assert http.post("/oauth/token", data=TOKEN, headers=basic(client_id, "x")).status_code == 429


def test_a_percent_encoded_id_is_the_same_id(guarded, make_client):
    http = guarded.test_client()
    client_id, _ = make_client()
    spelled = "".join(f"%{ord(c):02X}" for c in client_id)  # RFC 6749 §2.3.1 form encoding
    for n in range(5):
        http.post("/oauth/token", data=TOKEN, headers=basic(spelled, "x"), **_from(f"192.0.2.{n}"))
    refused = http.post(
        "/oauth/token", data=TOKEN, headers=basic(client_id, "x"), **_from("192.0.2.99")
    )
    assert refused.status_code == 429


def test_unknown_ids_cost_what_wrong_secrets_cost(client, make_client, db, monkeypatch):
    client_id, _ = make_client()
    revoked, _ = make_client()
    with db.session_scope() as session:
        service.revoke_client(session, revoked, service.utcnow())
    checked: list[str] = []
    real = service.verify_secret

    def counting(secret: str, stored: str) -> bool:
        checked.append(stored.split("$", 1)[0])
        return real(secret, stored)

    monkeypatch.setattr(service, "verify_secret", counting)
    answers = []
    for candidate in (client_id, "rdapd-0123456789abcdef", revoked):
        response = client.post("/oauth/token", data=TOKEN, headers=basic(candidate, "wrong"))
        headers = dict(response.headers)
        headers.pop("X-Request-Id")  # a fresh id per request, by design
        answers.append((response.status_code, headers, response.data))
    # One hash check of the same scheme for a known id, an unknown one and a revoked one ...
    assert checked == [service.SECRET_SCHEME] * 3
    # ... and the same answer, byte for byte.
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401


def test_secrets_are_stored_as_sha256_and_old_scrypt_hashes_are_upgraded(client, make_client, db):
    client_id, secret = make_client()
    with db.session_scope() as session:
        row = session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).one()
        assert row.secret_hash.startswith("sha256$")
        assert row.secret_hash == service.hash_secret(secret)
        # A client created before: its secret under the former scrypt parameters.
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)

        def b64(raw: bytes) -> str:
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        row.secret_hash = f"scrypt$16384$8$1${b64(salt)}${b64(digest)}"
    assert (
        client.post("/oauth/token", data=TOKEN, headers=basic(client_id, "no")).status_code == 401
    )
    assert (
        client.post("/oauth/token", data=TOKEN, headers=basic(client_id, secret)).status_code == 200
    )
    with db.read_scope() as session:
        stored = session.scalars(
            select(OAuthClient.secret_hash).where(OAuthClient.client_id == client_id)
        ).one()
    assert stored == service.hash_secret(secret)
    assert (
        client.post("/oauth/token", data=TOKEN, headers=basic(client_id, secret)).status_code == 200
    )


def test_malformed_stored_hashes_never_match():
    for stored in ("", "sha256", "scrypt$1$2", "scrypt$x$8$1$AA$AA", "md5$abc", "plain"):
        assert service.verify_secret("anything", stored) is False
