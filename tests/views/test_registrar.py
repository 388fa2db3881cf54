"""Registrar accuracy view: findings in RDAP remarks for the sponsor only; the paged report."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from rdap.db import Database
from rdap.models import Registrar
from tests import factories
from tests.registrar_api import Tokens, bearer, clean_domain, domain_with_bad_email

FINDING = "Accuracy finding: email: email_syntax"
SECRET_MARKERS = (b"Accuracy finding", b"email_syntax", b"Verification due by", b"broken..address")


@pytest.fixture
def other_registrar(db: Database) -> Registrar:
    with db.session_scope() as session:
        factories.bind(session)
        row = factories.RegistrarFactory(client_id="reg-b", iana_id=8888, name="Registrar B")
        session.flush()
        return row


@pytest.fixture
def tokens(db: Database, token_for, registrar: Registrar, other_registrar: Registrar) -> Tokens:  # type: ignore[no-untyped-def]
    return Tokens(db, token_for)


@pytest.fixture
def bad_domain(db: Database, registrar: Registrar) -> str:
    with db.session_scope() as session:
        return domain_with_bad_email(
            session, "bad.post", session.get(Registrar, registrar.id)
        ).ldh_name


def _registrant(body: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in body["entities"] if e.get("roles") == ["registrant"])


def _verification_lines(entity: dict[str, Any]) -> list[str]:
    remark = next(r for r in entity.get("remarks", []) if r["title"] == "Contact verification")
    lines: list[str] = remark["description"]
    return lines


# --- findings in RDAP remarks ---------------------------------------------------------------


def test_sponsor_sees_findings_and_verification_in_remarks(client, bad_domain, tokens) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/domain/{bad_domain}", headers=bearer(tokens["own"]))
    assert response.status_code == 200
    lines = _verification_lines(_registrant(response.get_json()))
    assert "Verification status: verified" in lines
    assert any(line.startswith("Verified on: ") for line in lines)
    assert any(line.startswith(FINDING) for line in lines)
    # the clean technical contact carries the remark without findings
    tech = next(e for e in response.get_json()["entities"] if e.get("roles") == ["technical"])
    assert not any(line.startswith("Accuracy finding") for line in _verification_lines(tech))


def test_staff_sees_findings(client, bad_domain, tokens) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"/domain/{bad_domain}", headers=bearer(tokens["staff"])).get_json()
    assert any(line.startswith(FINDING) for line in _verification_lines(_registrant(body)))


@pytest.mark.parametrize("who", [None, "foreign", "requester"])
def test_others_never_see_findings(client, bad_domain, tokens, who) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens[who]) if who else {}
    for path in (f"/domain/{bad_domain}",):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        for marker in SECRET_MARKERS:
            assert marker not in response.data
        for entity in response.get_json()["entities"]:
            titles = {r["title"] for r in entity.get("remarks", [])}
            assert "Contact verification" not in titles


def test_entity_lookup_shows_findings_only_to_the_sponsor(client, db, bad_domain, tokens) -> None:  # type: ignore[no-untyped-def]
    handle = _registrant(
        client.get(f"/domain/{bad_domain}", headers=bearer(tokens["own"])).get_json()
    )["handle"]
    own = client.get(f"/entity/{handle}", headers=bearer(tokens["own"]))
    assert any(line.startswith(FINDING) for line in _verification_lines(own.get_json()))
    for headers in ({}, bearer(tokens["foreign"])):
        other = client.get(f"/entity/{handle}", headers=headers)
        for marker in SECRET_MARKERS:
            assert marker not in other.data


# --- the report -----------------------------------------------------------------------------


def test_report_needs_a_token(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/registrar/accuracy")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["errorCode"] == 401


@pytest.mark.parametrize("who", ["staff", "requester"])
def test_report_is_for_registrars_only(client, tokens, who) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/registrar/accuracy", headers=bearer(tokens[who]))
    assert response.status_code == 403
    assert response.mimetype == "application/rdap+json"
    assert response.get_json()["errorCode"] == 403


def test_report_lists_own_domains_with_findings_only(  # type: ignore[no-untyped-def]
    client, db, registrar, other_registrar, tokens
) -> None:
    with db.session_scope() as session:
        own = session.get(Registrar, registrar.id)
        other = session.get(Registrar, other_registrar.id)
        domain_with_bad_email(session, "bad.post", own)
        clean_domain(session, "clean.post", own)
        domain_with_bad_email(session, "theirs.post", other)
    response = client.get("/registrar/accuracy", headers=bearer(tokens["own"]))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert [d["ldhName"] for d in body["domains"]] == ["bad.post"]
    assert "cursor" not in body
    contacts = body["domains"][0]["contacts"]
    assert [c["role"] for c in contacts] == ["registrant", "administrative", "technical"]
    registrant = contacts[0]
    assert registrant["verificationStatus"] == "verified"
    assert "verifiedAt" in registrant
    assert registrant["findings"] == [
        {"field": "email", "code": "email_syntax", "message": "not an RFC 5322 address (addr-spec)"}
    ]
    assert contacts[1]["findings"] == []
    assert b"broken..address" not in response.data  # findings never repeat values

    foreign = client.get("/registrar/accuracy", headers=bearer(tokens["foreign"])).get_json()
    assert [d["ldhName"] for d in foreign["domains"]] == ["theirs.post"]


def test_report_shows_stale_verification_with_due_date(client, db, registrar, tokens) -> None:  # type: ignore[no-untyped-def]
    with db.session_scope() as session:
        factories.full_domain(  # factory contacts changed after their last verification
            session, name="stale.post", registrar=session.get(Registrar, registrar.id)
        )
    body = client.get("/registrar/accuracy", headers=bearer(tokens["own"])).get_json()
    registrant = body["domains"][0]["contacts"][0]
    assert {"field": "verification", "code": "verification_stale"}.items() <= registrant[
        "findings"
    ][0].items()
    assert "verificationDueBy" in registrant


def test_report_pages_with_keyset_cursor(client, db, registrar, tokens) -> None:  # type: ignore[no-untyped-def]
    with db.session_scope() as session:
        own = session.get(Registrar, registrar.id)
        for i in range(5):
            domain_with_bad_email(session, f"bad{i}.post", own)
            clean_domain(session, f"bad{i}-clean.post", own)
    seen: list[str] = []
    url = "/registrar/accuracy?count=2"
    pages = 0
    while url:
        response = client.get(url, headers=bearer(tokens["own"]))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["domains"]) <= 2
        seen.extend(d["ldhName"] for d in body["domains"])
        pages += 1
        if "cursor" in body:
            href = body["links"][0]["href"]
            assert body["links"][0]["rel"] == "next"
            parts = urlsplit(href)
            assert parse_qs(parts.query)["cursor"] == [body["cursor"]]
            url = f"{parts.path}?{parts.query}"
        else:
            url = ""
    assert pages == 3
    assert seen == [f"bad{i}.post" for i in range(5)]


def test_report_limit_is_an_alias_of_count_and_is_bounded(
    client, db, registrar, app, tokens
) -> None:  # type: ignore[no-untyped-def]
    with db.session_scope() as session:
        own = session.get(Registrar, registrar.id)
        for i in range(3):
            domain_with_bad_email(session, f"x{i}.post", own)
    body = client.get("/registrar/accuracy?limit=1", headers=bearer(tokens["own"])).get_json()
    assert len(body["domains"]) == 1
    assert "cursor" in body
    many = client.get("/registrar/accuracy?count=100000", headers=bearer(tokens["own"]))
    assert many.status_code == 200
    assert app.extensions["rdapd"].settings.search_page_size >= len(many.get_json()["domains"])


@pytest.mark.parametrize("count", ["0", "-1", "abc", "1e3", "２", "9999999"])
def test_report_rejects_bad_counts(client, tokens, count) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/registrar/accuracy?count={count}", headers=bearer(tokens["own"]))
    assert response.status_code == 400
    assert response.get_json()["errorCode"] == 400


def _first_cursor(client, db, registrar, token) -> str:  # type: ignore[no-untyped-def]
    with db.session_scope() as session:
        own = session.get(Registrar, registrar.id)
        for i in range(2):
            domain_with_bad_email(session, f"c{i}.post", own)
    body = client.get("/registrar/accuracy?count=1", headers=bearer(token)).get_json()
    cursor: str = body["cursor"]
    return cursor


def _tamper(cursor: str) -> str:
    body, mac = cursor.split(".")
    import base64

    payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["k"]["after"] = ""
    forged = base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")
    return f"{forged}.{mac}"


@pytest.mark.parametrize(
    "forge",
    [
        _tamper,
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),
        lambda c: c.split(".")[0],
        lambda c: "not-a-cursor",
        lambda c: "%%%.%%%",
        lambda c: "x" * 5000,
        lambda c: "' OR 1=1--",
    ],
)
def test_forged_cursor_is_400(client, db, registrar, tokens, forge) -> None:  # type: ignore[no-untyped-def]
    cursor = _first_cursor(client, db, registrar, tokens["own"])
    response = client.get(
        "/registrar/accuracy", query_string={"cursor": forge(cursor)}, headers=bearer(tokens["own"])
    )
    assert response.status_code == 400
    assert response.get_json()["errorCode"] == 400


def test_cursor_of_another_registrar_is_400(client, db, registrar, tokens) -> None:  # type: ignore[no-untyped-def]
    cursor = _first_cursor(client, db, registrar, tokens["own"])
    response = client.get(
        "/registrar/accuracy", query_string={"cursor": cursor}, headers=bearer(tokens["foreign"])
    )
    assert response.status_code == 400
