"""The built-in authorization server's rules: clients, secrets, JWT access tokens, revocation."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote

from authlib.oauth2.rfc6749 import ClientMixin, InvalidClientError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from joserfc import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from rdap import b64url
from rdap.db import Database
from rdap.models import OAuthClient, Registrar, RevokedToken
from rdap.models.client import ACTIVE, CLIENT_ROLES, REVOKED
from rdap.oauth import keys
from rdap.principal import PURPOSES, REGISTRAR
from rdap.settings import Settings

Clock = Callable[[], dt.datetime]
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
# How client secrets are stored. They are 256 random bits made by create_client, never chosen
# by people: NIST SP 800-63B §5.1.2.2 asks for an approved one-way function (SHA-256) for
# secrets of at least 112 bits, and a key-stretching function only below that. Stretching
# (scrypt, 16 MiB and ~60 ms a check) bought nothing against guessing 2^256 values and made
# every unauthenticated token request a CPU and memory sink.
SECRET_SCHEME = "sha256"  # noqa: S105 - a scheme name, not a secret
# Hashes of clients created before that choice; still verified, replaced on their next success.
_LEGACY_SCRYPT = "scrypt"
# RFC 6749 Appendix A.1: client_id = *VSCHAR (%x20-7E).
_VSCHAR = re.compile(r"[\x20-\x7e]+")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ClientError(ValueError):
    """A client-management request was refused; the message is fit for a terminal."""


# --- secrets ------------------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    """The stored form of a client secret: `sha256$<digest, base64url>`."""
    return f"{SECRET_SCHEME}${b64url.encode(hashlib.sha256(secret.encode()).digest())}"


def verify_secret(secret: str, stored: str) -> bool:
    """Does `secret` match the stored hash? Constant-time in the digest comparison."""
    scheme, _, rest = stored.partition("$")
    if scheme == SECRET_SCHEME:
        candidate = hashlib.sha256(secret.encode()).digest()
        return hmac.compare_digest(candidate, b64url.decode(rest))
    if scheme == _LEGACY_SCRYPT:
        try:
            n, r, p, salt, digest = rest.split("$")
            candidate = hashlib.scrypt(
                secret.encode(), salt=b64url.decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
            )
        except ValueError:
            return False
        return hmac.compare_digest(candidate, b64url.decode(digest))
    return False


def needs_rehash(stored: str) -> bool:
    return not stored.startswith(SECRET_SCHEME + "$")


# What an unknown or revoked client id is checked against, so that it costs what a wrong secret
# of a known client costs and the time of an answer does not tell which ids exist.
_DUMMY_HASH = hash_secret(secrets.token_urlsafe(32))


# --- client management ----------------------------------------------------------------------------


def create_client(
    session: Session,
    *,
    role: str,
    name: str,
    registrar_iana_id: int | None = None,
    purposes: Sequence[str] = (),
    urgent_allowed: bool = False,
    now: dt.datetime,
) -> tuple[OAuthClient, str]:
    """Register a client; returns the row and its secret (shown once, stored only hashed)."""
    if role not in CLIENT_ROLES:
        raise ClientError(f"unknown role {role!r}; choose one of {', '.join(CLIENT_ROLES)}")
    if not name.strip():
        raise ClientError("a client needs a non-empty --name")
    unknown = sorted(set(purposes) - PURPOSES)
    if unknown:
        raise ClientError(
            f"unknown purpose {unknown[0]!r}; RFC 9560 values: {', '.join(sorted(PURPOSES))}"
        )
    registrar_id: int | None = None
    if role == REGISTRAR:
        if registrar_iana_id is None:
            raise ClientError("role registrar needs --registrar IANA_ID")
        registrar = session.scalars(
            select(Registrar).where(Registrar.iana_id == registrar_iana_id).order_by(Registrar.id)
        ).first()
        if registrar is None:
            raise ClientError(f"no registrar with IANA ID {registrar_iana_id}")
        registrar_id = registrar.id
    elif registrar_iana_id is not None:
        raise ClientError("--registrar applies only to role registrar")
    secret = secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=f"rdapd-{secrets.token_hex(8)}",
        secret_hash=hash_secret(secret),
        name=name.strip(),
        role=role,
        registrar_id=registrar_id,
        allowed_purposes=sorted(set(purposes)),
        urgent_allowed=urgent_allowed,
        status=ACTIVE,
        created_at=now,
    )
    session.add(client)
    session.flush()
    return client, secret


def list_clients(session: Session) -> list[OAuthClient]:
    return list(session.scalars(select(OAuthClient).order_by(OAuthClient.id)))


def revoke_client(session: Session, client_id: str, now: dt.datetime) -> OAuthClient:
    """Mark a client revoked: its tokens fail on their next use, on every process."""
    client = session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()
    if client is None:
        raise ClientError(f"no client {client_id!r}")
    if client.status != REVOKED:
        client.status = REVOKED
        client.revoked_at = now
    return client


def client_scope(role: str) -> str:
    """The OAuth scope a role's tokens carry (registrars: their own domains only)."""
    return "rdap registrar:own" if role == REGISTRAR else "rdap"


# --- authlib adapters -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AuthClient(ClientMixin):  # type: ignore[misc]
    """A snapshot of an active OAuthClient in the shape authlib's server expects."""

    client_id: str
    secret_hash: str
    role: str
    allowed_purposes: tuple[str, ...]
    # False: a stand-in for an id that is unknown or revoked; its secret never matches.
    known: bool = True
    # Called with the secret after it matched a hash in an old scheme, to store it anew.
    rehash: Callable[[str], None] | None = dataclasses.field(default=None, compare=False)

    @classmethod
    def from_row(cls, row: OAuthClient, rehash: Callable[[str], None] | None = None) -> AuthClient:
        return cls(
            row.client_id, row.secret_hash, row.role, tuple(row.allowed_purposes), rehash=rehash
        )

    @classmethod
    def unknown(cls, client_id: str) -> AuthClient:
        return cls(client_id, _DUMMY_HASH, "", (), known=False)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = client_scope(self.role).split()
        if not scope:
            return " ".join(allowed)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        matched = verify_secret(client_secret, self.secret_hash) and self.known
        if matched and self.rehash is not None and needs_rehash(self.secret_hash):
            self.rehash(client_secret)
        return matched

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


def load_client(db: Database, client_id: str) -> AuthClient:
    """The active client with this id, read fresh from the database (revocation is immediate);
    for an unknown or revoked id, or one outside RFC 6749's VSCHAR (printable ASCII, never
    looked up), a stand-in whose check costs the same and always fails."""
    if not _VSCHAR.fullmatch(client_id):
        return AuthClient.unknown(client_id)
    with db.read_scope() as session:
        row = session.scalars(
            select(OAuthClient).where(
                OAuthClient.client_id == client_id, OAuthClient.status == ACTIVE
            )
        ).first()
        if row is None:
            return AuthClient.unknown(client_id)
        return AuthClient.from_row(row, rehash=lambda secret: _store_hash(db, client_id, secret))


def _store_hash(db: Database, client_id: str, secret: str) -> None:
    with db.session_scope() as session:
        row = session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()
        if row is not None:
            row.secret_hash = hash_secret(secret)


def client_secret_basic(
    query_client: Callable[[str], AuthClient | None], request: Any
) -> AuthClient | None:
    """RFC 6749 §2.3.1 HTTP Basic client authentication, registered in place of authlib's.

    Credentials that are not base64 of UTF-8 `client_id:secret` (authlib raised a
    UnicodeDecodeError, a 500, on some) are an invalid_client (401) like wrong ones. An unknown
    id and a wrong secret get the same answer (None: authlib's 401 invalid_client).
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    client_id, colon, secret = decoded.partition(":")
    if not (colon and client_id and secret):
        raise InvalidClientError(
            status_code=401, description="the Basic credentials are not client_id:secret"
        )
    client = query_client(unquote(client_id))
    if client is None or not client.check_client_secret(unquote(secret)):
        return None
    return client


class ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    """RFC 6749 §4.4 with HTTP Basic and client_secret_post client authentication."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class AccessTokens(BearerTokenGenerator):  # type: ignore[misc]
    """Issues RFC 9068 JWT access tokens (typ at+jwt) signed with the shared database key."""

    def __init__(
        self, settings: Settings, db: Database, sealer: keys.KeySealer, clock: Clock = utcnow
    ) -> None:
        super().__init__(self._access_token, expires_generator=settings.oauth_token_ttl)
        self.issuer = settings.effective_oauth_issuer
        self.audience = settings.effective_oauth_audience
        self.ttl = settings.oauth_token_ttl
        self.db = db
        self.sealer = sealer
        self.clock = clock

    def _access_token(self, client: Any, grant_type: str, user: Any, scope: str) -> str:
        now = self.clock()
        with self.db.session_scope() as session:
            key = keys.active_signing_key(session, now, self.sealer)
        issued = int(now.timestamp())
        # A person signed in through the web pages (authorization code) acts as their own
        # client: `client_id` and `sub` name it, `azp` the web pages that asked.
        acting = user if user is not None else client
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": acting.client_id,
            "client_id": acting.client_id,
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.ttl,
            "jti": secrets.token_urlsafe(18),
            "scope": scope,
            "rdap_role": acting.role,
            "rdap_allowed_purposes": list(
                acting.purposes if user is not None else client.allowed_purposes
            ),
            "rdap_dnt_allowed": False,
        }
        if user is not None:
            claims["azp"] = client.get_client_id()
            claims["amr"] = user.methods.split()
            claims["auth_time"] = int(user.auth_time.timestamp())
        header = {"alg": keys.SIGNING_ALG, "typ": "at+jwt", "kid": key.kid}
        token: str = jwt.encode(header, claims, key, algorithms=[keys.SIGNING_ALG])
        return token


# --- revocation (RFC 7009) --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    """One of our access tokens, identified for revocation."""

    jti: str
    client_id: str
    expires_at: dt.datetime

    def check_client(self, client: AuthClient) -> bool:
        return self.client_id == client.get_client_id()


def revoke_token(session: Session, token: IssuedToken) -> None:
    """Put a jti on the deny-list until the token would have expired (idempotent)."""
    if session.get(RevokedToken, token.jti) is None:
        session.add(
            RevokedToken(jti=token.jti, client_id=token.client_id, expires_at=token.expires_at)
        )


def purge_revoked(session: Session, now: dt.datetime) -> int:
    """Drop deny-list entries whose tokens have expired; returns how many."""
    rows = list(session.scalars(select(RevokedToken).where(RevokedToken.expires_at < now)))
    for row in rows:
        session.delete(row)
    return len(rows)


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: a client revokes one of its own tokens; unknown tokens are answered 200."""

    CLIENT_AUTH_METHODS = AUTH_METHODS
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def __init__(
        self, server: Any, *, identify: Callable[[str], IssuedToken | None], db: Database
    ) -> None:
        super().__init__(server)
        self.identify = identify
        self.db = db

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return self.identify(token_string)

    def revoke_token(self, token: IssuedToken, request: object) -> None:
        with self.db.session_scope() as session:
            revoke_token(session, token)


# --- discovery (RFC 8414) ---------------------------------------------------------------------


def server_metadata(settings: Settings) -> dict[str, Any]:
    """Authorization server metadata; endpoints are absolute URLs under the issuer."""
    issuer = settings.effective_oauth_issuer
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/oauth/jwks",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        # The authorization-code flow serves the web pages' own client only (rdap.oauth.codes).
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "grant_types_supported": ["client_credentials", "authorization_code"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [*AUTH_METHODS, "none"],
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "scopes_supported": ["rdap", "registrar:own"],
    }
