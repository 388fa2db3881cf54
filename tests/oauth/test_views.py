"""The token, revocation, JWKS and metadata endpoints (RFC 6749 §4.4, 7009, 8414, 9068)."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from rdap.auth import InvalidToken, authenticate
from rdap.oauth import service
from rdap.views.oauth import oauth_state
from tests.oauth_fixtures import basic


def _segment(token: str, index: int) -> dict[str, object]:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_client_credentials_with_basic_auth_issues_rfc9068_token(client, make_client, settings):
    client_id, secret = make_client("registrar", purposes=("domainNameControl",))
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "rdap registrar:own"
    header = _segment(body["access_token"], 0)
    claims = _segment(body["access_token"], 1)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert header["kid"]
    assert claims["iss"] == settings.effective_oauth_issuer
    assert claims["aud"] == settings.effective_oauth_audience
    assert claims["sub"] == claims["client_id"] == client_id
    assert claims["exp"] - claims["iat"] == 300
    assert claims["nbf"] == claims["iat"]
    assert claims["jti"]
    assert claims["rdap_role"] == "registrar"
    assert claims["rdap_allowed_purposes"] == ["domainNameControl"]
    assert claims["rdap_dnt_allowed"] is False


def test_client_secret_post_is_accepted(client, make_client):
    client_id, secret = make_client()
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200
    assert response.get_json()["scope"] == "rdap"


def test_wrong_secret_is_invalid_client(client, make_client):
    client_id, _ = make_client()
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, "nope")
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_unknown_client_and_no_credentials_are_refused(client):
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic("ghost", "x")
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] == "invalid_client"


def test_other_grant_types_are_unsupported(client, make_client):
    client_id, secret = make_client()
    response = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "u", "password": "p"},
        headers=basic(client_id, secret),
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_revoked_client_cannot_get_tokens(client, make_client, db):
    client_id, secret = make_client()
    with db.session_scope() as session:
        service.revoke_client(session, client_id, dt.datetime.now(dt.UTC))
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_metadata_describes_the_server(client, settings):
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    meta = response.get_json()
    issuer = settings.effective_oauth_issuer
    assert meta["issuer"] == issuer
    assert meta["token_endpoint"] == f"{issuer}/oauth/token"
    assert meta["jwks_uri"] == f"{issuer}/oauth/jwks"
    assert meta["revocation_endpoint"] == f"{issuer}/oauth/revoke"
    assert meta["grant_types_supported"] == ["client_credentials", "authorization_code"]
    # The authorization code (with PKCE) is for the web pages' public client only.
    assert meta["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }


def test_jwks_publishes_public_keys_that_verify_tokens(client, make_client, token_for):
    token = token_for(*make_client())
    response = client.get("/oauth/jwks")
    assert response.status_code == 200
    assert response.content_type == "application/jwk-set+json"
    document = response.get_json()
    assert document["keys"]
    assert all("d" not in key for key in document["keys"])
    decoded = jwt.decode(token, KeySet.import_key_set(document), algorithms=["ES256"])
    assert decoded.claims["jti"]


def test_revocation_puts_the_token_on_the_deny_list(app, client, make_client, token_for):
    client_id, secret = make_client()
    token = token_for(client_id, secret)
    verifier = oauth_state(app).verifier
    now = dt.datetime.now(dt.UTC)
    assert authenticate(f"Bearer {token}", verifier=verifier, now=now) is not None
    response = client.post("/oauth/revoke", data={"token": token}, headers=basic(client_id, secret))
    assert response.status_code == 200
    with pytest.raises(InvalidToken, match="revoked"):
        authenticate(f"Bearer {token}", verifier=verifier, now=now)


def test_revocation_requires_client_auth_and_ownership(client, make_client, token_for):
    owner = make_client()
    other = make_client()
    token = token_for(*owner)
    response = client.post("/oauth/revoke", data={"token": token})
    assert response.status_code == 401
    response = client.post("/oauth/revoke", data={"token": token}, headers=basic(*other))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_revoking_an_unknown_token_is_answered_200(client, make_client):
    response = client.post(
        "/oauth/revoke", data={"token": "not-a-token"}, headers=basic(*make_client())
    )
    assert response.status_code == 200


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


MALFORMED_BASIC = {
    "not-utf8": "Basic //46/w==",
    "empty": "Basic ",
    "scheme-only": "Basic",
    "not-base64": "Basic !!!not*base64!!!",
    "base64-with-junk": "Basic " + _b64(b"id:secret") + "$$",
    "no-colon": "Basic " + _b64(b"client-without-secret"),
    "empty-id": "Basic " + _b64(b":secret"),
    "empty-secret": "Basic " + _b64(b"rdapd-0123:"),
    "nul-in-id": "Basic " + _b64(b"rdapd-\x00:secret"),
    "control-in-id": "Basic " + _b64(b"rdapd-\x1b[2J:secret"),
    "non-ascii-id": "Basic " + _b64("clïent:secret".encode()),
    "percent-ff-id": "Basic " + _b64(b"%ff%fe:secret"),
    "huge": "Basic " + _b64(b"i" * 3000 + b":" + b"s" * 2000),
}


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
@pytest.mark.parametrize("header", MALFORMED_BASIC.values(), ids=MALFORMED_BASIC.keys())
def test_malformed_basic_credentials_are_invalid_client(client, make_client, path, header):
    make_client()  # a real client exists; none of these names it
    form = {"grant_type": "client_credentials"} if path == "/oauth/token" else {"token": "x"}
    response = client.post(path, data=form, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("client_id", ["a\x00b", "\x1b[2J", "é" * 10, "x" * 5000])
def test_unusable_client_ids_in_the_form_are_invalid_client(client, client_id):
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "s"},
    )
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] == "invalid_client"


def test_percent_encoded_basic_credentials_are_decoded(client, make_client):
    """RFC 6749 §2.3.1: client_id and secret are form-encoded before Basic encoding."""
    client_id, secret = make_client()
    encoded = _b64(f"{client_id.replace('-', '%2D')}:{secret}".encode())
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {encoded}"},
    )
    assert response.status_code == 200
