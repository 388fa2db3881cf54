"""The disclosure portal, the review queue and the statistics page with the Flask test client:
a requester files (with field errors first), a reviewer with TOTP approves part, the requester
sees exactly the approved elements; the pages call the disclosure services."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from rdap.db import Database
from rdap.escrow.commands import load_demo
from rdap.models import Domain
from tests.web.signing import BROWSER, accreditation, create, finish, sign_in, token_of


@pytest.fixture
def people(app, db: Database) -> dict:  # type: ignore[no-untyped-def, type-arg]
    load_demo(db, tld="post", size=12, seed=5)
    requester = create(
        app,
        "--username",
        "ana@ip-firm.example",
        "--name",
        "Ana Analyst",
        "--role",
        "requester",
        "--accreditation",
        accreditation(app),
    )
    staff = create(
        app, "--username", "rita@registry.example", "--name", "Rita Reviewer", "--role", "staff"
    )
    with db.read_scope() as session:
        domain = session.scalars(select(Domain.ldh_name).order_by(Domain.id)).first()
    return {"requester": requester, "staff": staff, "domain": domain}


def test_request_review_and_disclosure(app, people) -> None:  # type: ignore[no-untyped-def]
    domain = people["domain"]
    ana = app.test_client()
    finish(ana, sign_in(ana, "ana@ip-firm.example", people["requester"]["password"]))
    form = ana.get(f"/portal/new?domain={domain}", headers=BROWSER)
    assert form.status_code == 200
    token = token_of(form.get_data(as_text=True))
    body = {
        "csrf_token": token,
        "domain": domain,
        "purpose": "legalActions",
        "legal_basis": "GDPR 6(1)(f)",
        "rationale": "too short",
        "data_elements": ["registrant.email", "registrant.fax"],
        "tlp": "TLP:AMBER",
        "good_faith_affirmation": "yes",
    }
    refused = ana.post("/portal/new", data=body, headers=BROWSER)
    assert refused.status_code == 422
    errors = dict(
        re.findall(
            r'<p class="error" id="([a-z_]+)-error">([^<]+)</p>', refused.get_data(as_text=True)
        )
    )
    assert set(errors) == {"rationale"}
    body["rationale"] = "We need the registrant's email and fax to serve a trademark claim notice."
    sent = ana.post("/portal/new", data=body, headers=BROWSER)
    assert sent.status_code == 303, sent.get_data(as_text=True)
    request_path = sent.headers["Location"].replace("http://localhost", "")
    request_id = request_path.rsplit("/", 1)[1]
    page = ana.get(request_path, headers=BROWSER).get_data(as_text=True)
    assert "acknowledged" in page
    assert "Disclosed data" not in page

    rita = app.test_client()
    code = pyotp.parse_uri(people["staff"]["totp_uri"]).now()
    finish(rita, sign_in(rita, "rita@registry.example", people["staff"]["password"], code))
    queue = rita.get("/review", headers=BROWSER).get_data(as_text=True)
    assert f"/review/{request_id}" in queue
    review = rita.get(f"/review/{request_id}", headers=BROWSER).get_data(as_text=True)
    assert "IP Firm AG" in review
    decision = {
        "csrf_token": token_of(review),
        "action": "approve",
        "data_elements": ["registrant.email"],
        "valid_days": "30",
        "reasons": ["data_not_necessary"],
        "rationale": "The email suffices to serve the notice; the fax is not necessary.",
    }
    decided = rita.post(f"/review/{request_id}", data=decision, headers=BROWSER)
    assert decided.status_code == 303, decided.get_data(as_text=True)
    assert "partially approved" in rita.get(f"/review/{request_id}", headers=BROWSER).get_data(
        as_text=True
    )

    page = ana.get(request_path, headers=BROWSER).get_data(as_text=True)
    assert "Disclosed data" in page
    disclosed = page.split("Disclosed data", 1)[1]
    registrant = disclosed.split('id="contact-registrant"', 1)[1].split("</section>", 1)[0]
    assert re.search(
        r"<th scope=\"row\">Email</th><td><bdi dir=\"auto\">[^<]+@[^<]+</bdi>", registrant
    )
    assert re.search(r"<th scope=\"row\">Fax</th><td><span class=\"hidden-mark\">", registrant)
    # Exactly the approved element: the public view shows no email, the page before the grant
    # showed no disclosed data at all.

    stats = rita.get("/statistics", headers=BROWSER)
    assert stats.status_code == 200
    assert stats.get_data(as_text=True).count('<svg class="chart"') == 3
    # Requesters do not see the queue or the statistics.
    assert ana.get("/review", headers=BROWSER).status_code == 403
    assert ana.get("/statistics", headers=BROWSER).status_code == 403
