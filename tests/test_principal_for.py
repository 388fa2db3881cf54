"""principal_for: claims (or none) + stated purpose → Principal, with checks at query time."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from rdap.auth import Claims
from rdap.db import Database
from rdap.errors import Forbidden, QueryError, Unauthorized
from rdap.models import OAuthClient, Registrar
from rdap.oauth import service
from rdap.principal import ANONYMOUS, principal_for
from tests.oauth_fixtures import NOW


def _claims(client_id: str | None, *, role: str = "requester", purposes=("legalActions",)):
    return Claims(
        issuer="https://rdap.test",
        subject=client_id or "user-1",
        token_id="jti-1",
        role=role,
        purposes=frozenset(purposes),
        do_not_track=True,
        expires_at=NOW + dt.timedelta(minutes=5),
        client_id=client_id,
    )


def test_no_claims_is_anonymous(db: Database):
    with db.read_connection() as connection:
        assert principal_for(None, purpose=None, connection=connection) is ANONYMOUS


def test_anonymous_caller_stating_a_purpose_gets_the_public_view(db: Database):
    with db.read_connection() as connection:
        assert principal_for(None, purpose="legalActions", connection=connection) is ANONYMOUS


def test_unknown_purpose_value_is_a_bad_request(db: Database, make_client):
    client_id, _ = make_client()
    with db.read_connection() as connection, pytest.raises(QueryError):
        principal_for(_claims(client_id), purpose="' OR 1=1--", connection=connection)


def test_purposes_are_token_and_client_intersection(db: Database, make_client):
    client_id, _ = make_client("requester", purposes=("legalActions", "dnsTransparency"))
    claims = _claims(client_id, purposes=("legalActions", "domainNameControl"))
    with db.read_connection() as connection:
        principal = principal_for(claims, purpose="legalActions", connection=connection)
        assert principal.role == "requester"
        assert principal.purposes == {"legalActions"}
        assert principal.purpose == "legalActions"
        assert principal.client_id == client_id
        assert principal.token_id == "jti-1"
        assert principal.do_not_track is True
        assert principal.grants == ()
        with pytest.raises(Forbidden):  # allowed by the client, not by the token
            principal_for(claims, purpose="dnsTransparency", connection=connection)
        with pytest.raises(Forbidden):  # allowed by the token, not by the client
            principal_for(claims, purpose="domainNameControl", connection=connection)


def test_registrar_binding_is_read_at_query_time(db: Database, make_client, registrar):
    client_id, _ = make_client("registrar", purposes=("domainNameControl",))
    with db.read_connection() as connection:
        principal = principal_for(
            _claims(client_id, role="registrar"), purpose=None, connection=connection
        )
    assert principal.role == "registrar"
    assert principal.registrar_id == registrar.id
    with db.session_scope() as session:
        other = Registrar(client_id="reg-b", iana_id=8888, name="Registrar B", street=[])
        session.add(other)
        session.flush()
        row = session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).one()
        row.registrar_id = other.id
        other_id = other.id
    with db.read_connection() as connection:
        principal = principal_for(
            _claims(client_id, role="registrar"), purpose=None, connection=connection
        )
    assert principal.registrar_id == other_id


def test_revoked_client_is_unauthorized(db: Database, make_client):
    client_id, _ = make_client()
    with db.session_scope() as session:
        service.revoke_client(session, client_id, NOW)
    with db.read_connection() as connection, pytest.raises(Unauthorized):
        principal_for(_claims(client_id), purpose=None, connection=connection)


def test_federated_claims_keep_their_role(db: Database):
    claims = _claims(None, role="law-enforcement", purposes=("legalActions",))
    with db.read_connection() as connection:
        principal = principal_for(claims, purpose="legalActions", connection=connection)
    assert principal.role == "law-enforcement"
    assert principal.client_id is None
    assert principal.subject == "user-1"
    assert principal.registrar_id is None


# --- affiliation: accreditation and organisation, read at query time ----------------------------


def test_accreditation_is_read_at_query_time(db: Database, accredit, caller, token_for):  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from rdap.models import Accreditation
    from tests.disclosure_fixtures import START

    accreditation = accredit("CERT", purposes=("legalActions", "dnsTransparency"))
    requester = caller(accreditation=accreditation, purposes=("legalActions",))
    claims = _claims(requester.client_id, purposes=("legalActions", "dnsTransparency"))

    def principal(now: dt.datetime = START) -> object:
        with db.read_connection() as connection:
            return principal_for(claims, purpose=None, connection=connection, now=now)

    found = principal()
    assert found.affiliation.accreditation_id == accreditation  # type: ignore[attr-defined]
    assert found.affiliation.requester_type == "cybersecurity"  # type: ignore[attr-defined]
    assert found.affiliation.suspended is False  # type: ignore[attr-defined]
    assert found.purposes == {"legalActions"}  # type: ignore[attr-defined]  # token ∩ client ∩ accreditation
    with pytest.raises(Forbidden, match="not yet valid"):
        principal(START - dt.timedelta(seconds=1))
    with pytest.raises(Forbidden, match="accreditation_expired"):
        principal(START + dt.timedelta(days=400))
    for status, expected in (
        ("suspended", None),
        ("expired", "accreditation_expired"),
        ("revoked", "accreditation_revoked"),
    ):
        with db.session_scope() as session:
            session.execute(
                update(Accreditation).where(Accreditation.id == accreditation).values(status=status)
            )
        if expected is None:
            assert principal().affiliation.suspended is True  # type: ignore[attr-defined]
        else:
            with pytest.raises(Forbidden, match=expected):
                principal()


def test_staff_organisation_and_unaffiliated_clients(db: Database, caller, make_client):  # type: ignore[no-untyped-def]
    staff = caller("staff", org="Registry Legal")
    with db.read_connection() as connection:
        found = principal_for(
            _claims(staff.client_id, role="staff"), purpose=None, connection=connection
        )
        assert found.affiliation is not None
        assert found.affiliation.organisation_id is not None
        assert found.affiliation.accreditation_id is None
        plain, _ = make_client("staff", purposes=())
        bare = principal_for(_claims(plain, role="staff"), purpose=None, connection=connection)
        assert bare.affiliation is None
