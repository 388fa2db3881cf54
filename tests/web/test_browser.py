"""The web pages in a real browser (Debian's Chromium through Playwright): they work without
JavaScript, fit a phone, break no rule of their Content-Security-Policy, and axe-core finds no
serious or critical accessibility violation. Screenshots of every page are kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from rdap.models import ContactMessage, Domain
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
    page.expected = ("status of 404", "status of 422")  # type: ignore[attr-defined]
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
