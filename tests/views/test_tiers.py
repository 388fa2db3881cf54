"""Each role sees exactly its policy through RDAP; credentials are checked on every request."""

from __future__ import annotations

import datetime as dt

import pytest

from rdap.db import Database
from rdap.models import OAuthClient, Registrar
from rdap.oauth import service
from tests import factories
from tests.oauth_fixtures import MakeClient

RDAP = "application/rdap+json"


@pytest.fixture
def domains(db: Database, registrar: Registrar) -> dict[str, str]:
    with db.session_scope() as session:
        own_registrar = session.get(Registrar, registrar.id)
        own = factories.full_domain(
            session, name="own.post", registrant_kind="natural", registrar=own_registrar
        )
        foreign = factories.full_domain(session, name="foreign.post", registrant_kind="natural")
        return {"own": own.ldh_name, "foreign": foreign.ldh_name}


def _registrant(body: dict) -> dict:  # type: ignore[type-arg]
    return next(e for e in body["entities"] if e["roles"] == ["registrant"])


def _props(entity: dict) -> dict[str, list]:  # type: ignore[type-arg]
    return {p[0]: p for p in entity["vcardArray"][1]}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _strip_request_values(body: dict) -> dict:  # type: ignore[type-arg]
    return body


def test_public_view_hides_natural_person(client, domains) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/domain/own.post").get_json()
    props = _props(_registrant(body))
    assert props["fn"][3] == ""
    assert "email" not in props
    assert "contact-uri" in props
    assert "redacted" in body["rdapConformance"]
    assert any(r["name"].get("type") == "Registrant Email" for r in body["redacted"])


def test_registrar_sees_everything_of_its_own_domain(  # type: ignore[no-untyped-def]
    client, domains, make_client: MakeClient, token_for
) -> None:
    token = token_for(*make_client(role="registrar"))
    body = client.get("/domain/own.post", headers=_bearer(token)).get_json()
    props = _props(_registrant(body))
    assert props["fn"][3] == "Registrant Person"
    assert props["email"][3] == "registrant@mail.example"
    assert "redacted" not in body
    remarks = {r["title"] for r in _registrant(body)["remarks"]}
    assert "Contact verification" in remarks
    assert "farv1" in body["rdapConformance"]


def test_registrar_gets_public_view_of_a_foreign_domain(  # type: ignore[no-untyped-def]
    client, domains, make_client: MakeClient, token_for
) -> None:
    token = token_for(*make_client(role="registrar"))
    mine = client.get("/domain/foreign.post", headers=_bearer(token)).get_json()
    public = client.get("/domain/foreign.post").get_json()
    assert mine["entities"] == public["entities"]
    assert mine["redacted"] == public["redacted"]
    missing = client.get("/domain/nothing-here.post", headers=_bearer(token))
    anonymous_missing = client.get("/domain/nothing-here.post")
    assert missing.status_code == anonymous_missing.status_code == 404
    assert missing.data == anonymous_missing.data


def test_staff_sees_everything(  # type: ignore[no-untyped-def]
    client, domains, make_client: MakeClient, token_for
) -> None:
    token = token_for(*make_client(role="staff", purposes=()))
    body = client.get("/domain/foreign.post", headers=_bearer(token)).get_json()
    assert "redacted" not in body
    assert _props(_registrant(body))["fn"][3] == "Registrant Person"


def test_requester_without_grant_sees_public_view(  # type: ignore[no-untyped-def]
    client, domains, make_client: MakeClient, token_for
) -> None:
    token = token_for(*make_client(role="requester"))
    body = client.get("/domain/own.post", headers=_bearer(token)).get_json()
    public = client.get("/domain/own.post").get_json()
    assert body["redacted"] == public["redacted"]
    assert body["entities"] == public["entities"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 5000,
    ],
)
def test_bad_tokens_are_401(client, domains, header) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/domain/own.post", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.content_type == RDAP
    assert response.get_json()["errorCode"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_401(client, domains, make_client, sign_token) -> None:  # type: ignore[no-untyped-def]
    client_id, _ = make_client()
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    response = client.get("/domain/own.post", headers=_bearer(sign_token(client_id, now=old)))
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_revoked_client_fails_on_next_request(  # type: ignore[no-untyped-def]
    client, db: Database, domains, make_client: MakeClient, token_for
) -> None:
    client_id, secret = make_client(role="registrar")
    token = token_for(client_id, secret)
    assert client.get("/domain/own.post", headers=_bearer(token)).status_code == 200
    with db.session_scope() as session:
        service.revoke_client(session, client_id, now=dt.datetime.now(dt.UTC))
    response = client.get("/domain/own.post", headers=_bearer(token))
    assert response.status_code == 401
    with db.read_scope() as session:
        assert session.query(OAuthClient).filter_by(client_id=client_id).one().status == "revoked"


def test_purpose_outside_allowed_set_is_403(  # type: ignore[no-untyped-def]
    client, domains, make_client: MakeClient, token_for
) -> None:
    token = token_for(*make_client(role="requester", purposes=("legalActions",)))
    ok = client.get("/domain/own.post?farv1_qp=legalActions", headers=_bearer(token))
    assert ok.status_code == 200
    denied = client.get("/domain/own.post?farv1_qp=dnsTransparency", headers=_bearer(token))
    assert denied.status_code == 403
    assert denied.get_json()["errorCode"] == 403


def test_token_in_query_string_is_refused(client, domains) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/domain/own.post?access_token=abc")
    assert response.status_code == 400
    assert response.content_type == RDAP


def test_help_announces_farv1(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/help").get_json()
    assert "farv1" in body["rdapConformance"]
    assert body["farv1_openidcConfiguration"]["dntSupported"] is False


def test_credentials_need_tls_except_on_loopback(  # type: ignore[no-untyped-def]
    app, client, domains, make_client: MakeClient, token_for
) -> None:
    import dataclasses

    from tests.oauth_fixtures import basic

    client_id, secret = make_client(role="registrar")
    token = token_for(client_id, secret)
    runtime = app.extensions["rdapd"]
    runtime.settings = dataclasses.replace(runtime.settings, require_tls=True)
    remote = {"REMOTE_ADDR": "203.0.113.5"}
    plain = client.get("/domain/own.post", headers=_bearer(token), environ_base=remote)
    assert plain.status_code == 401
    assert plain.headers["WWW-Authenticate"].startswith("Bearer")
    grant = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(client_id, secret),
        environ_base=remote,
    )
    assert grant.status_code == 401
    secure = client.get(
        "/domain/own.post",
        headers=_bearer(token),
        environ_base=remote,
        base_url="https://localhost",
    )
    assert secure.status_code == 200
    anonymous = client.get("/domain/own.post", environ_base=remote)
    assert anonymous.status_code == 200  # no credential: the public view, TLS or not
    loopback = client.get("/domain/own.post", headers=_bearer(token))
    assert loopback.status_code == 200
