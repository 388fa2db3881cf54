"""Helpers for the registrar API tests: registrars with tokens, domains clean or with findings."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session

from rdap import models
from rdap.db import Database
from rdap.oauth import service
from rdap.redaction import load_policy
from rdap.settings import PROJECT_ROOT
from tests import factories

POLICIES = PROJECT_ROOT / "policies"
SPONSOR_RULE = (
    'elements = ["registrant.*", "administrative.*", "technical.*", "billing.*", "contact.*"]\n'
    "when = { sponsor = true }"
)


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


def policy_variant(directory: Path, *, hidden: tuple[str, ...]) -> Path:
    """A copy of policies/ whose registrar.toml shows the sponsor every contact element except
    those matching `hidden` (patterns such as "*.verification")."""
    shutil.copytree(POLICIES, directory)
    shown = [
        element_id
        for element_id in load_policy(POLICIES).elements
        if not element_id.startswith("reporter.")
        and not any(fnmatch.fnmatchcase(element_id, pattern) for pattern in hidden)
    ]
    registrar = (directory / "registrar.toml").read_text(encoding="utf-8")
    assert SPONSOR_RULE in registrar
    rule = f"elements = {json.dumps(shown)}\nwhen = {{ sponsor = true }}"
    (directory / "registrar.toml").write_text(registrar.replace(SPONSOR_RULE, rule))
    return directory


def documented(schema: str, body: Any) -> None:
    """`body` is valid against `schema` of the API's description (rdap/openapi.json)."""
    api = json.loads((PROJECT_ROOT / "rdap" / "openapi.json").read_text(encoding="utf-8"))
    root = {"$ref": f"#/components/schemas/{schema}", "components": api["components"]}
    Draft202012Validator(root).validate(body)
