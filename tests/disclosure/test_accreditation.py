"""Accreditations and their clients: the command line, and what revocation, expiry and
suspension do to tokens, open requests and grants (at the next request, in one transaction)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from rdap.db import Database
from rdap.disclosure import service
from rdap.models import AuditEntry, DisclosureGrant, OAuthClient
from tests import factories
from tests.disclosure_fixtures import (
    OPERATOR,
    START,
    Accredit,
    Api,
    Caller,
    FrozenClock,
    MakeCaller,
    context,
)

PURPOSE = "criminalInvestigationAndDNSAbuseMitigation"
PATH = f"/domain/target.post?farv1_qp={PURPOSE}"


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def domains(db: Database) -> None:
    with db.session_scope() as session:
        factories.full_domain(session, name="target.post", registrant_kind="natural")
        factories.full_domain(session, name="second.post", registrant_kind="natural")


def _create(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["accreditation", "create", *args])


BASE = ["--org", "Example CERT", "--type", "cybersecurity", "--jurisdiction", "ch"]


def test_create_and_list(runner, clock: FrozenClock) -> None:  # type: ignore[no-untyped-def]
    result = _create(
        runner,
        *BASE,
        "--purposes",
        f"{PURPOSE},legalActions",
        "--valid-until",
        "2099-01-31",
        "--verification-method",
        "national-authority",
        "--verified-by",
        "Federal Office X",
        "--evidence",
        "sha256:ab12",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    created = json.loads(result.output)
    assert created["accreditation_id"].startswith("acc-")
    assert created["organisation"] == "Example CERT"
    assert created["type"] == "cybersecurity"
    assert created["jurisdiction"] == "CH"
    assert created["purposes"] == [PURPOSE, "legalActions"]
    assert created["status"] == "active"
    assert created["valid_until"] == "2099-02-01T00:00:00Z"  # through the whole last day
    assert created["verification"]["method"] == "national-authority"
    assert created["verification"]["verified_by"] == "Federal Office X"
    assert created["verification"]["reference"] == "sha256:ab12"
    listed = json.loads(runner.invoke(args=["accreditation", "list", "--json"]).output)
    assert [a["accreditation_id"] for a in listed] == [created["accreditation_id"]]
    shown = runner.invoke(args=["accreditation", "show", created["accreditation_id"]])
    assert json.loads(shown.output) == created
    assert runner.invoke(args=["accreditation", "show", "acc-nope"]).exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*BASE, "--purposes", "curiosity"], "unknown purpose"),
        ([*BASE, "--purposes", ","], "at least one purpose"),
        (
            ["--org", "X", "--type", "ip", "--jurisdiction", "ZZ", "--purposes", "legalActions"],
            "ISO 3166",
        ),
        (
            ["--org", " ", "--type", "ip", "--jurisdiction", "DE", "--purposes", "legalActions"],
            "organisation name",
        ),
        ([*BASE, "--purposes", "legalActions", "--valid-until", "2001-01-01"], "in the future"),
    ],
)
def test_bad_accreditation_input(runner, clock, args, message) -> None:  # type: ignore[no-untyped-def]
    result = _create(runner, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_clients_follow_their_accreditation(runner, accredit: Accredit, clock) -> None:  # type: ignore[no-untyped-def]
    cert = accredit("CERT", purposes=(PURPOSE, "legalActions"))
    police = accredit("Police", org_type="law-enforcement", purposes=(PURPOSE,))

    def create(*args: str) -> Any:
        return runner.invoke(args=["client", "create", "--name", "tool", *args])

    made = create("--role", "requester", "--accreditation", cert, "--json")
    assert made.exit_code == 0, made.stderr
    out = json.loads(made.output)
    assert out["accreditation_id"] == cert
    assert out["allowed_purposes"] == sorted([PURPOSE, "legalActions"])
    narrowed = create(
        "--role", "requester", "--accreditation", cert, "--purpose", "legalActions", "--json"
    )
    assert json.loads(narrowed.output)["allowed_purposes"] == ["legalActions"]
    assert create("--role", "law-enforcement", "--accreditation", police).exit_code == 0
    assert create("--role", "staff", "--org", "Registry Legal").exit_code == 0
    for args, message in (
        (
            ("--role", "law-enforcement", "--accreditation", cert),
            "needs a law-enforcement accreditation",
        ),
        (
            ("--role", "requester", "--accreditation", cert, "--purpose", "dnsTransparency"),
            "not one of",
        ),
        (
            ("--role", "requester", "--accreditation", cert, "--urgent-allowed"),
            "law-enforcement clients only",
        ),
        (("--role", "requester", "--accreditation", cert, "--org", "X"), "--org is for staff"),
        (("--role", "staff", "--accreditation", cert), "for requester and law-enforcement"),
    ):
        refused = create(*args)
        assert refused.exit_code == 2, args
        assert message in refused.stderr
    assert runner.invoke(args=["accreditation", "revoke", police]).exit_code == 0
    refused = create("--role", "law-enforcement", "--accreditation", police)
    assert "revoked, not active" in refused.stderr


def _three_requests(api: Api, requester: Caller, staff: Caller) -> tuple[str, str, str]:
    open_id = api.submit(requester).get_json()["id"]
    waiting = api.submit(requester, domain="second.post").get_json()["id"]
    api.decide(waiting, staff, action="request_information", rationale="Which campaign?")
    granted = api.submit(requester, data_elements=["registrant.email"]).get_json()["id"]
    api.decide(granted, staff, action="approve", valid_days=30)
    return open_id, waiting, granted


def test_revocation_cascades_at_once_in_one_transaction(
    app, runner, api: Api, db: Database, domains, accredit: Accredit, caller: MakeCaller, clock
) -> None:  # type: ignore[no-untyped-def]
    accreditation = accredit("CERT A")
    requester = caller(accreditation=accreditation)
    staff = caller("staff")
    open_id, waiting, granted = _three_requests(api, requester, staff)
    shown = api.client.get(PATH, headers=requester.headers).get_json()
    assert any(n["title"] == "Disclosure" for n in shown["notices"])

    result = runner.invoke(args=["accreditation", "revoke", accreditation, "--reason", "misuse"])
    assert result.exit_code == 0, result.stderr
    assert "3 request(s)" in result.output

    # The still-valid token fails at its next use, on RDAP and on the API.
    assert api.client.get(PATH, headers=requester.headers).status_code == 401
    assert api.get(f"/disclosure/requests/{granted}", requester).status_code == 401
    states = {
        rid: api.get(f"/disclosure/requests/{rid}", staff).get_json()
        for rid in (open_id, waiting, granted)
    }
    assert states[open_id]["status"] == "cancelled"
    assert states[waiting]["status"] == "cancelled"
    assert states[waiting]["sla_paused"] is False
    assert states[granted]["status"] == "revoked"
    assert states[granted]["grant"]["end_reason"] == "accreditation_revoked"
    for state in states.values():
        last = state["history"][-1]
        assert last["reason"] == "accreditation_revoked"
        assert last["actor"] == "operator:tester" or last["actor"].startswith("operator:")
    with db.read_scope() as session:
        clients = session.scalars(
            select(OAuthClient.status).where(OAuthClient.client_id == requester.client_id)
        ).all()
        assert clients == ["revoked"]
        events = session.scalars(select(AuditEntry.event).order_by(AuditEntry.seq)).all()
    assert events[-4:] == ["accreditation.revoked", *["request.accreditation_ended"] * 3]
    again = runner.invoke(args=["accreditation", "revoke", accreditation])
    assert again.exit_code == 2
    assert "already revoked" in again.stderr
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_failed_cascade_changes_nothing(
    api: Api, db: Database, domains, accredit: Accredit, caller: MakeCaller, clock, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    accreditation = accredit("CERT A")
    requester = caller(accreditation=accreditation)
    _three_requests(api, requester, caller("staff"))
    before = api.get("/disclosure/requests", requester).get_json()

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "_end_grant", fail)
    with pytest.raises(RuntimeError), context(db, clock.now) as ctx:
        service.revoke_accreditation(ctx, accreditation, "misuse", OPERATOR)
    monkeypatch.undo()
    assert api.get("/disclosure/requests", requester).get_json() == before
    assert api.client.get(PATH, headers=requester.headers).status_code == 200


def test_expiry_holds_at_the_next_request_and_cascades(
    runner,
    api: Api,
    db: Database,
    domains,
    accredit: Accredit,
    caller: MakeCaller,
    clock: FrozenClock,
) -> None:
    accreditation = accredit("CERT A", valid_until=START.replace(microsecond=0) + _days(10))
    requester = caller(accreditation=accreditation)
    staff = caller("staff")
    open_id, _waiting, granted = _three_requests(api, requester, staff)
    grant = api.get(f"/disclosure/requests/{granted}", staff).get_json()["grant"]
    assert grant["valid_until"] == _iso(START + _days(10))  # never beyond the accreditation

    clock.advance(days=10)
    refused = api.client.get(PATH, headers=requester.headers)
    assert refused.status_code == 403
    assert "accreditation_expired" in refused.get_json()["description"][0]
    assert api.get(f"/disclosure/requests/{open_id}", requester).status_code == 403
    states = {r["id"]: r for r in api.get("/disclosure/requests", staff).get_json()["requests"]}
    assert states[open_id]["status"] == "cancelled"
    assert states[open_id]["history"][-1]["reason"] == "accreditation_expired"
    assert states[granted]["status"] == "expired"
    listed = json.loads(runner.invoke(args=["accreditation", "list", "--json"]).output)
    assert listed[0]["status"] == "expired"
    # Expiry keeps the clients (they get 403 accreditation_expired, not 401).
    with db.read_scope() as session:
        assert (
            session.scalars(
                select(OAuthClient.status).where(OAuthClient.client_id == requester.client_id)
            ).one()
            == "active"
        )
        assert session.scalars(select(DisclosureGrant.ended_at)).all() == [START + _days(10)]
    renew = runner.invoke(
        args=["accreditation", "renew", accreditation, "--valid-until", "2099-01-01"]
    )
    assert renew.exit_code == 2
    assert "expired accreditation cannot be renewed" in renew.stderr


def test_suspension_stops_disclosure_until_reactivated(
    runner, api: Api, domains, accredit: Accredit, caller: MakeCaller, clock
) -> None:  # type: ignore[no-untyped-def]
    accreditation = accredit("CERT A")
    requester = caller(accreditation=accreditation)
    staff = caller("staff")
    granted = api.submit(requester, data_elements=["registrant.email"]).get_json()["id"]
    api.decide(granted, staff, action="approve", valid_days=30)

    def disclosed() -> bool:
        body = api.client.get(PATH, headers=requester.headers).get_json()
        return any(n["title"] == "Disclosure" for n in body.get("notices", []))

    assert disclosed()
    assert (
        runner.invoke(args=["accreditation", "suspend", accreditation, "--reason", "x"]).exit_code
        == 0
    )
    assert not disclosed()
    assert api.get(f"/disclosure/requests/{granted}", requester).get_json()["status"] == "approved"
    assert (
        runner.invoke(args=["accreditation", "suspend", accreditation, "--reason", "x"]).exit_code
        == 2
    )
    assert runner.invoke(args=["accreditation", "reactivate", accreditation]).exit_code == 0
    assert disclosed()
    renewed = runner.invoke(
        args=["accreditation", "renew", accreditation, "--valid-until", "2099-06-30"]
    )
    assert renewed.exit_code == 0, renewed.stderr


def _days(n: int) -> Any:
    import datetime as dt

    return dt.timedelta(days=n)


def _iso(moment: Any) -> str:
    return str(moment.isoformat(timespec="seconds")).replace("+00:00", "Z")
