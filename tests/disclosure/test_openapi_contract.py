"""The disclosure API answers what rdap/openapi.json says, and the document's vocabularies are
the code's (purposes, statuses, TLP labels, reason codes)."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from rdap.db import Database
from rdap.disclosure import schemas, workflow
from rdap.principal import PURPOSES
from tests import factories
from tests.disclosure_fixtures import SUBMISSION, Accredit, Api, MakeCaller


@pytest.fixture
def document(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    found: dict[str, Any] = client.get("/openapi.json").get_json()
    return found


def _check(document: dict[str, Any], name: str, instance: Any) -> None:
    schema = {**document, "$ref": f"#/components/schemas/{name}"}
    errors = sorted(Draft202012Validator(schema).iter_errors(instance), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_vocabularies_match_the_code(document: dict[str, Any]) -> None:
    found = document["components"]["schemas"]
    assert set(found["QueryPurpose"]["enum"]) == PURPOSES
    assert found["DisclosureStatus"]["enum"] == list(workflow.STATUSES)
    assert found["TlpLabel"]["enum"] == list(schemas.TLP_LABELS)
    assert found["ReasonCode"]["enum"] == list(schemas.REASON_CODES)
    assert set(found["DisclosureSubmission"]["properties"]) == set(schemas.SubmitSchema().fields)
    assert set(found["DisclosureDecision"]["properties"]) == set(schemas.DecisionSchema().fields)


def test_answers_match_the_document(
    document, api: Api, db: Database, accredit: Accredit, caller: MakeCaller, clock
) -> None:  # type: ignore[no-untyped-def]
    with db.session_scope() as session:
        factories.full_domain(session, name="target.post", registrant_kind="natural")
    requester = caller(accreditation=accredit())
    staff = caller("staff")
    submitted = api.submit(requester).get_json()
    _check(document, "DisclosureRequest", submitted)
    _check(document, "DisclosureSubmission", {**SUBMISSION, "tlp": "TLP:CLEAR"})
    decided = api.decide(
        submitted["id"],
        staff,
        action="approve",
        valid_days=7,
        data_elements=["registrant.email"],
        reasons=["data_not_necessary"],
        rationale="The name and phone number are not needed for this purpose.",
    ).get_json()
    _check(document, "DisclosureRequest", decided)
    listed = api.get("/disclosure/requests?count=1", staff).get_json()
    _check(document, "DisclosureRequestList", listed)
    invalid = api.submit(requester, rationale="short").get_json()
    _check(document, "RdapValidationError", invalid)
