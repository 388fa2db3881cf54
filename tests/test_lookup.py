"""The lookup pipeline: skipping work policy would undo changes nothing a caller sees."""

from __future__ import annotations

import datetime as dt

import pytest

from rdap import document as doc
from rdap.db import Database
from rdap.principal import ANONYMOUS, REQUESTER, STAFF, Principal
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
