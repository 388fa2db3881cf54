"""OAuth HTTP endpoints: token, revocation, JWKS and RFC 8414 metadata (thin over rdap.oauth)."""

from __future__ import annotations

import dataclasses
import logging

import orjson
from authlib.integrations.flask_oauth2 import AuthorizationServer
from flask import Blueprint, Flask, Response, current_app, jsonify

from rdap.auth import TokenVerifier
from rdap.db import Database
from rdap.errors import ServiceUnavailable
from rdap.oauth import codes, keys, service
from rdap.ratelimit import Verdict
from rdap.render import rdap_json
from rdap.settings import Settings
from rdap.views.ratelimit import limit_auth_failures, refusal
from rdap.views.urls import base_url

bp = Blueprint("oauth", __name__)
log = logging.getLogger("rdap.oauth")

EXTENSION = "rdapd.oauth"


@dataclasses.dataclass(frozen=True)
class OAuthState:
    """Per-application OAuth collaborators; the RDAP views take `verifier` from here."""

    settings: Settings
    db: Database
    verifier: TokenVerifier
    server: AuthorizationServer
    sealer: keys.KeySealer


def init_oauth(app: Flask, settings: Settings, db: Database) -> OAuthState:
    """Build the verifier (always) and, when enabled, the authorization server and routes."""
    # authlib logs issued tokens at DEBUG; tokens never go to logs.
    authlib_log = logging.getLogger("authlib")
    authlib_log.setLevel(max(authlib_log.getEffectiveLevel(), logging.INFO))
    verifier = TokenVerifier.from_settings(settings, db)
    sealer = keys.KeySealer.from_settings(settings)
    server = AuthorizationServer()

    def query_client(client_id: str) -> object:
        if client_id == codes.PORTAL_CLIENT_ID:  # the web pages, built in
            return codes.PortalClient(redirect_uri=base_url() + codes.CALLBACK_PATH)
        return service.load_client(db, client_id)

    server.init_app(
        app,
        query_client=query_client,
        save_token=lambda token, request: None,  # stateless JWTs: nothing to store
    )
    server.register_client_auth_method("client_secret_basic", service.client_secret_basic)
    server.register_token_generator("default", service.AccessTokens(settings, db, sealer))
    server.register_grant(service.ClientCredentials)
    server.register_grant(codes.make_grant(db), [codes.S256Only(required=True)])

    def identify(token: str) -> service.IssuedToken | None:
        found = verifier.identify_own(token)
        return service.IssuedToken(*found) if found else None

    server.register_endpoint(service.Revocation(server, identify=identify, db=db))
    state = OAuthState(settings=settings, db=db, verifier=verifier, server=server, sealer=sealer)
    app.extensions[EXTENSION] = state
    if settings.oauth_enabled:
        app.register_blueprint(bp)
    return state


def oauth_state(app: Flask) -> OAuthState:
    state: OAuthState = app.extensions[EXTENSION]
    return state


@bp.before_request
def _credentials_over_tls() -> None:
    from rdap.views.identity import require_tls_for_credentials  # identity imports this module

    require_tls_for_credentials()


def _too_many_failures(verdict: Verdict) -> Response:
    """429 for a spent failure budget: an RFC 9083 error body that is also an OAuth error
    response (RFC 6749 §5.2 `error`; `temporarily_unavailable` as in §4.1.2.1)."""
    error = refusal(verdict)
    runtime = current_app.extensions.get("rdapd")
    body = rdap_json.error_json(error, runtime.profile if runtime is not None else None)
    body["error"] = "temporarily_unavailable"
    body["error_description"] = error.description
    response = Response(orjson.dumps(body), status=429, mimetype="application/json")
    response.headers["Retry-After"] = str(error.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/oauth/token")
def token() -> Response:
    server = oauth_state(current_app).server
    try:
        response: Response = limit_auth_failures(server.create_token_response, _too_many_failures)
    except keys.KeyUnavailable as exc:
        log.error("no token can be signed: %s", exc)
        raise ServiceUnavailable("tokens cannot be issued now; try again later") from None
    return response


@bp.post("/oauth/revoke")
def revoke() -> Response:
    server = oauth_state(current_app).server
    response: Response = limit_auth_failures(
        lambda: server.create_endpoint_response("revocation"), _too_many_failures
    )
    return response


@bp.get("/oauth/jwks")
def jwks() -> Response:
    state = oauth_state(current_app)
    with state.db.session_scope() as session:
        keys.ensure_signing_key(session, service.utcnow(), state.sealer)
        grace = max(state.settings.oauth_token_ttl * 2, 600)
        document = keys.jwks_document(keys.public_keys(session, service.utcnow(), grace))
    response = jsonify(document)
    response.content_type = "application/jwk-set+json"
    response.cache_control.max_age = 60
    return response


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    response = jsonify(service.server_metadata(oauth_state(current_app).settings))
    response.cache_control.max_age = 300
    return response
