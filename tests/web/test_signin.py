"""Sign-in for people: `rdapd user create|disable`, the authorization-code flow with PKCE
against the built-in server, TOTP for staff (each code once), sessions in Secure/HttpOnly/
SameSite cookies that end when the account is disabled."""

from __future__ import annotations

from urllib.parse import urlsplit

import pyotp
import pytest

from tests.web.signing import BROWSER, accreditation, create, finish, sign_in, token_of


@pytest.fixture
def staff(app) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return create(
        app, "--username", "Rita@Registry.example", "--name", "Rita Reviewer", "--role", "staff"
    )


def test_staff_sign_in_with_password_and_totp(app, client, staff) -> None:  # type: ignore[no-untyped-def]
    assert staff["username"] == "rita@registry.example"
    totp = pyotp.parse_uri(staff["totp_uri"])
    # Password alone: the code is asked for.
    answer = sign_in(client, "rita@registry.example", staff["password"])
    assert answer.status_code == 401
    assert "6-digit code" in answer.get_data(as_text=True)
    # A wrong code is refused like a wrong password.
    wrong = str((int(totp.now()) + 1) % 1000000).zfill(6)
    answer = sign_in(client, "rita@registry.example", staff["password"], wrong)
    assert answer.status_code == 401
    code = totp.now()
    done = finish(client, sign_in(client, "RITA@registry.example", staff["password"], code))
    cookie = done.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    home = client.get("/", headers=BROWSER)
    assert "Signed in as Rita Reviewer" in home.get_data(as_text=True)
    assert home.headers["Cache-Control"] == "private, no-store"
    # The same code again is refused (a replayed code), even with the right password.
    other = app.test_client()
    assert sign_in(other, "rita@registry.example", staff["password"], code).status_code == 401


def test_a_requester_signs_in_with_a_password(app, client) -> None:  # type: ignore[no-untyped-def]
    person = create(
        app,
        "--accreditation",
        accreditation(app),
        "--username",
        "ana@ip-firm.example",
        "--name",
        "Ana Analyst",
        "--role",
        "requester",
        "--purpose",
        "legalActions",
    )
    assert person["totp_uri"] is None
    finish(client, sign_in(client, "ana@ip-firm.example", person["password"]))
    assert "Signed in as Ana Analyst" in client.get("/", headers=BROWSER).get_data(as_text=True)
    # Sign out needs the form's token, then the session is gone.
    page = client.get("/", headers=BROWSER).get_data(as_text=True)
    assert client.post("/signout", headers=BROWSER).status_code == 400
    assert client.post("/signout", data={"csrf_token": token_of(page)}).status_code == 303
    assert "Signed in as" not in client.get("/", headers=BROWSER).get_data(as_text=True)


def test_disabling_a_person_ends_their_session_at_once(app, client) -> None:  # type: ignore[no-untyped-def]
    person = create(
        app,
        "--accreditation",
        accreditation(app),
        "--username",
        "bo@ip-firm.example",
        "--name",
        "Bo",
        "--role",
        "requester",
    )
    finish(client, sign_in(client, "bo@ip-firm.example", person["password"]))
    result = app.test_cli_runner().invoke(args=["user", "disable", "bo@ip-firm.example"])
    assert result.exit_code == 0, result.output
    assert "Signed in as" not in client.get("/", headers=BROWSER).get_data(as_text=True)
    assert sign_in(app.test_client(), "bo@ip-firm.example", person["password"]).status_code == 401
    result = app.test_cli_runner().invoke(args=["user", "disable", "nobody@example"])
    assert result.exit_code == 1
    assert "no user nobody@example" in result.output


def test_the_flow_refuses_what_it_did_not_start(app, client) -> None:  # type: ignore[no-untyped-def]
    person = create(
        app,
        "--accreditation",
        accreditation(app),
        "--username",
        "cy@ip-firm.example",
        "--name",
        "Cy",
        "--role",
        "requester",
    )
    answer = sign_in(client, "cy@ip-firm.example", person["password"])
    back = urlsplit(answer.headers["Location"])
    # Another browser (no flow in its session) cannot use the code.
    assert app.test_client().get(f"{back.path}?{back.query}").status_code == 400
    # An authorization request without PKCE, or with plain, is refused.
    base = (
        "/oauth/authorize?response_type=code&client_id=rdapd-web"
        "&redirect_uri=http%3A%2F%2Flocalhost%2Fsignin%2Fcallback&state=x"
    )
    assert client.get(base, headers=BROWSER).status_code == 400
    assert (
        client.get(
            base + "&code_challenge=" + "a" * 43 + "&code_challenge_method=plain", headers=BROWSER
        ).status_code
        == 400
    )
    # Another redirect URI is refused.
    evil = base.replace("localhost", "evil.example") + "&code_challenge=" + "a" * 43
    assert client.get(evil, headers=BROWSER).status_code == 400
