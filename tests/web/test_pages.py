"""The web channel without a browser: negotiation on the RDAP paths, the security headers of
every page, CSRF on every form, the contact form's relay, the disclosure-process page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rdap.db import Database
from rdap.escrow.commands import load_demo
from rdap.models import ContactMessage, Domain

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
RDAP = "application/rdap+json"


@pytest.fixture
def domain(db: Database) -> Domain:
    load_demo(db, tld="post", size=12, seed=5)
    with db.read_scope() as session:
        found = session.scalars(select(Domain).order_by(Domain.id)).first()
        assert found is not None
        session.expunge(found)
        return found


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER["Accept"], True),
        ("text/html", True),
        (RDAP, False),
        ("application/json", False),
        ("*/*", False),
        (None, False),
        ("application/rdap+json, text/html;q=0.5", False),
        ("TEXT/HTML", True),
        ("text/*", True),
        ('application/rdap+json;exts_list="jscontact"', False),
        ('application/rdap+json;exts_list="jscontact", text/html;q=0.5', False),
    ],
)
def test_browsers_get_pages_and_rdap_clients_json(client, domain, accept, html) -> None:  # type: ignore[no-untyped-def]
    headers = {"Accept": accept} if accept else {}
    for path in ("/", f"/domain/{domain.ldh_name}", "/domain/not-registered.post"):
        response = client.get(path, headers=headers)
        assert "Accept" in response.headers["Vary"], path
        if html:
            assert response.mimetype == "text/html", (path, accept)
        elif path == f"/domain/{domain.ldh_name}":
            assert response.mimetype == RDAP, (path, accept)
            assert response.get_json()["ldhName"] == domain.ldh_name
        else:
            assert response.mimetype == RDAP, (path, accept)
            assert response.get_json()["errorCode"] in (400, 404)
    # A page's "as RDAP JSON" link answers JSON to a browser.
    raw = client.get(f"/domain/{domain.ldh_name}?format=json", headers=BROWSER)
    assert raw.mimetype == RDAP


def test_every_page_has_the_strict_headers(client, domain) -> None:  # type: ignore[no-untyped-def]
    for path in (
        "/",
        "/disclosure-policy",
        f"/contact?domain={domain.ldh_name}&role=registrant",
        "/domain/not-registered.post",
    ):
        response = client.get(path, headers=BROWSER)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "script-src" not in csp  # no script at all: default-src 'none' applies
        assert "unsafe-inline" not in csp
        assert "form-action 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        page = response.get_data(as_text=True)
        assert "<script" not in page
        assert 'style="' not in page  # no inline style either (style-src 'self')
        assert re.search(r'<html lang="en"', page)


def test_the_home_page_links_the_disclosure_process(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/", headers=BROWSER).get_data(as_text=True)
    assert 'href="http://localhost/disclosure-policy"' in page
    assert '<form class="search" action="http://localhost/search" method="get"' in page


@pytest.fixture
def slow_sla(settings):  # type: ignore[no-untyped-def]
    import dataclasses

    return dataclasses.replace(
        settings, disclosure_sla_standard_hours=60, disclosure_sla_urgent_hours=12
    )


def test_the_disclosure_process_page_comes_from_configuration(slow_sla, db) -> None:  # type: ignore[no-untyped-def]
    from rdap import create_app

    app = create_app(slow_sla)
    client = app.test_client()
    rt = app.extensions["rdapd"]
    page = client.get("/disclosure-policy", headers=BROWSER).get_data(as_text=True)
    # RDP §10.1: (a) format and content, (b) delivery, (c) timelines.
    assert 'id="contents"' in page
    assert 'id="delivery"' in page
    assert 'id="timelines"' in page
    for paragraph in rt.profile.disclosure_delivery:
        assert paragraph.replace("'", "&#39;") in page
    # The timelines are the SLA settings.
    assert "standard request: within 60 hours of receipt" in page
    assert "urgent request: within 12 hours of receipt" in page
    personal = [e for e in rt.policy.elements.values() if e.personal and e.role == "registrant"]
    assert personal
    for element in personal:
        if element.part is None:
            assert f"<code>{element.id}</code>" in page
    assert "<code>legalActions</code>" in page


def test_search_box_goes_to_the_lookup_pages(client) -> None:  # type: ignore[no-untyped-def]
    cases = {
        ("envíos.post", "domain"): "/domain/env%C3%ADos.post",
        ("ns1.example.post.", "nameserver"): "/nameserver/ns1.example.post",
        ("9999", "registrar"): "/entity/9999",
        ("Example Registrar", "registrar"): "/entities?fn=Example%20Registrar%2A",
    }
    for (query, kind), target in cases.items():
        response = client.get("/search", query_string={"q": query, "kind": kind}, headers=BROWSER)
        assert response.status_code == 303
        assert response.headers["Location"] == "http://localhost" + target
    assert client.get("/search", query_string={"q": ""}, headers=BROWSER).status_code == 400
    assert client.get("/search", query_string={"q": "a", "kind": "x"}).status_code == 400


def _form(client, domain: Domain) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/contact?domain={domain.ldh_name}&role=technical", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    return _token(response.get_data(as_text=True))


MESSAGE = {
    "role": "technical",
    "sender_name": "Ana Writer",
    "sender_email": "ana@example.org",
    "subject": "Your name server answers wrongly",
    "body": "ns1 answers REFUSED for the zone since this morning.",
}


def test_the_contact_form_relays_through_the_sponsor(client, db, domain) -> None:  # type: ignore[no-untyped-def]
    token = _form(client, domain)
    response = client.post(
        "/contact",
        data={"csrf_token": token, "domain": domain.ldh_name, **MESSAGE},
        headers=BROWSER,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "queued" in response.get_data(as_text=True)
    with db.read_scope() as session:
        stored = session.scalars(select(ContactMessage)).one()
        sponsor = session.scalars(select(Domain).where(Domain.id == domain.id)).one().registrar
        assert stored.domain == domain.ldh_name
        assert stored.domain_roid == domain.roid
        assert stored.role == "technical"
        assert stored.registrar_client_id == sponsor.client_id
        assert stored.sender_email == "ana@example.org"
        assert stored.status == "queued"


def test_forms_without_this_sessions_token_are_refused(app, client, db, domain) -> None:  # type: ignore[no-untyped-def]
    data = {"domain": domain.ldh_name, **MESSAGE}
    assert client.post("/contact", data=data, headers=BROWSER).status_code == 400
    other = app.test_client()
    foreign = _form(other, domain)
    response = client.post("/contact", data={**data, "csrf_token": foreign}, headers=BROWSER)
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    with db.read_scope() as session:
        assert session.scalars(select(ContactMessage)).first() is None


def test_form_errors_are_per_field_and_escaped(client, db, domain) -> None:  # type: ignore[no-untyped-def]
    token = _form(client, domain)
    response = client.post(
        "/contact",
        data={
            "csrf_token": token,
            "domain": "not-registered.post",
            "role": "technical",
            "sender_name": "<script>alert(1)</script>",
            "sender_email": "not an address",
            "subject": "line\r\nBcc: x@example.org",
            "body": "short",
        },
        headers=BROWSER,
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    errors = dict(re.findall(r'<p class="error" id="([a-z_]+)-error">([^<]+)</p>', page))
    assert set(errors) == {"sender_email", "subject", "body"}
    assert 'aria-invalid="true" aria-describedby="sender_email-error"' in page
    response = client.post(
        "/contact",
        data={"csrf_token": token, "domain": "not-registered.post", **MESSAGE},
        headers=BROWSER,
    )
    assert response.status_code == 422
    assert "not registered in this registry" in response.get_data(as_text=True)
    with db.read_scope() as session:
        assert session.scalars(select(ContactMessage)).first() is None


def test_the_complaint_form_calls_the_complaints_service(client, db, domain) -> None:  # type: ignore[no-untyped-def]
    from rdap.models import Complaint

    page = client.get(f"/complaints/new?domain={domain.ldh_name}", headers=BROWSER)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'value="{domain.ldh_name}"' in text
    token = _token(text)
    bad = client.post(
        "/complaints/new",
        data={"csrf_token": token, "domain": domain.ldh_name, "description": "wrong"},
        headers=BROWSER,
    )
    assert bad.status_code == 400
    assert "check these fields: fields" in bad.get_data(as_text=True)
    sent = client.post(
        "/complaints/new",
        data={
            "csrf_token": token,
            "domain": domain.ldh_name,
            "fields": ["registrant.email", "technical.voice"],
            "description": "The registrant's mailbox bounces.",
        },
        headers=BROWSER,
    )
    assert sent.status_code == 200, sent.get_data(as_text=True)
    with db.read_scope() as session:
        stored = session.scalars(select(Complaint)).one()
        assert stored.fields == ["registrant.email", "technical.voice"]
        assert stored.domain == domain.ldh_name
        status_url = f"http://localhost/complaints/{stored.id}"
    assert status_url in sent.get_data(as_text=True)


def test_the_sponsor_fetches_and_forwards_contact_messages(  # type: ignore[no-untyped-def]
    client, db, domain, make_client, token_for
) -> None:
    from rdap.models import OAuthClient

    token = _form(client, domain)
    sent = client.post(
        "/contact",
        data={"csrf_token": token, "domain": domain.ldh_name, **MESSAGE},
        headers=BROWSER,
    )
    assert sent.status_code == 200
    sponsor_client, sponsor_secret = make_client(role="registrar")
    other_client, other_secret = make_client(role="registrar")
    with db.session_scope() as session:
        sponsor_id = session.scalars(
            select(Domain.registrar_id).where(Domain.id == domain.id)
        ).one()
        row = session.scalars(
            select(OAuthClient).where(OAuthClient.client_id == sponsor_client)
        ).one()
        row.registrar_id = sponsor_id
    sponsor = {"Authorization": f"Bearer {token_for(sponsor_client, sponsor_secret)}"}
    other = {"Authorization": f"Bearer {token_for(other_client, other_secret)}"}
    assert client.get("/registrar/messages", headers=other).get_json()["messages"] == []
    listed = client.get("/registrar/messages", headers=sponsor).get_json()["messages"]
    assert [(m["domain"], m["role"], m["senderEmail"]) for m in listed] == [
        (domain.ldh_name, "technical", "ana@example.org")
    ]
    message_id = listed[0]["id"]
    assert (
        client.post(f"/registrar/messages/{message_id}/relayed", headers=other).status_code == 404
    )
    done = client.post(f"/registrar/messages/{message_id}/relayed", headers=sponsor)
    assert done.status_code == 200
    assert done.get_json()["status"] == "relayed"
    assert (
        client.post(f"/registrar/messages/{message_id}/relayed", headers=sponsor).status_code == 409
    )
    assert client.get("/registrar/messages", headers=sponsor).get_json()["messages"] == []
    assert client.get("/registrar/messages").status_code == 401
