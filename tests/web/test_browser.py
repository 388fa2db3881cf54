"""The web pages in a real browser (Debian's Chromium through Playwright): they work without
JavaScript, fit a phone, break no rule of their Content-Security-Policy, and axe-core finds no
serious or critical accessibility violation. Screenshots of every page are kept."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from rdap.models import Contact, ContactMessage, Domain
from tests.web.browser import PHONE, Shots, axe_blocking, fits_the_screen

pytestmark = pytest.mark.sqlite_only  # one browser pass: the pages do not depend on the backend


@pytest.fixture
def no_script(browser: Any) -> Iterator[Any]:
    """A phone-sized tab with JavaScript off, collecting console errors (CSP reports land there)."""
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    errors = page.errors  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    # A page answered with an error status (a 404 page, a form with errors) is reported as a
    # failed load; anything else (a blocked style, a CSP violation, a missing icon) is an error.
    page.expected = ("status of 404", "status of 422", "status of 401")  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def with_script(browser: Any) -> Iterator[Any]:
    """A tab with JavaScript on: only axe-core runs in it (our pages have no script)."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _errors(page: Any) -> list[str]:
    return [e for e in page.errors if not any(x in e for x in page.expected)]


def _first_domain(site: dict[str, Any]) -> str:
    with site["db"].read_scope() as session:
        name = session.scalars(select(Domain.ldh_name).order_by(Domain.id)).first()
    assert name
    return name


def test_public_pages_work_without_script_and_pass_axe(  # type: ignore[no-untyped-def]
    site, no_script, with_script, shots: Shots
) -> None:
    url = site["url"]
    domain = _first_domain(site)
    pages = {
        "home": "/",
        "disclosure-policy": "/disclosure-policy",
        "contact": f"/contact?domain={domain}&role=registrant",
        "not-found": "/domain/not-registered.post",
    }
    for name, path in pages.items():
        response = no_script.goto(url + path)
        assert response is not None
        assert response.status == (404 if name == "not-found" else 200), name
        assert no_script.locator("h1").count() == 1, name
        assert fits_the_screen(no_script), name
        shots.take(no_script, name)
        with_script.goto(url + path)
        assert axe_blocking(with_script) == [], name
    assert _errors(no_script) == []


def test_the_contact_form_relays_a_message_without_script(site, no_script, shots: Shots) -> None:  # type: ignore[no-untyped-def]
    url = site["url"]
    domain = _first_domain(site)
    no_script.goto(f"{url}/domain/{domain}", wait_until="domcontentloaded")
    no_script.goto(f"{url}/contact?domain={domain}&role=technical")
    no_script.fill("#sender_name", "Ana Writer")
    no_script.fill("#sender_email", "not-an-address")
    no_script.fill("#subject", "Name server answers REFUSED")
    no_script.fill("#body", "ns1 answers REFUSED for the zone since this morning.")
    no_script.click("button[type=submit]")
    assert no_script.locator("#sender_email-error").is_visible()
    shots.take(no_script, "contact-error")
    no_script.fill("#sender_email", "ana@example.org")
    no_script.click("button[type=submit]")
    assert "queued" in no_script.locator("[role=status]").inner_text()
    shots.take(no_script, "contact-sent")
    with site["db"].read_scope() as session:
        stored = session.scalars(
            select(ContactMessage).where(ContactMessage.domain == domain)
        ).one()
        assert stored.role == "technical"
        assert stored.sender_email == "ana@example.org"
    assert _errors(no_script) == []


def test_the_search_box_works_without_script(site, no_script) -> None:  # type: ignore[no-untyped-def]
    domain = _first_domain(site)
    no_script.goto(site["url"] + "/")
    no_script.fill("#q", domain)
    no_script.click("button[type=submit]")
    assert no_script.url.endswith(f"/domain/{domain}")


MARKER = re.compile(r"PII-[a-z]+-\d{7}")


def _lookup_names(site: dict[str, Any]) -> dict[str, str]:
    """An ASCII domain and an Arabic (right-to-left) IDN, both with a natural-person registrant
    (so their pages have hidden fields)."""
    with site["db"].read_scope() as session:
        rows = session.execute(
            select(Domain.ldh_name, Domain.unicode_name, Contact.person_kind)
            .join(Contact, Contact.id == Domain.registrant_id)
            .order_by(Domain.id)
        ).all()
    ascii_name = next(
        r.ldh_name for r in rows if r.unicode_name is None and r.person_kind == "natural"
    )
    arabic = next(
        r.unicode_name
        for r in rows
        if r.unicode_name and unicodedata.bidirectional(r.unicode_name[0]) in ("AL", "R")
    )
    return {"ascii": ascii_name, "idn": arabic}


def test_lookup_pages_mark_hidden_fields_and_show_no_hidden_value(  # type: ignore[no-untyped-def]
    site, no_script, with_script, shots: Shots
) -> None:
    url = site["url"]
    for kind, name in _lookup_names(site).items():
        response = no_script.goto(f"{url}/domain/{name}")
        assert response is not None
        assert response.status == 200, name
        assert response.headers["content-type"].startswith("text/html")
        text = no_script.content()
        assert MARKER.search(text) is None, (name, MARKER.search(text))
        marks = no_script.locator(".hidden-mark")
        assert marks.count() > 0, name
        # Each hidden field says why (the policy's reason) and a hidden email offers the form.
        assert no_script.locator(".hidden-mark + .reason").first.inner_text().strip()
        assert (
            no_script.get_by_role(
                "link", name="Write to this contact through the contact form"
            ).count()
            > 0
        )
        # The name in its own script, isolated for right-to-left display.
        heading = no_script.locator("h1 bdi").first
        assert heading.get_attribute("dir") == "auto"
        if kind == "idn":
            assert heading.inner_text() == name
        assert no_script.get_by_role("link", name="This answer as RDAP JSON").count() == 1
        assert fits_the_screen(no_script), name
        shots.take(no_script, f"lookup-{kind}")
        with_script.goto(f"{url}/domain/{name}")
        assert axe_blocking(with_script) == [], name
    # The raw RDAP JSON link answers JSON in the browser.
    raw = no_script.get_by_role("link", name="This answer as RDAP JSON").get_attribute("href")
    assert raw is not None
    answer = no_script.request.get(raw)
    assert answer.headers["content-type"].startswith("application/rdap+json")
    assert _errors(no_script) == []


def _rdapd(site: dict[str, Any], *args: str) -> dict[str, Any]:
    """Run `rdapd` against the served instance (its database and keys), as an operator would."""
    done = subprocess.run(
        [sys.executable, "-m", "rdap", *args],
        env=site["env"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_staff_sign_in_with_totp_without_script(site, no_script, with_script, shots: Shots) -> None:  # type: ignore[no-untyped-def]
    import pyotp

    staff = _rdapd(
        site,
        "user",
        "create",
        "--username",
        "rita@registry.example",
        "--name",
        "Rita Reviewer",
        "--role",
        "staff",
        "--json",
    )
    url = site["url"]
    no_script.goto(f"{url}/")
    no_script.get_by_role("link", name="Sign in").click()
    assert "/oauth/authorize?" in no_script.url
    shots.take(no_script, "signin")
    with_script.goto(no_script.url)
    assert axe_blocking(with_script) == []
    no_script.fill("#username", "rita@registry.example")
    no_script.fill("#password", staff["password"])
    no_script.click("button[type=submit]")
    assert "6-digit code" in no_script.locator("#signin-error").inner_text()
    no_script.fill("#username", "rita@registry.example")
    no_script.fill("#password", staff["password"])
    no_script.fill("#code", pyotp.parse_uri(staff["totp_uri"]).now())
    no_script.click("button[type=submit]")
    assert no_script.url == f"{url}/"
    assert "Signed in as Rita Reviewer" in no_script.locator("header").inner_text()
    cookies = {c["name"]: c for c in no_script.context.cookies()}
    session = cookies["rdapd_session"]
    assert session["secure"]
    assert session["httpOnly"]
    assert session["sameSite"] == "Lax"
    shots.take(no_script, "signed-in")
    no_script.get_by_role("button", name="Sign out").click()
    assert no_script.get_by_role("link", name="Sign in").count() == 1
    assert _errors(no_script) == []


def test_the_disclosure_workflow_in_the_browser(site, no_script, browser, shots: Shots) -> None:  # type: ignore[no-untyped-def]
    """Must show: a requester signs in, files a request, sees a validation error, fixes it,
    submits; a reviewer (with TOTP) approves part of it; the requester then sees exactly the
    approved elements; the statistics page shows its charts."""
    import pyotp

    made = _rdapd(
        site,
        "accreditation",
        "create",
        "--org",
        "IP Firm AG",
        "--type",
        "ip",
        "--jurisdiction",
        "CH",
        "--purposes",
        "legalActions",
        "--json",
    )
    ana = _rdapd(
        site,
        "user",
        "create",
        "--username",
        "ana@ip-firm.example",
        "--name",
        "Ana Analyst",
        "--role",
        "requester",
        "--accreditation",
        made["accreditation_id"],
        "--json",
    )
    rita = _rdapd(
        site,
        "user",
        "create",
        "--username",
        "rev@registry.example",
        "--name",
        "Rev Iewer",
        "--role",
        "staff",
        "--json",
    )
    url = site["url"]
    domain = _lookup_names(site)["ascii"]

    def sign_in(page: Any, username: str, password: str, code: str = "") -> None:
        page.goto(f"{url}/signin")
        page.fill("#username", username)
        page.fill("#password", password)
        if code:
            page.fill("#code", code)
        page.click("main button[type=submit]")
        assert "Signed in as" in page.locator("header").inner_text()

    # The requester files from the domain's page.
    sign_in(no_script, "ana@ip-firm.example", ana["password"])
    no_script.goto(f"{url}/domain/{domain}")
    no_script.get_by_role("link", name="Request disclosure of hidden data", exact=True).click()
    no_script.select_option("#purpose", "legalActions")
    no_script.fill("#legal_basis", "GDPR 6(1)(f)")
    no_script.fill("#rationale", "too short")
    no_script.check("input[name=data_elements][value='technical.email']")
    no_script.check("input[name=data_elements][value='technical.phone']")
    no_script.check("input[name=good_faith_affirmation]")
    no_script.click("main button[type=submit]")
    assert no_script.locator("#rationale-error").is_visible()
    shots.take(no_script, "request-error")
    no_script.fill(
        "#rationale",
        "The technical contact's email and phone are needed to stop an ongoing infringement.",
    )
    no_script.click("main button[type=submit]")
    assert "/portal/requests/" in no_script.url
    request_url = no_script.url
    shots.take(no_script, "request-filed")

    # The reviewer approves the email only.
    reviewer = browser.new_context(java_script_enabled=False, viewport=PHONE).new_page()
    sign_in(
        reviewer, "rev@registry.example", rita["password"], pyotp.parse_uri(rita["totp_uri"]).now()
    )
    reviewer.goto(f"{url}/review")
    shots.take(reviewer, "review-queue")
    reviewer.locator(f"a[href$='{request_url.rsplit('/', 1)[1]}']").click()
    reviewer.uncheck("input[name=data_elements][value='technical.phone']")
    reviewer.check("input[name=reasons][value='data_not_necessary']")
    reviewer.fill(
        "#rationale", "The email suffices to reach the contact; the phone is not necessary."
    )
    reviewer.click("main button[type=submit]")
    assert "partially approved" in reviewer.locator("main").inner_text()
    shots.take(reviewer, "review-decided")
    reviewer.goto(f"{url}/statistics")
    assert reviewer.locator("svg.chart").count() == 3
    shots.take(reviewer, "statistics")

    # The requester sees exactly the approved element.
    no_script.goto(request_url)
    technical = no_script.locator("#contact-technical").locator("xpath=..")
    email = technical.locator("tr", has_text="Email").locator("td")
    phone = technical.locator(
        "tr", has=no_script.locator("th", has_text=re.compile(r"^Phone$"))
    ).locator("td")
    assert "@" in email.inner_text()
    assert phone.locator(".hidden-mark").count() == 1
    shots.take(no_script, "request-disclosed")
    reviewer.context.close()
