"""Identity for HTTP channels: bearer token → Principal on flask.g, before any view runs."""

from __future__ import annotations

import datetime as dt
import ipaddress

from flask import current_app, g, request

from rdap.auth import authenticate, reject_token_in_query
from rdap.errors import Unauthorized
from rdap.principal import ANONYMOUS, PURPOSE_PARAM, Principal, principal_for
from rdap.views.current import runtime
from rdap.views.oauth import oauth_state
from rdap.views.ratelimit import PRINCIPAL_ATTR


def principal() -> Principal:
    found: Principal | None = g.get(PRINCIPAL_ATTR)
    return found or ANONYMOUS


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def require_tls_for_credentials() -> None:
    """Credentials (bearer tokens, client secrets) travel only over TLS, except on loopback."""
    rt = runtime()
    if rt.settings.require_tls and not request.is_secure and not _loopback(request.remote_addr):
        raise Unauthorized("credentials are accepted only over TLS")


def identify() -> None:
    """Who is asking: no credential is the public; a bad credential is a 401, never a fallback."""
    reject_token_in_query(request.args)
    rt = runtime()
    header = request.headers.get("Authorization")
    purpose = request.args.get(PURPOSE_PARAM)
    if header is None and purpose is None:
        g.principal = ANONYMOUS
        return
    if header is not None:
        require_tls_for_credentials()
    verifier = oauth_state(current_app).verifier
    claims = authenticate(header, verifier=verifier, now=dt.datetime.now(dt.UTC))
    # The primary: a revoked client or accreditation must not live on in a lagging replica.
    with rt.db.primary_connection() as connection:
        g.principal = principal_for(claims, purpose=purpose, connection=connection, now=rt.clock())
