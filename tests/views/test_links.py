"""Every link the server gives resolves: the terms of service, the complaint guide, and every
`href` and `value` of a sample of answers (lookups, searches, help, errors, a complaint) answers
a GET on this host without a 4xx or 5xx; links to other hosts are well-formed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from rdap import create_app
from rdap.db import Database
from rdap.escrow.commands import load_demo
from rdap.models import Contact, Domain, Host, Registrar

HERE = "localhost"  # the test client's Host


@pytest.fixture
def registry(db: Database) -> dict[str, str]:
    load_demo(db, tld="post", size=40, seed=3)
    with db.read_scope() as session:
        return {
            "domain": session.scalars(select(Domain.ldh_name).order_by(Domain.id)).first() or "",
            "idn": session.scalars(
                select(Domain.unicode_name).where(Domain.unicode_name.is_not(None))
            ).first()
            or "",
            "host": session.scalars(select(Host.ldh_name).order_by(Host.id)).first() or "",
            "contact": session.scalars(select(Contact.handle).order_by(Contact.id)).first() or "",
            "iana": str(session.scalars(select(Registrar.iana_id).order_by(Registrar.id)).first()),
        }


def _links(node: Any, where: str = "$") -> Iterator[tuple[str, str]]:
    """(where, URL) for every href and value of every link object in an answer."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "links" and isinstance(value, list):
                for i, link in enumerate(value):
                    for member in ("href", "value"):
                        if isinstance(link, dict) and member in link:
                            yield f"{where}.links[{i}].{member}", link[member]
            yield from _links(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _links(item, f"{where}[{i}]")


def _sample(client: FlaskClient, registry: dict[str, str]) -> Iterator[tuple[str, int, Any]]:
    paths = [
        f"/domain/{registry['domain']}",
        f"/domain/{registry['idn']}",
        f"/nameserver/{registry['host']}",
        f"/entity/{registry['contact']}",
        f"/entity/{registry['iana']}",
        "/help",
        f"/domains?name={registry['domain'][:3]}*",
        "/nameservers?name=ns*",
        f"/entities?handle={registry['contact'][:3]}*",
        f"/domains?nsLdhName={registry['host']}",
        "/domain/no-such-name.post",
        "/domain/bad_name.post",
        "/ip/192.0.2.1",
        "/complaints",
    ]
    for path in paths:
        response = client.get(path)
        yield path, response.status_code, response.get_json()
    filed = client.post(
        "/complaints",
        json={"domain": registry["domain"], "fields": ["registrant.voice"], "description": "x"},
    )
    assert filed.status_code == 201
    yield (
        "POST /complaints",
        201,
        {
            **filed.get_json(),
            "links": [*filed.get_json()["links"], {"href": filed.headers["Location"]}],
        },
    )


def test_every_link_resolves(settings, registry) -> None:  # type: ignore[no-untyped-def]
    client = create_app(dataclasses.replace(settings, search_page_size=2)).test_client()
    checked: dict[str, int] = {}
    external = set()
    for source, status, body in _sample(client, registry):
        assert status in (200, 201, 400, 404, 501), source
        found = list(_links(body))
        assert found or status >= 400, f"{source} gives no links"
        for where, url in found:
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https"), (source, where, url)
            assert parts.hostname, (source, where, url)
            if parts.hostname != HERE:
                external.add(url)
                continue
            if url not in checked:
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                checked[url] = client.get(target).status_code
            assert checked[url] < 400, (source, where, url, checked[url])
    assert any(u.endswith("/terms") for u in checked)
    assert any(u.endswith("/complaints") for u in checked)
    assert any("/complaints/" in u for u in checked)
    assert any("cursor=" in u for u in checked)  # a search's next page
    assert "https://icann.org/epp" in external


def test_terms_are_served_from_the_service_profile(client, app) -> None:  # type: ignore[no-untyped-def]
    profile = app.extensions["rdapd"].profile
    assert profile.terms
    page = client.get("/terms")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "Accept" in page.headers["Vary"]
    assert page.headers["Content-Security-Policy"] == "default-src 'none'"
    html = page.get_data(as_text=True)
    assert f"<h1>{profile.terms_title}</h1>" in html
    assert html.count("<p>") == len(profile.terms)
    text = client.get("/terms", headers={"Accept": "text/plain"})
    assert text.mimetype == "text/plain"
    assert text.get_data(as_text=True).startswith(profile.terms_title + "\n\n")
    assert all(p in text.get_data(as_text=True) for p in profile.terms)
    rdap_client = client.get("/terms", headers={"Accept": "application/rdap+json"})
    assert rdap_client.status_code == 200


def test_terms_text_is_escaped(settings, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    service = tmp_path / "service.toml"
    service.write_text('[terms]\ntitle = "<T&C>"\ntext = ["<script>alert(1)</script>"]\n')
    app = create_app(dataclasses.replace(settings, service_file=service))
    html = app.test_client().get("/terms").get_data(as_text=True)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<h1>&lt;T&amp;C&gt;</h1>" in html


def test_a_profile_linking_terms_it_does_not_have_is_refused(tmp_path) -> None:
    from rdap.profile import ProfileError, load_profile

    service = tmp_path / "service.toml"
    link = '{ rel = "terms-of-service", href = "{base_url}/terms" }'
    service.write_text(f'[[notices]]\ntitle = "Terms"\nlink = {link}\n')
    with pytest.raises(ProfileError, match="terms"):
        load_profile(service)
    service.write_text('[operator]\nname = "x"\n')
    assert load_profile(service).terms == ()


def test_complaint_guide_says_how_to_file(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/complaints")
    assert response.status_code == 200
    guide = response.get_json()
    assert guide["method"] == "POST"
    assert guide["contentType"] == "application/json"
    assert set(guide["members"]) == {"domain", "fields", "description", "reporterEmail"}
    assert "registrant.email" in guide["fields"]
    assert {link["rel"] for link in guide["links"]} == {"self", "describedby"}


def test_the_contact_form_resolves(client, registry) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"/domain/{registry['domain']}").get_json()
    uris = [
        prop[3]
        for entity in body["entities"]
        for prop in entity.get("vcardArray", [None, []])[1]
        if prop[0] == "contact-uri"
    ]
    assert uris
    for uri in uris:
        parts = urlsplit(uri)
        page = client.get(f"{parts.path}?{parts.query}")
        assert page.status_code == 200, uri
        # The form, for that domain and role, ready to send.
        text = page.get_data(as_text=True)
        assert '<form method="post"' in text
        assert 'name="csrf_token"' in text
        assert f'value="{registry["domain"]}"' in text
