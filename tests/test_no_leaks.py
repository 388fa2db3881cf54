"""Nothing leaks: crawl every RDAP answer (lookups, searches, errors) and every web page (the same
paths for a browser, and the pages of the web channel) for every role, and every port-43 answer,
over a registry whose natural persons carry unique marker values, and find no marker the role
may not see (nor any in the WHOIS server's log). Staff and the sponsoring registrar see markers
(so the markers really are in the data)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from rdap.db import Database
from rdap.disclosure import renewal
from rdap.escrow.generator import GeneratedDeposit, generate_deposit
from rdap.escrow.loader import import_deposit
from rdap.models import (
    Accreditation,
    Contact,
    Domain,
    DomainContact,
    Host,
    Notification,
    Registrar,
)
from tests.disclosure_fixtures import context
from tests.live_whois import BASE_URL, live_whois, query
from tests.oauth_fixtures import MakeClient, bind_to_deposit_registrar
from tests.snapshot import Snapshot, built_once, restored
from tests.web.signing import accreditation, create, finish, sign_in

TOKEN = re.compile(r"PII-[a-z]+-\d{7}")
# Consent is recorded per EPP element; these marker kinds become public with it.
CONSENT_KINDS = {
    "name": {"name"},
    "email": {"email"},
    "voice": {"voice"},
    "fax": {"fax"},
    "addr": {"street", "city", "pc"},
}


def _needle(kind: str, value: str) -> str:
    found = TOKEN.search(value)
    return found.group(0) if found else value.lstrip("+")


@pytest.fixture(scope="module")
def _marked(
    migrated_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Snapshot[GeneratedDeposit]:
    path = tmp_path_factory.mktemp("marked") / "marked.xml"

    def build(db: Database) -> GeneratedDeposit:
        deposit = generate_deposit(path, size=120, seed=11, markers=True)
        import_deposit(db, path)
        return deposit

    return built_once(migrated_url, build)


@pytest.fixture
def marked(db: Database, _marked: Snapshot[GeneratedDeposit]) -> GeneratedDeposit:
    """A generated registry of 120 domains whose personal values carry unique markers."""
    return restored(db, _marked)


def _public_needles(db: Database, deposit: GeneratedDeposit) -> dict[str, str]:
    """needle → contact handle, for every marker the public may not see (not consented)."""
    with db.read_scope() as session:
        consent = dict(session.execute(select(Contact.handle, Contact.publish_consent)).all())
    hidden = {}
    for marker in deposit.markers:
        visible_kinds = set().union(*(CONSENT_KINDS.get(e, set()) for e in consent[marker.contact]))
        if marker.kind not in visible_kinds:
            hidden[_needle(marker.kind, marker.value)] = marker.contact
    return hidden


def _paths(db: Database) -> Iterator[str]:
    with db.read_scope() as session:
        domains = session.scalars(select(Domain.ldh_name).order_by(Domain.id)).all()
        unicode_names = session.scalars(
            select(Domain.unicode_name).where(Domain.unicode_name.is_not(None))
        ).all()
        hosts = session.scalars(select(Host.ldh_name)).all()
        contacts = session.scalars(select(Contact.handle)).all()
        registrars = session.scalars(select(Registrar.iana_id)).all()
    for name in domains:
        yield f"/domain/{name}"
    for name in unicode_names[:20]:
        yield f"/domain/{quote(name or '')}"
    for name in hosts:
        yield f"/nameserver/{name}"
    for handle in contacts:
        yield f"/entity/{handle}"
    for iana in registrars:
        yield f"/entity/{iana}"
    firsts = sorted({name[:2] for name in domains})
    for prefix in firsts:
        yield f"/domains?name={prefix}*&count=true"
    yield "/domains?name=xn--*"
    yield "/nameservers?name=ns*"
    for probe in ("PII-name*", "PII-*", "Jo*", "Ma*", "An*", "C0*", "C1*"):
        yield f"/entities?fn={probe}"
        yield f"/entities?handle={probe}"
    yield "/domains/reverse_search/entity?fn=PII*"
    yield "/domains/reverse_search/entity?email=x@y.example"
    yield "/help"
    yield "/terms"
    yield "/complaints"
    yield "/domain/unknown-name.post"
    yield "/domain/bad_name.post"
    yield "/entity/NOPE"
    # The web channel's own pages (HTML whatever the Accept).
    yield "/"
    yield "/disclosure-policy"
    yield "/portal"
    yield "/portal/new"
    yield "/review"
    yield "/statistics"
    for name in domains[:5]:
        yield f"/search?q={name}&kind=domain"
        yield f"/contact?domain={name}&role=registrant"
        yield f"/complaints/new?domain={name}"


def _crawl(client, headers: dict[str, str], db: Database) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(path, whole response as text: status line, headers and body) for every answer."""
    for path in _paths(db):
        pending = [path]
        while pending:
            current = pending.pop()
            response = client.get(current, headers=headers)
            text = f"{response.status}\n{response.headers}\n{response.get_data(as_text=True)}"
            yield current, text
            if response.status_code == 200 and response.is_json:
                links = (response.get_json().get("paging_metadata") or {}).get("links", [])
                pending += [link["href"].replace("http://localhost", "") for link in links]


def _leaks(texts: Iterator[tuple[str, str]], needles: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    for path, text in texts:
        for token in set(TOKEN.findall(text)):
            if token in needles:
                found.append((path, token))
        for needle in needles:
            if not needle.startswith("PII") and needle in text:
                found.append((path, needle))
    return found


# RDAP clients (contacts in jCard, or in JSContact when asked for), and browsers (which get the
# web pages on the same paths).
ACCEPTS = {
    "rdap": {},
    "jscontact": {"Accept": 'application/rdap+json;exts_list="jscontact"'},
    "html": {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
}


@pytest.fixture(params=sorted(ACCEPTS))
def accept(request: pytest.FixtureRequest) -> dict[str, str]:
    return ACCEPTS[request.param]


def test_public_sees_no_hidden_marker(client, db, marked, accept) -> None:  # type: ignore[no-untyped-def]
    needles = _public_needles(db, marked)
    assert len(needles) > 100
    assert _leaks(_crawl(client, accept, db), needles) == []


def test_the_jscontact_crawl_gets_jscontact(client, db, marked) -> None:  # type: ignore[no-untyped-def]
    """The crawl above in JSContact is one: every card it meets is a JSContact card."""
    texts = [text for _path, text in _crawl(client, ACCEPTS["jscontact"], db)]
    assert sum("jscontact_card" in text for text in texts) > 200
    assert not [text for text in texts if '"vcardArray":' in text]


@pytest.mark.parametrize("role", ["requester", "law-enforcement"])
def test_requesters_without_grants_see_no_hidden_marker(  # type: ignore[no-untyped-def]
    client, db, marked, make_client: MakeClient, token_for, role, accept
) -> None:
    token = token_for(*make_client(role=role))
    needles = _public_needles(db, marked)
    headers = {"Authorization": f"Bearer {token}", **accept}
    assert _leaks(_crawl(client, headers, db), needles) == []


@pytest.mark.parametrize("role", ["requester", "law-enforcement"])
def test_people_signed_in_without_grants_see_no_hidden_marker(  # type: ignore[no-untyped-def]
    app, client, db, marked, role
) -> None:
    """The web pages of a signed-in requester (a session, not a token) are the public view."""
    kind = "law-enforcement" if role == "law-enforcement" else "ip"
    person = create(
        app,
        "--accreditation",
        accreditation(app, kind, f"{kind} org"),
        "--username",
        f"{role}@example.org",
        "--name",
        "Pat",
        "--role",
        role,
    )
    finish(client, sign_in(client, f"{role}@example.org", person["password"]))
    needles = _public_needles(db, marked)
    assert _leaks(_crawl(client, ACCEPTS["html"], db), needles) == []


def _sponsor_token(db: Database, make_client: MakeClient, token_for) -> tuple[str, set[str]]:  # type: ignore[no-untyped-def]
    """A token of a registrar client bound to a registrar of the deposit, and the handles of
    the contacts that registrar may see (its own, and those of its domains)."""
    client_id, secret, sponsor = bind_to_deposit_registrar(db, make_client)
    with db.session_scope() as session:
        own_domains = set(session.scalars(select(Domain.id).where(Domain.registrar_id == sponsor)))
        own_handles = set(
            session.scalars(select(Contact.handle).where(Contact.registrar_id == sponsor))
        )
        own_handles |= set(
            session.scalars(
                select(Contact.handle)
                .join(Domain, Domain.registrant_id == Contact.id)
                .where(Domain.id.in_(own_domains))
            )
        )
        own_handles |= set(
            session.scalars(
                select(Contact.handle)
                .join(DomainContact, DomainContact.contact_id == Contact.id)
                .where(DomainContact.domain_id.in_(own_domains))
            )
        )
    return token_for(client_id, secret), own_handles


def test_registrar_sees_only_its_own_markers(  # type: ignore[no-untyped-def]
    client, db, marked, registrar, make_client: MakeClient, token_for, accept
) -> None:
    token, own_handles = _sponsor_token(db, make_client, token_for)
    hidden = {n: h for n, h in _public_needles(db, marked).items() if h not in own_handles}
    own = {n: h for n, h in _public_needles(db, marked).items() if h in own_handles}
    texts = list(_crawl(client, {"Authorization": f"Bearer {token}", **accept}, db))
    assert _leaks(iter(texts), hidden) == []
    assert _leaks(iter(texts), own), "the sponsoring registrar should see its contacts' data"


def test_answers_kept_for_one_caller_show_the_next_nothing_hidden(  # type: ignore[no-untyped-def]
    app, client, db, marked, registrar, make_client: MakeClient, token_for
) -> None:
    """One server, answers kept between callers (rdap.answer_cache): staff and the sponsoring
    registrar crawl first, then the public, a requester and law enforcement crawl the same
    paths, and find no marker they may not see."""
    from rdap.app import runtime_of

    assert runtime_of(app).answers is not None  # the cache is on, as served
    sponsor, _own = _sponsor_token(db, make_client, token_for)
    staff = token_for(*make_client(role="staff", purposes=()))
    formats = (ACCEPTS["rdap"], ACCEPTS["jscontact"])
    for token in (staff, sponsor):
        for accept in formats:
            headers = {"Authorization": f"Bearer {token}", **accept}
            assert _leaks(_crawl(client, headers, db), {}) == []
    assert runtime_of(app).answers.bytes_used > 0  # type: ignore[union-attr]
    needles = _public_needles(db, marked)
    for accept in formats:
        assert _leaks(_crawl(client, accept, db), needles) == []
    for role in ("requester", "law-enforcement"):
        token = token_for(*make_client(role=role))
        for accept in formats:
            headers = {"Authorization": f"Bearer {token}", **accept}
            assert _leaks(_crawl(client, headers, db), needles) == []


def test_staff_sees_markers(client, db, marked, make_client: MakeClient, token_for, accept) -> None:  # type: ignore[no-untyped-def]
    token = token_for(*make_client(role="staff", purposes=()))
    handle = marked.markers[0].contact
    response = client.get(
        f"/entity/{handle}", headers={"Authorization": f"Bearer {token}", **accept}
    )
    assert _needle(marked.markers[0].kind, marked.markers[0].value) in response.get_data(
        as_text=True
    )


def _shape(body: dict) -> dict:  # type: ignore[type-arg]
    """A search answer without what depends on the request URL."""
    return {
        k: v
        for k, v in body.items()
        if k not in ("notices", "sorting_metadata", "subsetting_metadata")
    }


def test_searching_a_hidden_value_looks_like_searching_noise(  # type: ignore[no-untyped-def]
    client, db, marked
) -> None:
    hidden = next(m for m in marked.markers if m.kind == "name")
    with db.read_scope() as session:
        consent = session.scalars(
            select(Contact.publish_consent).where(Contact.handle == hidden.contact)
        ).one()
    assert "name" not in consent
    for param, value in (
        ("fn", hidden.value),
        ("fn", hidden.value[:6] + "*"),
        ("handle", hidden.contact),
    ):
        found = client.get(f"/entities?{param}={quote(value)}")
        noise = client.get(f"/entities?{param}={quote('Zq' + value[2:])}")
        assert found.status_code == noise.status_code == 200
        assert _shape(found.get_json()) == _shape(noise.get_json())
        assert found.get_json()["entitySearchResults"] == []  # (the URL echoes the caller's input)


# --- port 43 -------------------------------------------------------------------------------------
def _whois_lines(db: Database) -> Iterator[str]:
    """Every domain (A-labels, and U-labels of the IDNs), host and registrar, plus misses."""
    with db.read_scope() as session:
        domains = session.scalars(select(Domain.ldh_name).order_by(Domain.id)).all()
        unicode_names = session.scalars(
            select(Domain.unicode_name).where(Domain.unicode_name.is_not(None))
        ).all()
        hosts = session.scalars(select(Host.ldh_name)).all()
        registrars = session.execute(select(Registrar.iana_id, Registrar.name)).all()
        handles = session.scalars(select(Contact.handle)).all()
    yield from domains
    yield from (name or "" for name in unicode_names[:20])
    yield from (f"nameserver {name}" for name in hosts)
    for iana_id, name in registrars:
        yield str(iana_id)
        yield f"registrar {name}"
    yield from handles[:20]  # contact handles: not a port-43 query, never a contact answer
    yield "unknown-name.post"
    yield "bad_name.post"
    yield "PII-name-0000001"


def test_port_43_shows_no_hidden_marker_in_answers_or_logs(  # type: ignore[no-untyped-def]
    settings, db, marked, caplog
) -> None:
    needles = _public_needles(db, marked)
    with (
        caplog.at_level(logging.DEBUG),
        live_whois(dataclasses.replace(settings, base_url=BASE_URL)) as server,
    ):
        texts = [(line, query(server.port, line)) for line in _whois_lines(db)]
    answered = [text for _, text in texts if text.startswith(("Domain Name:", "Server Name:"))]
    assert len(answered) > 100
    assert _leaks(iter(texts), needles) == []
    assert _leaks(iter([("log", caplog.text)]), needles) == []
    # The markers are really there: what contacts consented to publish is shown.
    visible = {_needle(m.kind, m.value) for m in marked.markers} - set(needles)
    assert visible
    assert any(needle in text for _, text in texts for needle in visible)


# --- requester and law enforcement with grants -----------------------------------------------

PURPOSE = "criminalInvestigationAndDNSAbuseMitigation"


def _with_purpose(path: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}farv1_qp={PURPOSE}"


def _granted_domain(db: Database, deposit: GeneratedDeposit) -> tuple[str, dict[str, str]]:
    """An ASCII domain whose registrant is a natural person with hidden markers: (name,
    {marker kind: needle} of its registrant)."""
    hidden = _public_needles(db, deposit)
    by_contact: dict[str, dict[str, str]] = {}
    for marker in deposit.markers:
        needle = _needle(marker.kind, marker.value)
        if needle in hidden:
            by_contact.setdefault(marker.contact, {})[marker.kind] = needle
    with db.read_scope() as session:
        rows = session.execute(
            select(Domain.ldh_name, Contact.handle)
            .join(Contact, Contact.id == Domain.registrant_id)
            .where(Domain.unicode_name.is_(None))
            .order_by(Domain.id)
        ).all()
    for name, handle in rows:
        kinds = by_contact.get(handle, {})
        if {"name", "email", "voice"} <= set(kinds) and not name.startswith("xn--"):
            return name, kinds
    raise AssertionError("the generated registry has no natural-person registrant")


@pytest.mark.parametrize("role", ["requester", "law-enforcement"])
def test_requesters_with_a_grant_see_exactly_the_granted_elements(  # type: ignore[no-untyped-def]
    app, client, db, marked, accredit, caller, api, role
) -> None:
    domain, kinds = _granted_domain(db, marked)
    org_type = "law-enforcement" if role == "law-enforcement" else "cybersecurity"
    accreditation = accredit("Marked Org", org_type=org_type)
    requester = caller(role, accreditation=accreditation, email="req@org.example")
    staff = caller("staff", email="review@registry.example")
    request_id = api.submit(requester, domain=domain).get_json()["id"]
    decided = api.decide(
        request_id,
        staff,
        action="approve",
        valid_days=7,
        data_elements=["registrant.name", "registrant.email"],
        rationale="The phone number is not needed to reach the operator of the domain.",
    )
    assert decided.status_code == 200, decided.get_json()
    granted = {kinds["name"], kinds["email"]}
    granted_path = _with_purpose(f"/domain/{domain}")
    hidden = _public_needles(db, marked)
    elsewhere = {n: h for n, h in hidden.items() if n not in granted}
    headers = requester.headers

    texts = list(_crawl(client, headers, db))
    texts += [
        (_with_purpose(path), text) for path, text in _crawl_with_purpose(client, headers, db)
    ]
    assert _leaks(iter(texts), elsewhere) == []
    shown = [path for path, text in texts if any(g in text for g in granted)]
    assert shown == [granted_path], "granted values appear in that domain's answer, and only there"
    assert kinds["voice"] not in dict(texts)[granted_path]  # not granted: still redacted

    # Notifications (a channel too) name the request, never the domain or a value.
    with db.read_scope() as session:
        outbox = [m.subject + m.body for m in session.scalars(select(Notification))]
    assert len(outbox) == 3  # acknowledged, new for review, approved
    assert not any(needle in text for text in outbox for needle in [*hidden, domain])
    assert all(request_id in text for text in outbox)

    # Renewal reminders name the organisation, the accreditation and its expiry date only.
    with db.read_scope() as session:
        until = session.get_one(Accreditation, accreditation).valid_until
    with context(db, until - dt.timedelta(days=7)) as ctx:
        assert renewal.remind(ctx.session, ctx.now, (7,)) == 1
    with db.read_scope() as session:
        reminders = [
            m.subject + m.body
            for m in session.scalars(
                select(Notification).where(Notification.event == renewal.RENEWAL_DUE)
            )
        ]
    assert len(reminders) == 2  # the requester and the reviewer
    private = [*hidden, domain, request_id, requester.client_id, staff.client_id, "@"]
    assert not any(needle in text for text in reminders for needle in private)
    assert all("Marked Org" in text and accreditation in text for text in reminders)

    # The audit log names what was disclosed and never holds a value.
    exported = app.test_cli_runner().invoke(args=["audit", "export"]).output
    assert '"disclosure.answer"' in exported
    assert not TOKEN.search(exported)
    assert not any(needle in exported for needle in hidden)


def _crawl_with_purpose(client, headers: dict[str, str], db: Database) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    for path in _paths(db):
        response = client.get(_with_purpose(path), headers=headers)
        yield path, f"{response.status}\n{response.headers}\n{response.get_data(as_text=True)}"


# --- the registrar API: accuracy report, complaints ------------------------------------------

COMPLAINT = "PII-complaint-{:07d}"
REPORTER = "PII-reporter-{:07d}@reporter.example"


def _file_complaints(client, db: Database) -> dict[str, tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    """Complaints about two domains of every registrar, each with a marker in its description
    and another as its reporter's address: complaint id → (registrar row id, both markers)."""
    with db.read_scope() as session:
        rows = session.execute(select(Domain.ldh_name, Domain.registrar_id).order_by(Domain.id))
        by_registrar: dict[int, list[str]] = {}
        for name, registrar_id in rows:
            by_registrar.setdefault(registrar_id, []).append(name)
    filed = {}
    for registrar_id, names in sorted(by_registrar.items()):
        for name in names[:2]:
            n = len(filed) + 1
            response = client.post(
                "/complaints",
                json={
                    "domain": name,
                    "fields": ["registrant.email"],
                    "description": f"{COMPLAINT.format(n)} bounces",
                    "reporterEmail": REPORTER.format(n),
                },
            )
            assert response.status_code == 201, response.get_json()
            filed[response.get_json()["id"]] = (
                registrar_id,
                COMPLAINT.format(n),
                REPORTER.format(n).split("@")[0],
            )
    return filed


def _crawl_registrar_api(client, headers: dict[str, str], ids) -> Iterator[tuple[str, Any]]:  # type: ignore[no-untyped-def]
    """(path, response) for the report and the complaint list (every page) and each status URL."""
    for start in ("/registrar/accuracy?count=5", "/registrar/complaints?count=3"):
        pending = [start]
        while pending:
            current = pending.pop()
            response = client.get(current, headers=headers)
            yield current, response
            if response.status_code == 200:
                links = response.get_json().get("links", [])
                pending += [link["href"].replace("http://localhost", "") for link in links]
    for complaint_id in ids:
        path = f"/complaints/{complaint_id}"
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        yield path, response


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return f"{response.status}\n{response.headers}\n{response.get_data(as_text=True)}"


@pytest.mark.parametrize("role", ["public", "requester", "law-enforcement", "registrar", "staff"])
def test_registrar_api_shows_each_role_only_its_own(  # type: ignore[no-untyped-def]
    client, db, marked, make_client: MakeClient, token_for, role
) -> None:
    filed = _file_complaints(client, db)
    assert len({registrar_id for registrar_id, _, _ in filed.values()}) > 1
    own_registrar = None
    headers: dict[str, str] = {}
    if role == "registrar":
        client_id, secret, own_registrar = bind_to_deposit_registrar(db, make_client)
        headers = {"Authorization": f"Bearer {token_for(client_id, secret)}"}
    elif role != "public":
        headers = {"Authorization": f"Bearer {token_for(*make_client(role=role, purposes=()))}"}
    answers = list(_crawl_registrar_api(client, headers, filed))
    texts = [(path, _text(response)) for path, response in answers]
    everything = "\n".join(text for _, text in texts)
    contacts = {_needle(m.kind, m.value): m.contact for m in marked.markers}
    # No contact data at all: the report gives codes and messages, never values.
    assert _leaks(iter(texts), contacts) == []
    reporters = {reporter for _, _, reporter in filed.values()}
    contents = {content: registrar_id for registrar_id, content, _ in filed.values()}
    seen_reporters = {token for token in TOKEN.findall(everything) if token in reporters}
    seen_contents = {token for token in TOKEN.findall(everything) if token in contents}
    if role == "staff":  # the markers really are in the answers
        assert seen_reporters == reporters
        assert seen_contents == set(contents)
        return
    assert seen_reporters == set()  # the reporter's address: staff only
    own = {content for content, registrar_id in contents.items() if registrar_id == own_registrar}
    assert seen_contents == own  # a complaint's content: the registrar it was routed to only
    statuses = {path.split("?")[0]: response.status_code for path, response in answers}
    expected = {"public": 401, "requester": 403, "law-enforcement": 403, "registrar": 200}[role]
    assert statuses["/registrar/accuracy"] == statuses["/registrar/complaints"] == expected
    if role != "registrar":
        return
    assert own
    with db.read_scope() as session:
        own_domains = set(
            session.scalars(select(Domain.ldh_name).where(Domain.registrar_id == own_registrar))
        )
    listed = [
        domain["ldhName"]
        for path, response in answers
        if path.startswith("/registrar/accuracy")
        for domain in response.get_json()["domains"]
    ]
    assert listed, "the registrar's report should list some of its domains"
    assert set(listed) <= own_domains


def test_staff_signed_in_see_markers(app, client, db, marked) -> None:  # type: ignore[no-untyped-def]
    """The web pages of signed-in staff (password and TOTP) show what staff tokens show."""
    import pyotp

    staff = create(app, "--username", "rita@example.org", "--name", "Rita", "--role", "staff")
    code = pyotp.parse_uri(staff["totp_uri"]).now()
    finish(client, sign_in(client, "rita@example.org", staff["password"], code))
    marker = marked.markers[0]
    page = client.get(f"/entity/{marker.contact}", headers=ACCEPTS["html"])
    assert page.status_code == 200
    assert _needle(marker.kind, marker.value) in page.get_data(as_text=True)
