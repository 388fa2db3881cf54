"""Inaccuracy complaints: submit (anyone) → routed to the sponsor; list and close; hostile input."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from rdap import create_app
from rdap.db import Database
from rdap.models import Complaint, Registrar
from rdap.settings import Settings
from tests import factories
from tests.registrar_api import Tokens, bearer, documented, policy_variant
from tests.snapshot import Snapshot, built_once, restored

REPORTER = "whistle.blower@reporter.example"
REPORTER_DECLARED = {
    "name": {"description": "Reporter Email"},
    "prePath": "$.complaints[0].reporterEmail",
    "pathLang": "jsonpath",
    "method": "removal",
    "reason": {"description": "Personal data (GDPR / Registration Data Policy)"},
}


def _build(db: Database) -> dict[str, int]:
    """The OAuth fixtures' registrar (reg-a, IANA 9999) with two domains, another registrar
    (reg-b, IANA 8888) with one."""
    with db.session_scope() as session:
        own = Registrar(client_id="reg-a", iana_id=9999, name="Registrar A", status="ok", street=[])
        session.add(own)
        factories.bind(session)
        other = factories.RegistrarFactory(client_id="reg-b", iana_id=8888, name="Registrar B")
        factories.full_domain(session, name="own.post", registrar=own)
        factories.full_domain(session, name="theirs.post", registrar=other)
        factories.full_domain(
            session, name="xn--bcher-kva.post", unicode_name="bücher.post", registrar=own
        )
        return {"own_id": own.id, "other_id": other.id}


@pytest.fixture(scope="module")
def _registry(migrated_url: str) -> Snapshot[dict[str, int]]:
    return built_once(migrated_url, _build)


@pytest.fixture
def registrar(db: Database, _registry: Snapshot[dict[str, int]]) -> Registrar:
    """The OAuth fixtures' registrar, restored with the registry around it."""
    ids = restored(db, _registry)
    with db.session_scope() as session:
        row = session.get(Registrar, ids["own_id"])
        assert row is not None
        session.expunge(row)
        return row


@pytest.fixture
def setup(db: Database, token_for, registrar: Registrar, _registry) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    ids = _registry.value
    return {"own_id": ids["own_id"], "other_id": ids["other_id"], "tokens": Tokens(db, token_for)}


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "domain": "own.post",
        "fields": ["registrant.email", "registrant.voice"],
        "description": "The registrant's e-mail bounces and the phone number is not in service.",
        "reporterEmail": REPORTER,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit(client, **overrides: Any):  # type: ignore[no-untyped-def]
    return client.post("/complaints", json=body(**overrides))


def stored(db: Database, complaint_id: str) -> Complaint:
    with db.session_scope() as session:
        row = session.get(Complaint, complaint_id)
        assert row is not None
        session.expunge(row)
        return row


# --- submit ---------------------------------------------------------------------------------


def test_submit_routes_to_the_sponsor(client, db, setup) -> None:  # type: ignore[no-untyped-def]
    response = submit(client)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    answer = response.get_json()
    assert answer["status"] == "open"
    assert answer["domain"] == "own.post"
    assert response.headers["Location"] == answer["links"][0]["href"]
    assert answer["links"][0]["href"].endswith(f"/complaints/{answer['id']}")
    assert REPORTER not in response.get_data(as_text=True)
    row = stored(db, answer["id"])
    # Routed by values that outlive registry rows (no foreign key into them).
    assert (row.registrar_client_id, row.registrar_iana_id) == ("reg-a", 9999)
    assert row.domain_roid is not None
    assert row.fields == ["registrant.email", "registrant.voice"]
    assert row.reporter_email == REPORTER
    assert len(answer["id"]) >= 22

    foreign = submit(client, domain="THEIRS.post.").get_json()
    assert stored(db, foreign["id"]).registrar_client_id == "reg-b"


def test_status_url_shows_state_only(client, setup) -> None:  # type: ignore[no-untyped-def]
    answer = submit(client).get_json()
    status = client.get(f"/complaints/{answer['id']}")
    assert status.status_code == 200
    data = status.get_json()
    assert data["status"] == "open"
    assert "description" not in data
    assert REPORTER not in status.get_data(as_text=True)


def test_unicode_domain_is_normalised(client, db, setup) -> None:  # type: ignore[no-untyped-def]
    answer = submit(client, domain="Bücher.post").get_json()
    assert answer["domain"] == "xn--bcher-kva.post"


def test_unknown_domain_is_404_rdap_error(client, setup) -> None:  # type: ignore[no-untyped-def]
    response = submit(client, domain="nothing-here.post")
    assert response.status_code == 404
    assert response.mimetype == "application/rdap+json"
    assert response.get_json()["errorCode"] == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"domain": None}, "domain"),
        ({"domain": "not a domain"}, "domain"),
        ({"domain": "a" * 2000}, "domain"),
        ({"domain": 42}, "domain"),
        ({"fields": None}, "fields"),
        ({"fields": []}, "fields"),
        ({"fields": ["registrant.shoe_size"]}, "fields"),
        ({"fields": "registrant.email"}, "fields"),
        ({"description": None}, "description"),
        ({"description": ""}, "description"),
        ({"description": "x" * 5001}, "description"),
        ({"description": "nul \x00 byte"}, "description"),
        ({"reporterEmail": "not-an-address"}, "reporterEmail"),
        ({"reporterEmail": ""}, "reporterEmail"),
        ({"reporterEmail": {"$ne": None}}, "reporterEmail"),
    ],
)
def test_field_level_errors(client, setup, overrides, field) -> None:  # type: ignore[no-untyped-def]
    response = submit(client, **overrides)
    assert response.status_code == 400
    assert response.mimetype == "application/rdap+json"
    error = response.get_json()
    assert error["errorCode"] == 400
    assert field in error["description"][0]


def test_unknown_members_are_400_and_not_echoed(client, setup) -> None:  # type: ignore[no-untyped-def]
    hostile = "\x1b[31m<script>alert(1)</script>\r\nX-Injected: yes"
    response = client.post("/complaints", json={**body(), hostile: "x"})
    assert response.status_code == 400
    assert b"<script>" not in response.data
    assert b"alert" not in response.data
    assert b"Injected" not in response.data
    assert "(unknown field)" in response.get_json()["description"][0]


def test_optional_reporter_email(client, db, setup) -> None:  # type: ignore[no-untyped-def]
    response = submit(client, reporterEmail=None)
    assert response.status_code == 201
    assert stored(db, response.get_json()["id"]).reporter_email is None


# --- list -----------------------------------------------------------------------------------


def test_registrar_lists_its_own_open_complaints_without_reporter(client, setup) -> None:  # type: ignore[no-untyped-def]
    mine = submit(client).get_json()["id"]
    theirs = submit(client, domain="theirs.post").get_json()["id"]
    response = client.get("/registrar/complaints", headers=bearer(setup["tokens"]["own"]))
    assert response.status_code == 200
    listed = response.get_json()["complaints"]
    assert [c["id"] for c in listed] == [mine]
    assert listed[0]["description"].startswith("The registrant's e-mail bounces")
    assert listed[0]["fields"] == ["registrant.email", "registrant.voice"]
    assert REPORTER.encode() not in response.data
    assert "reporterEmail" not in listed[0]
    # left out by policy (reporter.email), and declared as RDAP answers declare it
    assert response.get_json()["redacted"] == [REPORTER_DECLARED]
    other = client.get("/registrar/complaints", headers=bearer(setup["tokens"]["foreign"]))
    assert [c["id"] for c in other.get_json()["complaints"]] == [theirs]
    assert REPORTER.encode() not in other.data


def test_staff_lists_all_with_reporter(client, setup) -> None:  # type: ignore[no-untyped-def]
    ids = [submit(client).get_json()["id"], submit(client, domain="theirs.post").get_json()["id"]]
    listed = client.get(
        "/registrar/complaints", headers=bearer(setup["tokens"]["staff"])
    ).get_json()
    assert sorted(c["id"] for c in listed["complaints"]) == sorted(ids)
    assert {c["reporterEmail"] for c in listed["complaints"]} == {REPORTER}
    assert "redacted" not in listed


def test_reporter_email_never_in_rdap_output(client, setup) -> None:  # type: ignore[no-untyped-def]
    submit(client)
    for headers in ({}, bearer(setup["tokens"]["own"]), bearer(setup["tokens"]["staff"])):
        response = client.get("/domain/own.post", headers=headers)
        assert response.status_code == 200
        assert REPORTER.encode() not in response.data


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("requester", 403)])
def test_list_needs_registrar_or_staff(client, setup, who, status) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(setup["tokens"][who]) if who else {}
    response = client.get("/registrar/complaints", headers=headers)
    assert response.status_code == status
    assert response.get_json()["errorCode"] == status
    if status == 401:
        assert "WWW-Authenticate" in response.headers


def test_list_pages(client, setup) -> None:  # type: ignore[no-untyped-def]
    ids = [submit(client).get_json()["id"] for _ in range(5)]
    seen: list[str] = []
    url = "/registrar/complaints?count=2"
    while url:
        page = client.get(url, headers=bearer(setup["tokens"]["own"])).get_json()
        assert len(page["complaints"]) <= 2
        seen.extend(c["id"] for c in page["complaints"])
        url = page["links"][0]["href"].split("localhost", 1)[1] if "cursor" in page else ""
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 5
    forged = client.get(
        "/registrar/complaints",
        query_string={"cursor": "e30.AAAA"},
        headers=bearer(setup["tokens"]["own"]),
    )
    assert forged.status_code == 400


def test_list_cursor_is_bound_to_the_caller(client, setup) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        submit(client)
    cursor = client.get(
        "/registrar/complaints?count=1", headers=bearer(setup["tokens"]["own"])
    ).get_json()["cursor"]
    for who in ("foreign", "staff"):
        response = client.get(
            "/registrar/complaints",
            query_string={"cursor": cursor},
            headers=bearer(setup["tokens"][who]),
        )
        assert response.status_code == 400


# --- close ----------------------------------------------------------------------------------


def close(client, complaint_id: str, token: str | None, **payload: Any):  # type: ignore[no-untyped-def]
    data = {"resolution": "corrected", "note": "Registrant updated the address."}
    data.update(payload)
    headers = bearer(token) if token else {}
    return client.post(f"/registrar/complaints/{complaint_id}/close", json=data, headers=headers)


def test_sponsor_closes_once(client, db, setup) -> None:  # type: ignore[no-untyped-def]
    complaint_id = submit(client).get_json()["id"]
    response = close(client, complaint_id, setup["tokens"]["own"])
    assert response.status_code == 200
    closed = response.get_json()
    assert closed["status"] == "closed"
    assert closed["resolution"] == "corrected"
    assert "reporterEmail" not in closed
    assert closed["redacted"] == [{**REPORTER_DECLARED, "prePath": "$.reporterEmail"}]
    row = stored(db, complaint_id)
    assert row.status == "closed"
    assert row.closed_at is not None
    assert row.closed_by is not None
    assert row.closed_by.startswith("rdapd-")
    again = close(client, complaint_id, setup["tokens"]["own"])
    assert again.status_code == 409
    assert again.get_json()["errorCode"] == 409
    # closed complaints leave the registrar's list; staff still sees them
    assert (
        client.get("/registrar/complaints", headers=bearer(setup["tokens"]["own"])).get_json()[
            "complaints"
        ]
        == []
    )
    staff = client.get("/registrar/complaints", headers=bearer(setup["tokens"]["staff"])).get_json()
    assert staff["complaints"][0]["status"] == "closed"
    assert client.get(f"/complaints/{complaint_id}").get_json()["resolution"] == "corrected"


def test_another_registrar_gets_the_unknown_id_404(client, db, setup) -> None:  # type: ignore[no-untyped-def]
    complaint_id = submit(client).get_json()["id"]
    foreign = close(client, complaint_id, setup["tokens"]["foreign"])
    unknown = close(client, "A" * len(complaint_id), setup["tokens"]["foreign"])
    malformed = close(client, "1%27%20OR%201%3D1--", setup["tokens"]["foreign"])
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.data == unknown.data
    assert foreign.headers["Content-Type"] == unknown.headers["Content-Type"]
    assert malformed.status_code == 404
    assert stored(db, complaint_id).status == "open"


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("staff", 403), ("requester", 403)])
def test_close_is_for_registrars(client, setup, who, status) -> None:  # type: ignore[no-untyped-def]
    complaint_id = submit(client).get_json()["id"]
    response = close(client, complaint_id, setup["tokens"][who] if who else None)
    assert response.status_code == status


@pytest.mark.parametrize(
    "payload", [{"resolution": "shrug"}, {"resolution": None}, {"note": "x" * 2001}]
)
def test_close_validates_its_body(client, setup, payload) -> None:  # type: ignore[no-untyped-def]
    complaint_id = submit(client).get_json()["id"]
    response = close(client, complaint_id, setup["tokens"]["own"], **payload)
    assert response.status_code == 400


# --- hostile input --------------------------------------------------------------------------


def test_huge_body_is_413(client, setup) -> None:  # type: ignore[no-untyped-def]
    huge = orjson.dumps(body(description="x" * (10 * 1024 * 1024)))
    response = client.post("/complaints", data=huge, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["errorCode"] == 413


def test_huge_body_without_length_is_413(client, setup) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/complaints",
        input_stream=io.BytesIO(b" " * (64 * 1024)),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets for chunked bodies
    )
    assert response.status_code == 413


@pytest.mark.parametrize("depth", [100, 10_000])
def test_deeply_nested_json_is_400(client, setup, depth) -> None:  # type: ignore[no-untyped-def]
    nested = b'{"domain": ' + b"[" * depth + b"]" * depth + b"}"
    response = client.post("/complaints", data=nested, content_type="application/json")
    assert response.status_code in (400, 413)
    assert response.get_json()["errorCode"] == response.status_code


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b"", b"\xff\xfe", b'{"description": "\\ud800"}', b"[]", b"null", b'"s"'],
)
def test_malformed_json_is_400(client, setup, raw) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/complaints", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/rdap+json"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/xml", None],
)  # fmt: skip
def test_wrong_content_type_is_415(client, setup, content_type) -> None:  # type: ignore[no-untyped-def]
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/complaints", data=orjson.dumps(body()), headers=headers)
    assert response.status_code == 415
    assert response.get_json()["errorCode"] == 415


def test_json_with_charset_is_accepted(client, setup) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/complaints",
        data=orjson.dumps(body()),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


def test_control_characters_are_stored_verbatim_and_json_stays_valid(client, db, setup) -> None:  # type: ignore[no-untyped-def]
    text = "line one\r\nX-Injected: header\r\n\x1b[2J\x1b[31mred\x1b[0m\ttab \u2028 end"
    complaint_id = submit(client, description=text).get_json()["id"]
    assert stored(db, complaint_id).description == text
    response = client.get("/registrar/complaints", headers=bearer(setup["tokens"]["own"]))
    assert response.status_code == 200
    assert b"\r\n" not in response.data
    assert b"\x1b" not in response.data
    assert "X-Injected" not in response.headers
    assert orjson.loads(response.data)["complaints"][0]["description"] == text


def test_html_is_returned_as_a_plain_json_string(client, db, setup) -> None:  # type: ignore[no-untyped-def]
    html = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    complaint_id = submit(client, description=html).get_json()["id"]
    assert stored(db, complaint_id).description == html
    response = client.get("/registrar/complaints", headers=bearer(setup["tokens"]["own"]))
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_json()["complaints"][0]["description"] == html


@pytest.mark.parametrize("domain", ["' OR 1=1--", "own.post'; DROP TABLE complaints;--"])
def test_injection_in_domain_is_a_field_error(client, db, setup, domain) -> None:  # type: ignore[no-untyped-def]
    response = submit(client, domain=domain)
    assert response.status_code == 400
    with db.session_scope() as session:
        assert session.scalars(select(Complaint)).all() == []


def test_domain_answers_link_to_the_complaint_endpoint(client, setup) -> None:  # type: ignore[no-untyped-def]
    notices = {n["title"]: n for n in client.get("/domain/own.post").get_json()["notices"]}
    accuracy = notices["Registration Data Accuracy"]
    assert accuracy["links"][0]["rel"] == "help"
    assert accuracy["links"][0]["href"] == "http://localhost/complaints"
    icann = notices["RDDS Inaccuracy Complaint Form"]
    assert icann["description"] == [
        "URL of the ICANN RDDS Inaccuracy Complaint Form: https://icann.org/wicf"
    ]
    assert "notices" not in client.get("/nameserver/ns1.own.post").get_json() or all(
        n["title"] != "Registration Data Accuracy"
        for n in client.get("/nameserver/ns1.own.post").get_json()["notices"]
    )


# --- what a caller sees is decided by the policy files ---------------------------------------

CONTACT_LABELS = ("Registrant", "Admin", "Tech", "Billing")


@pytest.fixture
def hiding_verification(settings: Settings, tmp_path: Path) -> Iterator[FlaskClient]:
    """The server with a registrar.toml that shows sponsors no verification detail."""
    policies = policy_variant(tmp_path / "policies", hidden=("*.verification",))
    app = create_app(dataclasses.replace(settings, policies_path=policies))
    yield app.test_client()
    app.extensions["rdapd"].db.dispose()


def test_shipped_policy_shows_the_sponsor_the_content_and_documents_the_hidden_reporter(  # type: ignore[no-untyped-def]
    client, setup
) -> None:
    submit(client)
    body = client.get("/registrar/complaints", headers=bearer(setup["tokens"]["own"])).get_json()
    documented("ComplaintList", body)
    staff = client.get("/registrar/complaints", headers=bearer(setup["tokens"]["staff"]))
    documented("ComplaintList", staff.get_json())


def test_a_policy_hiding_verification_detail_hides_complaint_content(  # type: ignore[no-untyped-def]
    client, setup, hiding_verification
) -> None:
    complaint_id = submit(client).get_json()["id"]
    own = bearer(setup["tokens"]["own"])
    shipped = client.get("/registrar/complaints", headers=own).get_json()["complaints"]
    assert shipped[0]["fields"] == ["registrant.email", "registrant.voice"]

    response = hiding_verification.get("/registrar/complaints", headers=own)
    assert response.status_code == 200
    body = response.get_json()
    documented("ComplaintList", body)
    (listed,) = body["complaints"]
    assert listed["id"] == complaint_id
    assert listed["domain"] == "own.post"
    assert "fields" not in listed
    assert "description" not in listed
    for secret in (b"registrant.email", b"registrant.voice", b"bounces", REPORTER.encode()):
        assert secret not in response.data
    declared = [(e["name"]["description"], e["prePath"]) for e in body["redacted"]]
    assert sorted(declared) == sorted(
        [
            (f"{label} Verification", f"$.complaints[0].{member}")
            for label in CONTACT_LABELS
            for member in ("fields", "description")
        ]
        + [("Reporter Email", "$.complaints[0].reporterEmail")]
    )

    closed = close(hiding_verification, complaint_id, setup["tokens"]["own"])
    assert closed.status_code == 200
    answer = closed.get_json()
    documented("Complaint", answer)
    assert answer["status"] == "closed"
    assert "fields" not in answer
    assert "description" not in answer
    assert {e["prePath"] for e in answer["redacted"]} == {
        "$.fields",
        "$.description",
        "$.reporterEmail",
    }

    # staff.toml is unchanged: staff still see the whole complaint, nothing declared
    staff = hiding_verification.get(
        "/registrar/complaints", headers=bearer(setup["tokens"]["staff"])
    ).get_json()
    documented("ComplaintList", staff)
    assert staff["complaints"][0]["fields"] == ["registrant.email", "registrant.voice"]
    assert staff["complaints"][0]["reporterEmail"] == REPORTER
    assert "redacted" not in staff
