"""Fixtures for the OAuth, auth, principal and rate-limit tests: registrars, clients, tokens."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jwt

from rdap.db import Database
from rdap.models import Registrar
from rdap.oauth import keys, service
from rdap.settings import Settings

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def registrar(db: Database) -> Registrar:
    with db.session_scope() as session:
        row = Registrar(client_id="reg-a", iana_id=9999, name="Registrar A", status="ok", street=[])
        session.add(row)
        session.flush()
        return row


MakeClient = Callable[..., tuple[str, str]]


def bind_to_deposit_registrar(db: Database, make_client: MakeClient) -> tuple[str, str, int]:
    """A registrar client bound to the first registrar of an imported deposit (not the
    fixture's "reg-a"): (client id, secret, the registrar's row id)."""
    from sqlalchemy import select

    from rdap.models import OAuthClient

    client_id, secret = make_client(role="registrar")
    with db.session_scope() as session:
        sponsor = session.scalars(
            select(Registrar).where(Registrar.client_id != "reg-a").order_by(Registrar.id)
        ).first()
        assert sponsor is not None
        row = session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).one()
        row.registrar_id = sponsor.id
        return client_id, secret, sponsor.id


@pytest.fixture
def make_client(db: Database, registrar: Registrar) -> MakeClient:
    """Create a client; returns (client_id, secret). Requester and law-enforcement clients act
    for an accreditation of their own, with the given purposes."""

    def make(
        role: str = "requester", purposes: tuple[str, ...] = ("legalActions",)
    ) -> tuple[str, str]:
        if role in ("requester", "law-enforcement"):
            return _accredited_client(db, role, purposes)
        with db.session_scope() as session:
            client, secret = service.create_client(
                session,
                role=role,
                name=f"{role} client",
                registrar_iana_id=registrar.iana_id if role == "registrar" else None,
                purposes=purposes,
                now=dt.datetime.now(dt.UTC),
            )
            return client.client_id, secret

    return make


def _accredited_client(db: Database, role: str, purposes: tuple[str, ...]) -> tuple[str, str]:
    from rdap import audit
    from rdap.disclosure import service as disclosure
    from rdap.disclosure.sla import SlaPolicy

    now = dt.datetime.now(dt.UTC)
    actor = disclosure.operator("tests")
    with audit.writing(db) as session:
        ctx = disclosure.Context(session, now, SlaPolicy())
        accreditation = disclosure.create_accreditation(
            ctx,
            org=f"{role} organisation {secrets.token_hex(4)}",
            org_type="law-enforcement" if role == "law-enforcement" else "cybersecurity",
            jurisdiction="CH",
            purposes=purposes or ("legalActions",),
            actor=actor,
        )
        client, secret = disclosure.create_client(
            ctx,
            role=role,
            name=f"{role} client",
            actor=actor,
            accreditation_id=accreditation.id,
            purposes=purposes,
        )
        return client.client_id, secret


@pytest.fixture
def token_for(client) -> Callable[[str, str], str]:  # type: ignore[no-untyped-def]
    """Obtain an access token from /oauth/token with HTTP Basic client authentication."""

    def get(client_id: str, secret: str) -> str:
        response = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(client_id, secret),
        )
        assert response.status_code == 200, response.get_json()
        token: str = response.get_json()["access_token"]
        return token

    return get


SignToken = Callable[..., str]


@pytest.fixture
def sign_token(db: Database, settings: Settings) -> SignToken:
    """Sign arbitrary claims with our real key (to build tokens the server would never issue)."""

    def sign(
        client_id: str,
        /,
        *,
        header: dict[str, Any] | None = None,
        now: dt.datetime = NOW,
        **overrides: Any,
    ) -> str:
        with db.session_scope() as session:
            key = keys.active_signing_key(session, now, keys.KeySealer.from_settings(settings))
        issued = int(now.timestamp())
        claims: dict[str, Any] = {
            "iss": settings.effective_oauth_issuer,
            "aud": settings.effective_oauth_audience,
            "sub": client_id,
            "client_id": client_id,
            "iat": issued,
            "nbf": issued,
            "exp": issued + 300,
            "jti": secrets.token_urlsafe(12),
            "scope": "rdap",
            "rdap_role": "requester",
            "rdap_allowed_purposes": ["legalActions"],
            "rdap_dnt_allowed": False,
        }
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        head = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid, **(header or {})}
        return jwt.encode(head, claims, key, algorithms=["ES256"])

    return sign


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    )
