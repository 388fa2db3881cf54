"""Sign-in for people: the web pages are a public client of the built-in authorization server
(authorization code + PKCE S256); the server's sign-in page checks the password and, for staff,
a TOTP code; the session (a signed cookie) then holds the verified token's claims."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

import orjson
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, current_app, request, session
from flask_wtf.csrf import generate_csrf
from werkzeug.test import EnvironBuilder

from rdap import b64url, people
from rdap.auth import authenticate
from rdap.errors import QueryError, Unauthorized
from rdap.oauth import codes
from rdap.ratelimit import auth_failure_keys
from rdap.views.current import runtime
from rdap.views.identity import require_tls_for_credentials
from rdap.views.oauth import oauth_state
from rdap.views.ratelimit import ratelimits, refusal
from rdap.views.urls import base_url
from rdap.views.web import SESSION_KEY, page, read_form

log = logging.getLogger("rdap.signin")
blueprint = Blueprint("signin", __name__)
blueprint.before_request(require_tls_for_credentials)  # passwords, as secrets: TLS or loopback

FLOW_KEY = "signin_flow"
# The OAuth parameters the sign-in page carries from the authorization request to its post.
OAUTH_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return b64url.encode(digest)


# --- the flow ----------------------------------------------------------------------------------


@blueprint.get("/signin")
def start() -> Response:
    """Start the authorization-code flow: a fresh PKCE verifier and state in the session."""
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(24)
    session[FLOW_KEY] = {"verifier": verifier, "state": state}
    query = urlencode(
        {
            "response_type": "code",
            "client_id": codes.PORTAL_CLIENT_ID,
            "redirect_uri": base_url() + codes.CALLBACK_PATH,
            "scope": "rdap",
            "state": state,
            "code_challenge": _s256(verifier),
            "code_challenge_method": "S256",
        }
    )
    return _see_other(f"/oauth/authorize?{query}")


def _see_other(path: str) -> Response:
    response = Response(status=303)
    response.headers["Location"] = base_url() + path
    response.headers["Cache-Control"] = "no-store"
    return response


def _signin_page(params: dict[str, str], error: str | None, status: int = 200) -> Response:
    return page(
        "web/signin.html",
        "Sign in",
        status=status,
        private=True,
        context={"params": params, "error": error, "csrf_token": generate_csrf()},
    )


def _only_for_these_pages(source: Any) -> None:
    """The authorization endpoint serves the web pages' own client and the code flow only;
    anything else is refused before authlib sees it (authlib cannot describe some values)."""
    if source.get("response_type") != "code" or source.get("client_id") != codes.PORTAL_CLIENT_ID:
        raise QueryError("not a valid authorization request for this server")


def _oauth_params(source: Any) -> dict[str, str]:
    return {name: str(source.get(name, ""))[:1000] for name in OAUTH_PARAMS}


@blueprint.get("/oauth/authorize")
def authorize_page() -> Response:
    """The authorization server's sign-in page, for a valid authorization request only."""
    server = oauth_state(current_app).server
    _only_for_these_pages(request.args)
    try:
        server.get_consent_grant(end_user=None)
    except OAuth2Error as exc:
        raise QueryError(f"not a valid authorization request ({exc.error})") from None
    return _signin_page(_oauth_params(request.args), None)


@blueprint.post("/oauth/authorize")
def authorize() -> Response:
    form = read_form()
    _only_for_these_pages(form)
    params = _oauth_params(form)
    limits = ratelimits()
    username = people.normalise(form.get("username", ""))[:254]
    keys = auth_failure_keys(f"person:{username}", request.remote_addr)
    verdict = limits.check_failures(keys)
    if not verdict.allowed:
        raise refusal(verdict)
    state = oauth_state(current_app)
    try:
        with runtime().db.session_scope() as db_session:
            person = people.sign_in(
                db_session,
                username=username,
                password=form.get("password", ""),
                code=form.get("code") or None,
                sealer=state.sealer,
                now=_now(),
            )
    except people.SecondFactorNeeded:
        return _signin_page(params, "Enter the 6-digit code from your authenticator app.", 401)
    except people.SignInRefused:
        limits.record_failure(keys)
        return _signin_page(params, "The username, password or code is not right.", 401)
    account = codes.Account(
        person_id=person.person_id,
        client_id=person.client_id,
        role=person.role,
        purposes=(),
        methods=person.methods,
        auth_time=_now(),
    )
    builder = EnvironBuilder(
        path="/oauth/authorize", base_url=base_url(), method="GET", query_string=params
    )
    # authlib reads Flask's current request: the authorization request runs in its own
    # request context, made of the parameters the sign-in page carried (no credentials).
    try:
        with current_app.request_context(builder.get_environ()):
            grant = state.server.get_consent_grant(end_user=account)
            response: Response = state.server.create_authorization_response(
                grant_user=account, grant=grant
            )
    except OAuth2Error as exc:
        raise QueryError(f"not a valid authorization request ({exc.error})") from None
    finally:
        builder.close()
    session[SESSION_KEY + "_name"] = person.display_name
    return response


@blueprint.get(codes.CALLBACK_PATH)
def callback() -> Response:
    """The code comes back: check the state, redeem it with the PKCE verifier at the token
    endpoint, verify the token, and keep its claims in the session."""
    flow = session.pop(FLOW_KEY, None)
    code = request.args.get("code", "")
    if not isinstance(flow, dict) or not code or request.args.get("state") != flow.get("state"):
        raise QueryError("this sign-in is not the one started here; sign in again")
    state = oauth_state(current_app)
    builder = EnvironBuilder(
        path="/oauth/token",
        base_url=base_url(),
        method="POST",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": base_url() + codes.CALLBACK_PATH,
            "client_id": codes.PORTAL_CLIENT_ID,
            "code_verifier": flow["verifier"],
        },
    )
    try:
        with current_app.request_context(builder.get_environ()):  # as above: authlib reads it
            answer = state.server.create_token_response()
    finally:
        builder.close()
    token = (
        orjson.loads(answer.get_data()).get("access_token") if answer.status_code == 200 else None
    )
    if not token:
        log.warning("sign-in code not redeemed: %s", answer.get_data()[:200])
        raise Unauthorized("the sign-in could not be completed; sign in again")
    claims = authenticate(f"Bearer {token}", verifier=state.verifier, now=_now())
    if claims is None or claims.client_id is None:  # pragma: no cover - a token always has them
        raise Unauthorized("the sign-in could not be completed; sign in again")
    name = session.pop(SESSION_KEY + "_name", "")
    session.clear()  # a new session at sign-in (no fixation)
    session.permanent = True
    lifetime = current_app.permanent_session_lifetime
    session[SESSION_KEY] = {
        "iss": claims.issuer,
        "sub": claims.subject,
        "jti": claims.token_id,
        "role": claims.role,
        "purposes": sorted(claims.purposes),
        "client_id": claims.client_id,
        "name": name,
        "exp": int((_now() + lifetime).timestamp()),
    }
    return _see_other("/")


@blueprint.post("/signout")
def signout() -> Response:
    read_form()
    session.clear()
    return _see_other("/")
