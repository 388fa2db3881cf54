"""End to end over HTTP with real tokens: submit → partial approval → the requester's RDAP shows
exactly the granted elements of that domain → expiry and revocation restore the public view;
every step is in the audit log and `rdapd audit verify` holds."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from rdap.db import Database
from rdap.models import AuditEntry
from tests import factories
from tests.disclosure_fixtures import Accredit, Api, FrozenClock, MakeCaller

PURPOSE = "criminalInvestigationAndDNSAbuseMitigation"
RATIONALE = "Name and email identify the operator; the phone number is not needed for that."


@pytest.fixture
def domains(db: Database) -> None:
    with db.session_scope() as session:
        factories.full_domain(session, name="target.post", registrant_kind="natural")
        factories.full_domain(session, name="other.post", registrant_kind="natural")


def _registrant(body: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in body["entities"] if e["roles"] == ["registrant"])


def _props(body: dict[str, Any]) -> dict[str, list[Any]]:
    return {p[0]: p for p in _registrant(body)["vcardArray"][1]}


def _redacted_names(body: dict[str, Any]) -> set[str]:
    return {r["name"].get("type") or r["name"].get("description") for r in body["redacted"]}


def _public_view(client: Any, path: str, headers: dict[str, str]) -> bool:
    mine = client.get(path, headers=headers)
    public = client.get(path)  # links carry the request URL: compare at the same URL
    assert mine.status_code == public.status_code == 200
    body, anonymous = mine.get_json(), public.get_json()
    if "Disclosure" in {n["title"] for n in body.get("notices", [])}:
        return False
    return {k: v for k, v in body.items() if k != "notices"} == {
        k: v for k, v in anonymous.items() if k != "notices"
    }


def _events(db: Database) -> list[tuple[str, str | None, str | None]]:
    with db.read_scope() as session:
        rows = session.execute(
            select(AuditEntry.event, AuditEntry.request_id, AuditEntry.grant_id).order_by(
                AuditEntry.seq
            )
        ).all()
    return [tuple(r) for r in rows]


def test_grant_lifecycle_over_http(
    app, client, db, domains, clock: FrozenClock, accredit: Accredit, caller: MakeCaller, api: Api
) -> None:
    purposes = (PURPOSE, "legalActions")
    requester = caller(accreditation=accredit("CERT A", purposes=purposes))
    other_requester = caller(accreditation=accredit("CERT B", purposes=purposes))
    staff = caller("staff")

    # Submit: complete, acknowledged at once, due in 72 hours.
    submitted = api.submit(requester, domain="TARGET.post", purpose=PURPOSE)
    assert submitted.status_code == 201, submitted.get_json()
    request = submitted.get_json()
    request_id = request["id"]
    assert submitted.headers["Location"].endswith(f"/disclosure/requests/{request_id}")
    assert request["status"] == "acknowledged"
    assert request["domain"] == "target.post"
    assert request["priority"] == "standard"
    assert request["history"][0]["to"] == "acknowledged"

    # Staff approve two of the three elements for 7 days.
    decided = api.decide(
        request_id,
        staff,
        action="approve",
        data_elements=["registrant.name", "registrant.email"],
        valid_days=7,
        rationale=RATIONALE,
    )
    assert decided.status_code == 200, decided.get_json()
    grant = decided.get_json()["grant"]
    assert decided.get_json()["status"] == "partially_approved"
    assert grant["data_elements"] == ["registrant.name", "registrant.email"]

    # The requester, stating the request's purpose, sees exactly those two for that domain.
    path = f"/domain/target.post?farv1_qp={PURPOSE}"
    answer = client.get(path, headers=requester.headers)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "private, no-store"
    body = answer.get_json()
    props = _props(body)
    assert props["fn"][3] == "Registrant Person"
    assert props["email"][3] == "registrant@mail.example"
    assert "tel" not in props
    names = _redacted_names(body)
    assert "Registrant Phone" in names
    assert not {"Registrant Name", "Registrant Email"} & names
    notices = [n for n in body["notices"] if n["title"] == "Disclosure"]
    assert len(notices) == 1
    assert request_id in notices[0]["description"][0]
    assert notices[0]["links"][0]["href"].endswith(f"/disclosure/requests/{request_id}")
    # Other contacts of the same domain stay public.
    tech = next(e for e in body["entities"] if e["roles"] == ["technical"])
    assert {p[0]: p for p in tech["vcardArray"][1]}["fn"][3] == ""

    # Everything else stays the public view.
    assert _public_view(client, f"/domain/other.post?farv1_qp={PURPOSE}", requester.headers)
    assert _public_view(client, "/domain/target.post?farv1_qp=legalActions", requester.headers)
    assert _public_view(client, "/domain/target.post", requester.headers)
    assert _public_view(client, path, other_requester.headers)
    search = client.get(f"/domains?name=target*&farv1_qp={PURPOSE}", headers=requester.headers)
    assert search.status_code == 200
    assert "registrant@mail.example" not in search.get_data(as_text=True)
    full = client.get("/domain/target.post", headers=staff.headers).get_json()
    handle = _registrant(full)["handle"]
    assert _public_view(client, f"/entity/{handle}?farv1_qp={PURPOSE}", requester.headers)

    # Past expiry: public again, and the request says so.
    clock.advance(days=7, seconds=1)
    assert _public_view(client, path, requester.headers)
    expired = api.get(f"/disclosure/requests/{request_id}", requester).get_json()
    assert expired["status"] == "expired"
    assert [h["to"] for h in expired["history"]] == [
        "acknowledged",
        "partially_approved",
        "expired",
    ]

    # Revocation likewise: a new request, approved in full, then revoked by staff.
    second = api.submit(requester, data_elements=["registrant.email"]).get_json()["id"]
    approved = api.decide(second, staff, action="approve", valid_days=30).get_json()
    assert approved["status"] == "approved"
    assert _props(client.get(path, headers=requester.headers).get_json())["email"][3]
    revoked = api.post(
        f"/disclosure/grants/{approved['grant']['id']}/revoke", staff, {"reason": "misuse report"}
    )
    assert revoked.status_code == 200
    assert revoked.get_json()["status"] == "revoked"
    assert _public_view(client, path, requester.headers)

    # Every step is in the audit log, and the chain holds.
    events = _events(db)
    assert (("request.submit", request_id, None)) in events
    assert ("request.approve_partially", request_id, grant["id"]) in events
    assert ("disclosure.answer", request_id, grant["id"]) in events
    assert ("request.grant_expiry", request_id, grant["id"]) in events
    assert ("request.approve", second, approved["grant"]["id"]) in events
    assert ("request.revoke_grant", second, approved["grant"]["id"]) in events
    answers = [e for e in events if e[0] == "disclosure.answer"]
    assert len(answers) == 2  # one per answer that disclosed; public answers are not logged
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "audit chain intact" in result.output

    # One disclosure entry edited in the database (tests/test_audit.py also deletes, swaps and
    # edits every kind of column): verify fails and names it.
    with db.read_scope() as session:
        seq = session.scalar(
            select(AuditEntry.seq).where(AuditEntry.event == "disclosure.answer").limit(1)
        )
    with db.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entries SET actor = 'nobody' WHERE seq = :seq"), {"seq": seq}
        )
    broken = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"entry {seq} was altered" in broken.stderr
