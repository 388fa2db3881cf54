"""Response headers: caching decided by the principal (authenticated answers never stored,
anonymous ones briefly and publicly), Vary on every answer, and CORS preflight."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from rdap import create_app
from rdap.db import Database
from rdap.models import Registrar
from rdap.settings import Settings
from tests import factories
from tests.oauth_fixtures import MakeClient, basic

PUBLIC = "public, max-age=60"
PRIVATE = "private, no-store"


@pytest.fixture
def domain(db: Database, registrar: Registrar) -> str:
    with db.session_scope() as session:
        sponsor = session.get(Registrar, registrar.id)
        d = factories.full_domain(
            session, name="own.post", registrant_kind="natural", registrar=sponsor
        )
        return d.ldh_name


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _vary(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {v.strip() for v in response.headers.get("Vary", "").split(",")}


def test_personal_data_is_never_stored_and_public_data_briefly(  # type: ignore[no-untyped-def]
    client, domain, make_client: MakeClient, token_for
) -> None:
    anonymous = client.get("/domain/own.post")
    token = token_for(*make_client(role="registrar"))
    sponsor = client.get("/domain/own.post", headers=_bearer(token))
    assert anonymous.status_code == sponsor.status_code == 200
    assert "Registrant Person" in sponsor.get_data(as_text=True)
    assert "Registrant Person" not in anonymous.get_data(as_text=True)
    assert anonymous.headers["Cache-Control"] == PUBLIC
    assert sponsor.headers["Cache-Control"] == PRIVATE
    assert "Authorization" in _vary(anonymous)
    assert "Authorization" in _vary(sponsor)


def test_any_credential_makes_an_answer_private(  # type: ignore[no-untyped-def]
    client, domain, make_client: MakeClient, token_for
) -> None:
    # A requester without grants sees the public view, but the answer was made for a principal.
    token = token_for(*make_client(role="requester"))
    for path in ("/domain/own.post", "/help", "/domains?name=ow*", "/domain/nope.post"):
        response = client.get(path, headers=_bearer(token))
        assert response.headers["Cache-Control"] == PRIVATE, path


@pytest.mark.parametrize(
    ("path", "status", "cache_control"),
    [
        ("/help", 200, PUBLIC),
        ("/domains?name=ow*", 200, PUBLIC),
        ("/domain/nope.post", 404, PUBLIC),
        ("/domain/bad_name.post", 400, "no-store"),
        ("/domains?name=*", 400, "no-store"),
        ("/ip/192.0.2.1", 501, "no-store"),
        ("/terms", 200, PUBLIC),
        ("/complaints", 200, PUBLIC),
    ],
)
def test_anonymous_answers(client, domain, path, status, cache_control) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == cache_control
    assert "Authorization" in _vary(response)


def test_a_bad_credential_is_not_stored(client, domain) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/domain/own.post", headers=_bearer("not-a-token"))
    assert response.status_code == 401
    assert response.headers["Cache-Control"] == "no-store"


def test_writes_and_tokens_are_not_stored(client, domain, make_client: MakeClient) -> None:  # type: ignore[no-untyped-def]
    filed = client.post(
        "/complaints",
        json={"domain": "own.post", "fields": ["registrant.email"], "description": "bounces"},
    )
    assert filed.status_code == 201
    assert filed.headers["Cache-Control"] == "no-store"
    issued = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(*make_client())
    )
    assert issued.status_code == 200
    assert issued.headers["Cache-Control"] == "no-store"


def test_a_view_s_own_lifetime_for_public_documents_stands(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/oauth/jwks").headers["Cache-Control"] == "max-age=60"
    meta = client.get("/.well-known/oauth-authorization-server")
    assert meta.headers["Cache-Control"] == "max-age=300"


def test_max_age_is_configurable(settings: Settings, db: Database, domain) -> None:  # type: ignore[no-untyped-def]
    app = create_app(dataclasses.replace(settings, cache_max_age=5))
    response = app.test_client().get("/domain/own.post")
    assert response.headers["Cache-Control"] == "public, max-age=5"


def _limited(settings: Settings) -> Flask:
    return create_app(
        dataclasses.replace(settings, ratelimit_enabled=True, ratelimit_public="1/hour")
    )


def test_429_and_5xx_are_not_stored(settings: Settings, db: Database, domain) -> None:  # type: ignore[no-untyped-def]
    http = _limited(settings).test_client()
    assert http.get("/domain/own.post").status_code == 200
    limited = http.get("/domain/own.post")
    assert limited.status_code == 429
    assert limited.headers["Cache-Control"] == "no-store"

    app = create_app(settings)

    @app.get("/probe/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    failed = app.test_client().get("/probe/boom")
    assert failed.status_code == 500
    assert failed.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/domain/example.post", "GET"),
        ("/domains", "GET"),
        ("/complaints", "POST"),
        ("/oauth/token", "POST"),
        ("/registrar/complaints/abc/close", "POST"),
        ("/no/such/path", "GET"),
    ],
)
def test_cors_preflight(client, path, method) -> None:  # type: ignore[no-untyped-def]
    response = client.options(
        path,
        headers={
            "Origin": "https://client.example",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers
    allowed = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert method in allowed
    assert allowed == {m.strip() for m in response.headers["Allow"].split(",")}
    requested = {h.strip() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"Authorization", "Content-Type"} <= requested
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_preflight_needs_no_credential_and_ignores_a_bad_one(client) -> None:  # type: ignore[no-untyped-def]
    response = client.options("/domain/example.post", headers=_bearer("not-a-token"))
    assert response.status_code == 204
