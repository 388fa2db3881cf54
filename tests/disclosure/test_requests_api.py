"""The disclosure-request API: complete validation before acknowledgement (422 + `errors`),
who may see and do what (401/403/404, no oracle), paging, and refused transitions (409)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from rdap.db import Database
from rdap.models import AuditEntry, DisclosureRequest
from tests import factories
from tests.disclosure_fixtures import SUBMISSION, Accredit, Api, Caller, MakeCaller

PURPOSE = SUBMISSION["purpose"]
LONG_ENOUGH = "The phone number is not needed to identify the operator of the page."


@pytest.fixture
def domains(db: Database) -> None:
    with db.session_scope() as session:
        factories.full_domain(session, name="target.post", registrant_kind="natural")
        factories.full_domain(session, name="second.post", registrant_kind="natural")


@pytest.fixture
def requester(domains: None, accredit: Accredit, caller: MakeCaller) -> Caller:
    return caller(accreditation=accredit("CERT A", purposes=(PURPOSE, "legalActions")))


@pytest.fixture
def staff(caller: MakeCaller) -> Caller:
    return caller("staff")


def _counts(db: Database) -> tuple[int, int]:
    with db.read_scope() as session:
        requests = session.scalar(select(func.count()).select_from(DisclosureRequest))
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    return requests or 0, entries or 0


def _errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/rdap+json"
    body = response.get_json()
    assert body["errorCode"] == 422
    assert body["title"]
    assert body["description"]
    assert "rdapConformance" in body
    errors: dict[str, list[str]] = body["errors"]
    assert all(
        isinstance(m, list) and m and all(isinstance(x, str) for x in m) for m in errors.values()
    )
    return errors


# --- validation ---------------------------------------------------------------------------------

REQUIRED = (
    "domain",
    "purpose",
    "legal_basis",
    "rationale",
    "data_elements",
    "good_faith_affirmation",
)


@pytest.mark.parametrize("field", REQUIRED)
def test_each_required_field(api: Api, db: Database, requester: Caller, field: str) -> None:
    before = _counts(db)
    errors = _errors(api.submit(requester, **{field: None}))
    assert errors == {field: ["this field is required"]}
    assert _counts(db) == before  # nothing stored, nothing acknowledged


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"domain": ["target.post", "second.post"]}, "domain", "one request per domain"),
        ({"domain": "target.post, second.post"}, "domain", "one request per domain"),
        ({"domain": "targ*.post"}, "domain", "wildcards are not allowed"),
        ({"domain": "%.post"}, "domain", "wildcards are not allowed"),
        ({"domain": "bad_name..post"}, "domain", "not a valid domain name"),
        ({"domain": "not-registered.post"}, "domain", "not a registered domain"),
        ({"domain": 42}, "domain", "must be a string"),
        ({"domain": ""}, "domain", "must not be empty"),
        ({"purpose": "curiosity"}, "purpose", "RFC 9560 query purpose"),
        (
            {"purpose": "dnsTransparency"},
            "purpose",
            "not one of the purposes of your accreditation",
        ),
        ({"legal_basis": "   "}, "legal_basis", "must not be empty"),
        ({"legal_basis": "x" * 501}, "legal_basis", "at most 500"),
        ({"rationale": "because"}, "rationale", "at least 30 characters"),
        ({"rationale": " " * 40}, "rationale", "at least 30 characters"),
        ({"rationale": "A" * 40 + "\x00"}, "rationale", "NUL"),
        ({"data_elements": []}, "data_elements", "between 1 and"),
        ({"data_elements": "registrant.email"}, "data_elements", "list of element ids"),
        ({"data_elements": ["*.email"]}, "data_elements", "item 1: wildcards are not allowed"),
        ({"data_elements": ["registrant.*"]}, "data_elements", "wildcards are not allowed"),
        ({"data_elements": ["registrant.country"]}, "data_elements", "not an element"),
        ({"data_elements": ["registrant.verification"]}, "data_elements", "not an element"),
        ({"data_elements": ["contact.email"]}, "data_elements", "not an element"),
        ({"data_elements": ["registrant.password"]}, "data_elements", "not an element"),
        (
            {"data_elements": ["registrant.email", "registrant.email"]},
            "data_elements",
            "item 2: listed twice",
        ),
        ({"data_elements": ["registrant.email", 7]}, "data_elements", "item 2: must be a string"),
        ({"priority": "high"}, "priority", "must be one of"),
        (
            {"priority": "urgent", "urgent_justification": "x" * 40},
            "priority",
            "law enforcement only",
        ),
        (
            {"urgent_justification": "a threat to life"},
            "urgent_justification",
            "only for an urgent",
        ),
        ({"confidential": "yes"}, "confidential", "true or false"),
        ({"confidential": 1}, "confidential", "true or false"),
        ({"confidential": True}, "confidential", "only law enforcement and government"),
        ({"tlp": "tlp:red"}, "tlp", "TLP 2.0 labels"),
        ({"tlp": "TLP: RED"}, "tlp", "TLP 2.0 labels"),
        ({"tlp": "TLP:WHITE"}, "tlp", "TLP 2.0 labels"),
        ({"good_faith_affirmation": False}, "good_faith_affirmation", "must be true"),
        ({"good_faith_affirmation": "true"}, "good_faith_affirmation", "true or false"),
        ({"domains": ["target.post"]}, "domains", "one request per domain"),
        ({"email": "someone@example.org"}, "email", "reverse queries are not allowed"),
        ({"handle": "C1-POST"}, "handle", "reverse queries are not allowed"),
        ({"<script>": 1}, "_unknown", "not defined by this API"),
    ],
)
def test_each_validation_error(
    api: Api, db: Database, requester: Caller, changes: dict[str, Any], field: str, message: str
) -> None:
    before = _counts(db)
    errors = _errors(api.submit(requester, **changes))
    assert field in errors, errors
    assert any(message in m for m in errors[field]), errors[field]
    assert "<script>" not in str(errors)
    assert _counts(db) == before


def test_every_error_of_a_body_at_once(api: Api, db: Database, requester: Caller) -> None:
    errors = _errors(
        api.post("/disclosure/requests", requester, {"priority": "urgent", "tlp": "red"})
    )
    assert set(errors) >= {*REQUIRED, "priority", "tlp"}
    errors = _errors(
        api.submit(requester, domain="nope.post", rationale="short", data_elements=["*.email"])
    )
    assert set(errors) == {"domain", "rationale", "data_elements"}


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "not json", "content_type": "text/plain"}, 415),
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"data": "x" * 40000, "content_type": "application/json"}, 413),
    ],
)
def test_bodies_that_are_not_json_objects(client, requester: Caller, kwargs, status) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/disclosure/requests", headers=requester.headers, **kwargs)
    assert response.status_code == status
    assert response.get_json()["errorCode"] == status


def test_a_json_array_is_refused_field_by_field(api: Api, requester: Caller) -> None:
    assert _errors(api.post("/disclosure/requests", requester, [SUBMISSION])) == {
        "_schema": ["the request body must be a JSON object"]
    }


def test_a_valid_request_is_acknowledged_at_once(api: Api, requester: Caller, clock) -> None:  # type: ignore[no-untyped-def]
    response = api.submit(requester, domain="TARGET.POST.", tlp="TLP:RED")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "acknowledged"
    assert body["domain"] == "target.post"
    assert body["tlp"] == "TLP:RED"
    assert body["received_at"] == body["acknowledged_at"]
    assert body["data_elements"] == SUBMISSION["data_elements"]
    assert body["good_faith_affirmation"] is True
    assert body["confidential"] is False
    assert "requester" not in body  # who asked is shown to staff only
    assert "no-store" in response.headers["Cache-Control"]
    assert body["history"] == [
        {
            "at": body["received_at"],
            "from": None,
            "to": "acknowledged",
            "action": "submit",
            "actor": "requester",
            "reason": None,
        }
    ]
    default = api.submit(requester, domain="second.post", tlp=None).get_json()
    assert default["tlp"] == "TLP:AMBER+STRICT"


# --- who may do what ------------------------------------------------------------------------------


def test_no_token_is_401_and_other_roles_403(
    api: Api, requester: Caller, staff: Caller, make_client, token_for
) -> None:  # type: ignore[no-untyped-def]
    anonymous = api.post("/disclosure/requests", None, SUBMISSION)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.get("/disclosure/requests", None).status_code == 401
    assert api.post("/disclosure/requests", staff, SUBMISSION).status_code == 403
    registrar = token_for(*make_client(role="registrar"))
    headers = {"Authorization": f"Bearer {registrar}"}
    assert (
        api.client.post("/disclosure/requests", json=SUBMISSION, headers=headers).status_code == 403
    )
    assert api.client.get("/disclosure/requests", headers=headers).status_code == 403
    request_id = api.submit(requester).get_json()["id"]
    assert api.decide(request_id, requester, action="approve", valid_days=7).status_code == 403
    assert api.post(f"/disclosure/requests/{request_id}/priority", requester, {}).status_code == 403


def test_another_requester_gets_the_same_404_as_for_nothing(
    api: Api, requester: Caller, accredit: Accredit, caller: MakeCaller
) -> None:
    request_id = api.submit(requester).get_json()["id"]
    other = caller(accreditation=accredit("CERT B", purposes=(PURPOSE,)))
    # A second client of the same organisation is another requester too.
    colleague = caller(accreditation=accredit("CERT A", purposes=(PURPOSE,)))
    mine = api.get(f"/disclosure/requests/{request_id}", other)
    for who in (other, colleague):
        for path in (f"/disclosure/requests/{request_id}", f"/disclosure/requests/{uuid.uuid4()}"):
            response = api.get(path, who)
            assert response.status_code == 404
            assert response.data == mine.data
        assert api.get("/disclosure/requests/x'%20OR%201=1--", who).data == mine.data
        cancel = api.post(f"/disclosure/requests/{request_id}/cancel", who)
        assert cancel.status_code == 404
        assert cancel.data == mine.data
    assert api.get(f"/disclosure/requests/{request_id}", requester).status_code == 200


def test_lists_are_own_or_all_paged_with_cursors(
    api: Api, requester: Caller, staff: Caller, accredit: Accredit, caller: MakeCaller, clock
) -> None:  # type: ignore[no-untyped-def]
    other = caller(accreditation=accredit("CERT B", purposes=(PURPOSE,)))
    mine = []
    for _ in range(5):
        mine.append(api.submit(requester).get_json()["id"])
        clock.advance(seconds=1)
    theirs = api.submit(other).get_json()["id"]
    api.post(f"/disclosure/requests/{mine[0]}/cancel", requester)

    seen: list[str] = []
    page = api.get("/disclosure/requests?count=2", requester).get_json()
    while True:
        seen += [r["id"] for r in page["requests"]]
        links = page["paging_metadata"].get("links")
        if not links:
            break
        assert page["count"] == 2
        page = api.client.get(
            links[0]["href"].replace("http://localhost", ""), headers=requester.headers
        ).get_json()
    assert seen == mine  # oldest first, own requests only

    everything = api.get("/disclosure/requests", staff).get_json()["requests"]
    assert [r["id"] for r in everything] == [*mine, theirs]
    assert everything[0]["requester"]["organisation"] == "CERT A"
    cancelled = api.get("/disclosure/requests?status=cancelled", staff).get_json()["requests"]
    assert [r["id"] for r in cancelled] == [mine[0]]
    # A cursor is bound to its caller and its filters.
    cursor = api.get("/disclosure/requests?count=2", requester).get_json()["paging_metadata"]
    href = cursor["links"][0]["href"].replace("http://localhost", "")
    assert api.client.get(href, headers=other.headers).status_code == 400
    assert api.client.get(href + "&status=cancelled", headers=requester.headers).status_code == 400
    for bad in ("status=open", "overdue=maybe", "priority=high", "count=0", "cursor=abc"):
        assert api.get(f"/disclosure/requests?{bad}", staff).status_code == 400


def test_suspended_requester_may_look_but_not_submit(
    app, api: Api, db: Database, requester: Caller, accredit: Accredit
) -> None:  # type: ignore[no-untyped-def]
    request_id = api.submit(requester).get_json()["id"]
    with db.read_scope() as session:
        accreditation_id = session.get(DisclosureRequest, request_id).accreditation_id  # type: ignore[union-attr]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["accreditation", "suspend", accreditation_id, "--reason", "audit"])
    assert result.exit_code == 0, result.stderr
    refused = api.submit(requester)
    assert refused.status_code == 403
    assert "suspended" in refused.get_json()["description"][0]
    assert api.get(f"/disclosure/requests/{request_id}", requester).status_code == 200
    assert runner.invoke(args=["accreditation", "reactivate", accreditation_id]).exit_code == 0
    assert api.submit(requester).status_code == 201


# --- decisions and refused transitions ---------------------------------------------------------


def _state(api: Api, db: Database, request_id: str, staff: Caller) -> tuple[Any, int]:
    return api.get(f"/disclosure/requests/{request_id}", staff).get_json(), _counts(db)[1]


def test_approve_all_then_approving_again_is_409_with_no_change(
    api: Api, db: Database, requester: Caller, staff: Caller
) -> None:
    request_id = api.submit(requester).get_json()["id"]
    approved = api.decide(request_id, staff, action="approve", valid_days=30)
    assert approved.status_code == 200
    body = approved.get_json()
    assert body["status"] == "approved"
    assert body["grant"]["data_elements"] == SUBMISSION["data_elements"]
    assert body["decided_by"] == staff.client_id
    before = _state(api, db, request_id, staff)
    for decision in (
        {"action": "approve", "valid_days": 5},
        {"action": "deny", "reasons": ["other"], "rationale": LONG_ENOUGH},
        {"action": "request_information", "rationale": "Which case is this about?"},
    ):
        refused = api.decide(request_id, staff, **decision)
        assert refused.status_code == 409
        assert refused.get_json()["errorCode"] == 409
    assert api.post(f"/disclosure/requests/{request_id}/cancel", requester).status_code == 409
    assert _state(api, db, request_id, staff) == before


@pytest.mark.parametrize(
    ("decision", "field", "message"),
    [
        ({"action": "approve"}, "valid_days", "required when approving"),
        ({"action": "approve", "valid_days": 0}, "valid_days", "between 1 and 90"),
        ({"action": "approve", "valid_days": 91}, "valid_days", "between 1 and 90"),
        ({"action": "approve", "valid_days": "7"}, "valid_days", "must be an integer"),
        ({"action": "approve", "valid_days": 7.5}, "valid_days", "must be an integer"),
        ({"action": "approve", "valid_days": True}, "valid_days", "must be an integer"),
        (
            {"action": "approve", "valid_days": 7, "data_elements": ["registrant.fax"]},
            "data_elements",
            "only name elements the request asks for",
        ),
        (
            {"action": "approve", "valid_days": 7, "data_elements": ["registrant.email"]},
            "rationale",
            "partial approval",
        ),
        ({"action": "deny", "rationale": LONG_ENOUGH}, "reasons", "at least one reason"),
        (
            {"action": "deny", "reasons": ["dislike"], "rationale": LONG_ENOUGH},
            "reasons",
            "must be one of",
        ),
        ({"action": "deny", "reasons": ["other"], "rationale": "no"}, "rationale", "at least 30"),
        ({"action": "deny", "reasons": ["other"]}, "rationale", "at least 30"),
        (
            {"action": "deny", "reasons": ["other"], "rationale": LONG_ENOUGH, "valid_days": 3},
            "valid_days",
            "only when approving",
        ),
        ({"action": "request_information"}, "rationale", "what information"),
        ({"action": "publish"}, "action", "must be one of"),
        ({}, "action", "required"),
        (
            {
                "action": "deny",
                "reasons": ["other"],
                "rationale": LONG_ENOUGH,
                "balancing_test": {},
            },
            "balancing_test.interest",
            "required",
        ),
    ],
)
def test_each_decision_error(
    api: Api, db: Database, requester: Caller, staff: Caller, decision, field, message
) -> None:  # type: ignore[no-untyped-def]
    request_id = api.submit(requester).get_json()["id"]
    before = _state(api, db, request_id, staff)
    errors = _errors(api.decide(request_id, staff, **decision))
    assert field in errors, errors
    assert any(message in m for m in errors[field]), errors[field]
    assert _state(api, db, request_id, staff) == before


def test_partial_approval_and_denial_record_reasons(
    api: Api, db: Database, requester: Caller, staff: Caller
) -> None:
    first = api.submit(requester).get_json()["id"]
    partial = api.decide(
        first,
        staff,
        action="approve",
        valid_days=7,
        data_elements=["registrant.email"],
        reasons=["data_not_necessary"],
        rationale=LONG_ENOUGH,
    ).get_json()
    assert partial["status"] == "partially_approved"
    assert partial["decision"] == {"reasons": ["data_not_necessary"], "rationale": LONG_ENOUGH}
    second = api.submit(requester, domain="second.post").get_json()["id"]
    test = dict.fromkeys(("interest", "necessity", "impact", "safeguards", "outcome"), "considered")
    denied = api.decide(
        second,
        staff,
        action="deny",
        reasons=["rights_override", "insufficient_legal_basis", "rights_override"],
        rationale=LONG_ENOUGH,
        balancing_test=test,
    ).get_json()
    assert denied["status"] == "denied"
    assert denied["decision"]["reasons"] == ["insufficient_legal_basis", "rights_override"]
    assert denied["decision"]["balancing_test"] == test
    assert "grant" not in denied
    # The requester sees the decision and its reasons, not who on the staff decided.
    mine = api.get(f"/disclosure/requests/{second}", requester).get_json()
    assert mine["decision"]["rationale"] == LONG_ENOUGH
    assert mine["history"][-1]["actor"] == "staff"
    assert "decided_by" not in mine


def test_request_information_pauses_and_the_answer_resumes(
    api: Api, requester: Caller, staff: Caller, clock
) -> None:  # type: ignore[no-untyped-def]
    request_id = api.submit(requester).get_json()["id"]
    path = f"/disclosure/requests/{request_id}/information"
    assert api.post(path, requester, {"rationale": LONG_ENOUGH}).status_code == 409
    asked = api.decide(request_id, staff, action="request_information", rationale="Case number?")
    assert asked.get_json()["status"] == "information_requested"
    assert asked.get_json()["sla_paused"] is True
    assert _errors(api.post(path, requester, {"rationale": "IR-1"})) == {
        "rationale": ["must be at least 30 characters"]
    }
    assert api.decide(request_id, staff, action="approve", valid_days=7).status_code == 409
    clock.advance(hours=5)
    answered = api.post(
        path,
        requester,
        {
            "rationale": "Case IR-2026-117 of the national CERT; " + LONG_ENOUGH,
            "data_elements": ["registrant.email"],
        },
    ).get_json()
    assert answered["status"] == "acknowledged"
    assert answered["sla_paused"] is False
    assert answered["data_elements"] == ["registrant.email"]
    assert "Case IR-2026-117" in answered["rationale"]
    assert SUBMISSION["rationale"] in answered["rationale"]
    assert [h["action"] for h in answered["history"]] == [
        "submit",
        "request_information",
        "provide_information",
    ]
    assert answered["history"][1]["reason"] == "Case number?"
    assert "previous data elements" in answered["history"][2]["reason"]


def test_conflict_of_interest(
    api: Api, db: Database, requester: Caller, caller: MakeCaller
) -> None:
    request_id = api.submit(requester).get_json()["id"]
    colleague = caller("staff", org="  cert   a ")  # the requester's organisation, as typed
    independent = caller("staff", org="Registry Legal")
    before = _state(api, db, request_id, independent)
    for path, body in (
        ("decision", {"action": "approve", "valid_days": 7}),
        ("decision", {"action": "deny", "reasons": ["other"], "rationale": LONG_ENOUGH}),
        ("priority", {"priority": "standard", "rationale": "not urgent"}),
    ):
        refused = api.post(f"/disclosure/requests/{request_id}/{path}", colleague, body)
        assert refused.status_code == 403
        assert "conflict of interest" in refused.get_json()["description"][0]
    assert api.get(f"/disclosure/requests/{request_id}", colleague).status_code == 200
    assert _state(api, db, request_id, independent) == before
    assert api.decide(request_id, independent, action="approve", valid_days=7).status_code == 200


def test_cancel_and_revoke_rules(api: Api, requester: Caller, staff: Caller) -> None:
    request_id = api.submit(requester).get_json()["id"]
    assert api.post(f"/disclosure/requests/{request_id}/cancel", staff).status_code == 403
    cancelled = api.post(f"/disclosure/requests/{request_id}/cancel", requester)
    assert cancelled.get_json()["status"] == "cancelled"
    assert api.post(f"/disclosure/requests/{request_id}/cancel", requester).status_code == 409
    assert api.decide(request_id, staff, action="approve", valid_days=7).status_code == 409

    approved = api.decide(
        api.submit(requester).get_json()["id"], staff, action="approve", valid_days=7
    )
    grant_id = approved.get_json()["grant"]["id"]
    revoke = f"/disclosure/grants/{grant_id}/revoke"
    assert api.post(revoke, requester, {"reason": "mine"}).status_code == 403
    assert _errors(api.post(revoke, staff, {})) == {"reason": ["this field is required"]}
    assert (
        api.post(f"/disclosure/grants/{uuid.uuid4()}/revoke", staff, {"reason": "x"}).status_code
        == 404
    )
    assert api.post("/disclosure/grants/nope/revoke", staff, {"reason": "x"}).status_code == 404
    revoked = api.post(revoke, staff, {"reason": "misuse report"}).get_json()
    assert revoked["status"] == "revoked"
    assert revoked["grant"]["end_reason"] == "misuse report"
    assert api.post(revoke, staff, {"reason": "again"}).status_code == 409
