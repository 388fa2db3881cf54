"""The lookup pipeline: skipping work policy would undo changes nothing a caller sees."""

from __future__ import annotations

import datetime as dt

import pytest

from rdap import document as doc
from rdap.db import Database
from rdap.lookup import verification_for
from rdap.principal import ANONYMOUS, REGISTRAR, REQUESTER, STAFF, Principal
from rdap.redaction import load_policy, redact
from rdap.repository import Repository
from rdap.settings import Settings
from tests import factories

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


@pytest.mark.parametrize("kind", ["natural", "legal"])
@pytest.mark.parametrize("principal", [ANONYMOUS, Principal(role=REQUESTER)])
def test_leaving_out_unshowable_verification_remarks_changes_nothing(
    db: Database, kind: str, principal: Principal
) -> None:
    policy = load_policy(Settings().policies_path)
    assert not policy.may_show(principal.role, "verification")
    assert policy.may_show(STAFF, "verification")
    with db.session_scope() as session:
        factories.full_domain(session, name="same.post", registrant_kind=kind)
    with db.read_connection() as connection:
        record = Repository(connection).domain("same.post")
    assert record is not None
    links = doc.Links(base_url="https://rdap.example", request_url="https://rdap.example/x")
    answers = [
        redact(doc.domain_document(record, links, verification=v), principal, policy, now=NOW)
        for v in (True, False)
    ]
    assert answers[0].body == answers[1].body
    assert answers[0].redacted == answers[1].redacted


@pytest.mark.parametrize("kind", ["natural", "legal"])
def test_registrars_get_verification_remarks_built_only_for_their_own_domains(
    db: Database, kind: str
) -> None:
    policy = load_policy(Settings().policies_path)
    with db.session_scope() as session:
        domain = factories.full_domain(session, name="owned.post", registrant_kind=kind)
        sponsor_id = domain.registrar_id
    with db.read_connection() as connection:
        record = Repository(connection).domain("owned.post")
    assert record is not None
    sponsor = Principal(role=REGISTRAR, registrar_id=sponsor_id)
    foreign = Principal(role=REGISTRAR, registrar_id=sponsor_id + 1000)
    assert verification_for(policy, sponsor)(sponsor_id)
    assert not verification_for(policy, foreign)(sponsor_id)
    assert verification_for(policy, Principal(role=STAFF))(sponsor_id)
    assert not verification_for(policy, ANONYMOUS)(sponsor_id)

    links = doc.Links(base_url="https://rdap.example", request_url="https://rdap.example/x")
    # For a foreign registrar, building the remarks and then redacting them gives the same answer
    # as not building them: same body, same declarations.
    foreign_answers = [
        redact(doc.domain_document(record, links, verification=v), foreign, policy, now=NOW)
        for v in (True, False)
    ]
    assert foreign_answers[0].body == foreign_answers[1].body
    assert foreign_answers[0].redacted == foreign_answers[1].redacted
    # The sponsor still sees them.
    own = redact(doc.domain_document(record, links, verification=True), sponsor, policy, now=NOW)
    titles = [r.get("title") for e in own.body["entities"] for r in e.get("remarks", [])]
    assert "Contact verification" in titles
