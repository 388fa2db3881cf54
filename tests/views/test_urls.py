"""Links name this service as configured: RDAP_BASE_URL wins over any Host; without it only
allowed Host names are answered, so a forged Host never reaches a link, a contact form URL or
a Location."""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from rdap import create_app
from rdap.db import Database
from rdap.settings import Settings
from rdap.views.urls import host_allowed, host_name
from tests import factories

BASE = "https://rdap.example.net/rdap"
FORGED = "evil.example"


@pytest.fixture
def domain(db: Database) -> str:
    with db.session_scope() as session:
        return factories.full_domain(
            session, name="example.post", registrant_kind="natural"
        ).ldh_name


def _client(settings: Settings, **changes: Any) -> FlaskClient:
    return create_app(dataclasses.replace(settings, **changes)).test_client()


def _links(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "links" and isinstance(value, list):
                found += [link for link in value if isinstance(link, dict)]
            found += _links(value)
    elif isinstance(node, list):
        for item in node:
            found += _links(item)
    return found


def _contact_uris(body: dict[str, Any]) -> list[str]:
    return [
        prop[3]
        for entity in body.get("entities", [])
        for prop in entity.get("vcardArray", [None, []])[1]
        if prop[0] == "contact-uri"
    ]


@pytest.mark.parametrize(
    "path", ["/domain/example.post", "/help", "/domains?name=exa*", "/nameserver/ns1.example.post"]
)
def test_the_configured_base_wins_over_a_forged_host(settings, domain, path) -> None:  # type: ignore[no-untyped-def]
    http = _client(settings, base_url=BASE + "/")
    response = http.get(path, headers={"Host": FORGED})
    assert response.status_code == 200
    assert FORGED not in response.get_data(as_text=True)
    body = response.get_json()
    links = _links(body)
    assert links
    for link in links:
        assert link["value"] == BASE + path  # the request's own URL, on the base
        # Our own links are under the base; the rest name other services (ICANN, registrars).
        assert urlsplit(link["href"]).hostname not in (FORGED, "localhost")
    for uri in _contact_uris(body):
        assert uri.startswith(BASE + "/contact?")


def test_the_contact_form_and_location_follow_the_base(settings, domain) -> None:  # type: ignore[no-untyped-def]
    http = _client(settings, base_url=BASE)
    body = http.get("/domain/example.post", headers={"Host": FORGED}).get_json()
    assert _contact_uris(body)
    assert all(uri.startswith(f"{BASE}/contact?") for uri in _contact_uris(body))
    filed = http.post(
        "/complaints",
        json={"domain": "example.post", "fields": ["registrant.email"], "description": "x"},
        headers={"Host": FORGED},
    )
    assert filed.status_code == 201
    assert filed.headers["Location"].startswith(f"{BASE}/complaints/")
    assert FORGED not in filed.get_data(as_text=True)
    guide = http.get("/complaints", headers={"Host": FORGED})
    assert FORGED not in guide.get_data(as_text=True)


@pytest.mark.parametrize("host", [FORGED, "localhost.evil.example", "127.0.0.2", "[::2]:8080", ""])
def test_without_a_base_only_allowed_hosts_are_answered(settings, domain, host) -> None:  # type: ignore[no-untyped-def]
    http = _client(settings)
    for path in ("/domain/example.post", "/help", "/terms", "/oauth/jwks", "/complaints"):
        response = http.get(path, headers={"Host": host})
        assert response.status_code == 400, path
        assert response.content_type == "application/rdap+json"
        body = response.get_json()
        assert body["errorCode"] == 400
        assert host.lower() not in json.dumps(body) or not host


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:18181", "[::1]:8080"])
def test_local_names_are_answered_by_default(settings, domain, host) -> None:  # type: ignore[no-untyped-def]
    response = _client(settings).get("/domain/example.post", headers={"Host": host})
    assert response.status_code == 200
    assert response.get_json()["links"][0]["value"] == f"http://{host}/domain/example.post"


def test_allowed_hosts_replace_the_local_names(settings, domain) -> None:  # type: ignore[no-untyped-def]
    http = _client(settings, allowed_hosts=("rdap.example.org", ".nic.example"))
    for host in ("rdap.example.org", "RDAP.example.org.", "nic.example", "rdap.nic.example:443"):
        assert http.get("/help", headers={"Host": host}).status_code == 200, host
    for host in ("localhost", "example.org", "evilnic.example"):
        assert http.get("/help", headers={"Host": host}).status_code == 400, host
    anything = _client(settings, allowed_hosts=("*",))
    assert anything.get("/help", headers={"Host": FORGED}).status_code == 200


def test_allowed_hosts_are_checked_even_with_a_base(settings, domain) -> None:  # type: ignore[no-untyped-def]
    http = _client(settings, base_url=BASE, allowed_hosts=("rdap.example.net",))
    assert http.get("/help", headers={"Host": "rdap.example.net"}).status_code == 200
    assert http.get("/help", headers={"Host": FORGED}).status_code == 400


def test_allowed_hosts_come_from_the_environment() -> None:
    settings = Settings.from_env({"RDAP_ALLOWED_HOSTS": "rdap.example, .nic.example"})
    assert settings.trusted_hosts == ("rdap.example", ".nic.example")
    assert Settings().trusted_hosts == ("localhost", "127.0.0.1", "::1")
    assert Settings(base_url=BASE).trusted_hosts is None


@pytest.mark.parametrize(
    ("host", "name"),
    [("Example.ORG.", "example.org"), ("[::1]:80", "::1"), ("a.b:8", "a.b"), ("[::1", "")],
)
def test_host_names(host: str, name: str) -> None:
    assert host_name(host) == name


def test_ipv6_entries_match_with_or_without_brackets() -> None:
    assert host_allowed("[::1]:8080", ("::1",))
    assert host_allowed("[::1]:8080", ("[::1]",))
    assert not host_allowed("[::2]", ("::1",))
