"""Helpers for the registrar API tests: registrars with tokens, domains clean or with findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ClassVar

from sqlalchemy.orm import Session

from rdap import models
from rdap.db import Database
from rdap.oauth import service
from tests import factories


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client_token(
    db: Database,
    token_for: Callable[[str, str], str],
    *,
    role: str,
    registrar_iana_id: int | None = None,
) -> str:
    with db.session_scope() as session:
        client, secret = service.create_client(
            session,
            role=role,
            name=f"{role} test client",
            registrar_iana_id=registrar_iana_id,
            purposes=(),
            now=dt.datetime.now(dt.UTC),
        )
        client_id = client.client_id
    return token_for(client_id, secret)


def make_clean(session: Session, domain: models.Domain) -> None:
    """Verify every contact of `domain` now, so it has no findings."""
    now = dt.datetime.now(dt.UTC)
    ids = [domain.registrant_id, *(link.contact_id for link in domain.contacts)]
    for contact in session.query(models.Contact).filter(models.Contact.id.in_(ids)):
        contact.verification_status = "verified"
        contact.verified_at = now
    session.flush()


def domain_with_bad_email(
    session: Session, name: str, registrar: models.Registrar | None
) -> models.Domain:
    """A domain whose registrant email is malformed (its other contacts are clean)."""
    domain = factories.full_domain(
        session, name=name, registrant_kind="natural", registrar=registrar
    )
    make_clean(session, domain)
    registrant = session.get(models.Contact, domain.registrant_id)
    assert registrant is not None
    registrant.email = "broken..address@@mail.example"
    session.flush()
    return domain


def clean_domain(session: Session, name: str, registrar: models.Registrar | None) -> models.Domain:
    domain = factories.full_domain(
        session, name=name, registrant_kind="natural", registrar=registrar
    )
    make_clean(session, domain)
    return domain


class Tokens:
    """Access tokens by name ("own", "foreign", "staff", "requester"), issued on first use."""

    ROLES: ClassVar[dict[str, tuple[str, int | None]]] = {
        "own": ("registrar", 9999),
        "foreign": ("registrar", 8888),
        "staff": ("staff", None),
        "requester": ("requester", None),
    }

    def __init__(self, db: Database, token_for: Callable[[str, str], str]) -> None:
        self.db = db
        self.token_for = token_for
        self.issued: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self.issued:
            role, iana_id = self.ROLES[name]
            self.issued[name] = client_token(
                self.db, self.token_for, role=role, registrar_iana_id=iana_id
            )
        return self.issued[name]
