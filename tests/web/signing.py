"""Signing people in through the web pages with the Flask test client (the authorization-code
flow with PKCE, as a browser follows it)."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

BROWSER = {"Accept": "text/html"}


def create(app, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    result = app.test_cli_runner().invoke(args=["user", "create", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def token_of(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found is not None
    return found.group(1)


def hidden_fields(text: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', text))


def sign_in(client, username: str, password: str, code: str = ""):  # type: ignore[no-untyped-def]
    start = client.get("/signin", headers=BROWSER)
    assert start.status_code == 303
    authorize = urlsplit(start.headers["Location"])
    query = parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"]
    assert "code_verifier" not in query  # only the challenge travels
    page = client.get(f"{authorize.path}?{authorize.query}", headers=BROWSER)
    assert page.status_code == 200
    form = hidden_fields(page.get_data(as_text=True))
    form.update(username=username, password=password, code=code)
    return client.post("/oauth/authorize", data=form, headers=BROWSER)


def finish(client, answer):  # type: ignore[no-untyped-def]
    assert answer.status_code == 302, answer.get_data(as_text=True)
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/signin/callback"
    done = client.get(f"{back.path}?{back.query}", headers=BROWSER)
    assert done.status_code == 303
    return done


def accreditation(app, org_type: str = "ip", org: str = "IP Firm AG") -> str:  # type: ignore[no-untyped-def]
    """A new active accreditation (rdapd accreditation create); its id."""
    made = app.test_cli_runner().invoke(
        args=[
            "accreditation",
            "create",
            "--org",
            org,
            "--type",
            org_type,
            "--jurisdiction",
            "CH",
            "--purposes",
            "legalActions",
            "--json",
        ]
    )
    assert made.exit_code == 0, made.output
    found: str = json.loads(made.output)["accreditation_id"]
    return found
