"""RDAP over HTTP: lookups answer RFC 9083 / ICANN-profile documents; errors are RDAP bodies."""

from __future__ import annotations

from typing import Any

import pytest

from rdap.db import Database
from tests import factories
from tests.snapshot import Snapshot, built_once, restored

RDAP = "application/rdap+json"
IDN = "correos-españa.post"
IDN_A = IDN.encode("idna").decode("ascii")


def _build(db: Database) -> dict[str, Any]:
    with db.session_scope() as session:
        d = factories.full_domain(session, name="example.post")
        factories.full_domain(session, name=IDN_A, unicode_name=IDN)
        return {"name": d.ldh_name, "roid": d.roid, "iana": d.registrar.iana_id}


@pytest.fixture(scope="module")
def _domains(migrated_url: str) -> Snapshot[dict[str, Any]]:
    return built_once(migrated_url, _build)


@pytest.fixture
def domain(db: Database, _domains: Snapshot[dict[str, Any]]) -> dict[str, Any]:
    """example.post and an IDN, each with registrar, contacts, hosts and a DS record."""
    return restored(db, _domains)


def _get(client, path, **kw):  # type: ignore[no-untyped-def]
    response = client.get(path, **kw)
    assert response.content_type == RDAP
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response


def test_domain_lookup_profile_members(client, domain) -> None:  # type: ignore[no-untyped-def]
    response = _get(client, "/domain/example.post")
    assert response.status_code == 200
    body = response.get_json()
    assert body["rdapConformance"][:3] == [
        "rdap_level_0",
        "icann_rdap_response_profile_1",
        "icann_rdap_technical_implementation_guide_1",
    ]
    assert body["objectClassName"] == "domain"
    assert body["ldhName"] == "example.post"
    assert body["handle"] == domain["roid"]
    assert body["status"] == ["client transfer prohibited", "server delete prohibited"]
    actions = [e["eventAction"] for e in body["events"]]
    for action in ("registration", "expiration", "last update of RDAP database"):
        assert action in actions
    assert len(actions) == len(set(actions))
    titles = [n["title"] for n in body["notices"]]
    assert titles.count("Terms of Service") == 1
    status_notice = next(n for n in body["notices"] if n["title"] == "Status Codes")
    assert status_notice["description"] == [
        "For more information on domain status codes, please visit https://icann.org/epp"
    ]
    assert status_notice["links"][0]["rel"] == "glossary"
    assert status_notice["links"][0]["value"] == "http://localhost/domain/example.post"
    wicf = next(n for n in body["notices"] if n["title"] == "RDDS Inaccuracy Complaint Form")
    assert wicf["links"][0]["href"] == "https://icann.org/wicf"
    rels = {link["rel"]: link for link in body["links"]}
    assert rels["self"]["href"] == "http://localhost/domain/example.post"
    assert rels["related"]["href"].endswith("/domain/example.post")
    assert body["secureDNS"]["delegationSigned"] is True
    assert body["secureDNS"]["dsData"][0] == {
        "keyTag": 12345,
        "algorithm": 13,
        "digestType": 2,
        "digest": "AB" * 32,
    }
    registrars = [e for e in body["entities"] if "registrar" in e["roles"]]
    assert len(registrars) == 1
    registrar = registrars[0]
    assert registrar["handle"] == str(domain["iana"])
    assert registrar["publicIds"] == [
        {"type": "IANA Registrar ID", "identifier": str(domain["iana"])}
    ]
    assert any(link["rel"] == "about" for link in registrar["links"])
    abuse = registrar["entities"][0]
    assert abuse["roles"] == ["abuse"]
    props = {p[0] for p in abuse["vcardArray"][1]}
    assert {"tel", "email", "fn"} <= props
    ns = body["nameservers"]
    assert [n["ldhName"] for n in ns] == ["ns1.example.post", "ns2.example.post"]
    assert ns[0]["ipAddresses"] == {"v4": ["192.0.2.1"], "v6": ["2001:db8::1"]}
    roles = [e["roles"][0] for e in body["entities"]]
    assert sorted(roles) == ["administrative", "registrant", "registrar", "technical"]
    for link in _all_links(body):
        assert link["rel"]
        assert link["value"]


def _all_links(node):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "links":
                yield from value
            else:
                yield from _all_links(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_links(item)


def test_jcard_address_shape(client, domain) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "/domain/example.post").get_json()
    registrar = next(e for e in body["entities"] if e["roles"] == ["registrar"])
    adr = next(p for p in registrar["vcardArray"][1] if p[0] == "adr")
    assert adr[1] == {"cc": "CH"}
    assert adr[3][6] == ""  # country name empty; the cc parameter carries it
    for prop in registrar["vcardArray"][1]:
        if prop[0] == "tel":
            assert prop[1]["type"] in ("voice", "fax")


@pytest.mark.parametrize(
    "path",
    ["/domain/EXAMPLE.POST", "/domain/example.post.", "/domain/Example.Post."],
)
def test_any_case_and_trailing_dot(client, domain, path) -> None:  # type: ignore[no-untyped-def]
    assert _get(client, path).get_json()["ldhName"] == "example.post"


def test_idn_by_u_label_and_a_label(client, domain) -> None:  # type: ignore[no-untyped-def]
    by_u = _get(client, "/domain/correos-españa.post").get_json()
    by_a = _get(client, f"/domain/{IDN_A}").get_json()
    assert by_u["unicodeName"] == by_a["unicodeName"] == "correos-españa.post"
    assert by_u["ldhName"] == IDN_A
    encoded = _get(client, "/domain/correos-espa%C3%B1a.post").get_json()
    assert encoded["ldhName"] == by_a["ldhName"]


def test_accept_json_and_head(client, domain) -> None:  # type: ignore[no-untyped-def]
    as_json = _get(client, "/domain/example.post", headers={"Accept": "application/json"})
    assert as_json.status_code == 200
    head = client.head("/domain/example.post")
    assert head.status_code == 200
    assert head.data == b""
    assert client.head("/domain/test.invalid").status_code == 404


def test_nameserver_and_entity(client, domain) -> None:  # type: ignore[no-untyped-def]
    ns = _get(client, "/nameserver/NS1.example.post").get_json()
    assert ns["objectClassName"] == "nameserver"
    assert ns["ldhName"] == "ns1.example.post"
    assert ns["handle"].endswith("-POST")
    registrar = _get(client, f"/entity/{domain['iana']}").get_json()
    assert registrar["roles"] == ["registrar"]
    assert registrar["rdapConformance"][0] == "rdap_level_0"


def test_help(client) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "/help").get_json()
    assert "rdap_level_0" in body["rdapConformance"]
    assert body["notices"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/domain/test.invalid", 404),
        ("/domain/unknown.post", 404),
        ("/domain/example.other", 404),
        ("/nameserver/ns9.nowhere.example", 404),
        ("/entity/NOPE-1", 404),
        ("/domain/exa_mple.post", 400),
        ("/domain/xn--zz.post", 400),
        ("/domain/%ff%fe.post", 400),
        ("/domain/%zz.post", 400),
        ("/domain/..%2f..%2fetc%2fpasswd", 400),
        ("/domain/" + "a" * 5000, 414),  # longer than any request target read
        ("/domain/" + "a." * 200 + "post", 400),
        ("/domain/%00.post", 400),
        ("/domain/' OR 1=1--", 400),
        ("/domain/", 400),
        ("/", 400),
        ("/whatever/x", 400),
        ("/help/extra", 400),
        ("/ip/192.0.2.0", 501),
        ("/autnum/64496", 501),
    ],
)
def test_errors_are_rdap_bodies(client, domain, path, status) -> None:  # type: ignore[no-untyped-def]
    response = _get(client, path)
    assert response.status_code == status
    body = response.get_json()
    assert body["errorCode"] == status
    assert isinstance(body["title"], str)
    assert isinstance(body["description"], list)
    assert all(isinstance(line, str) for line in body["description"])
    assert "rdap_level_0" in body["rdapConformance"]
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_wrong_methods(client, method) -> None:  # type: ignore[no-untyped-def]
    response = client.open("/domain/example.post", method=method)
    assert response.status_code == 405
    assert response.content_type == RDAP
    assert response.get_json()["errorCode"] == 405


def test_unavailable_database_is_an_rdap_503(app, client) -> None:  # type: ignore[no-untyped-def]
    # A database that cannot answer must still produce an RDAP error body, never a traceback.
    app.extensions["rdapd"].db = Database("sqlite:////nonexistent-dir/none.sqlite3")
    response = _get(client, "/domain/example.post")
    assert response.status_code == 503
    assert response.get_json()["errorCode"] == 503
    assert response.headers["Retry-After"] == "30"
    assert "nonexistent" not in response.get_data(as_text=True)


def test_unexpected_failure_is_an_rdap_500(app, client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from rdap.views import rdap as rdap_views

    def explode(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret detail")

    monkeypatch.setattr(rdap_views, "lookup", explode)
    response = _get(client, "/domain/example.post")
    assert response.status_code == 500
    assert response.get_json()["errorCode"] == 500
    assert "secret detail" not in response.get_data(as_text=True)


def test_removed_handle_takes_the_self_link(client, db) -> None:  # type: ignore[no-untyped-def]
    """A contact whose handle is redacted has no self link either: its href is the handle."""
    with db.session_scope() as session:
        d = factories.full_domain(session, name="private.post", registrant_kind="natural")
        handles = {d.registrant.handle, *(c.contact.handle for c in d.contacts)}
    body = _get(client, "/domain/private.post").get_json()
    removed = {
        r["prePath"].split("'")[1]
        for r in body["redacted"]
        if r.get("prePath", "").endswith("].handle")
    }
    assert removed, "the public policy removes contact handles"
    for entity in body["entities"]:
        if entity["roles"][0] in removed:
            assert "handle" not in entity
            assert all(link["rel"] != "self" for link in entity.get("links", []))
    text = _get(client, "/domain/private.post").get_data(as_text=True)
    for handle in handles:
        if all(e.get("handle") != handle for e in body["entities"]):
            assert handle not in text
