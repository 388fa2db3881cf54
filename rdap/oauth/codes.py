"""The authorization-code grant (RFC 6749 §4.1) with PKCE (RFC 7636, S256 only) by which the web
pages sign people in: the web pages are one public client of the built-in server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import select

from rdap.db import Database
from rdap.models import AuthorizationCode, OAuthClient, Person
from rdap.models.client import ACTIVE as CLIENT_ACTIVE
from rdap.models.person import ACTIVE

# The web pages' client id (built in, not a database row) and where codes come back to.
PORTAL_CLIENT_ID = "rdapd-web"
CALLBACK_PATH = "/signin/callback"
CODE_LIFETIME = dt.timedelta(seconds=60)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class PortalClient(ClientMixin):  # type: ignore[misc]
    """The web pages: a public client (no secret; PKCE instead) with one redirect URI."""

    redirect_uri: str
    client_id: str = PORTAL_CLIENT_ID

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str | None) -> str:
        return "rdap"

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclasses.dataclass(frozen=True)
class Account:
    """The person a code or token is for, as the token generator needs them."""

    person_id: int
    client_id: str  # the person's own OAuth client
    role: str
    purposes: tuple[str, ...]
    methods: str
    auth_time: dt.datetime

    def get_user_id(self) -> int:
        return self.person_id


@dataclasses.dataclass(frozen=True)
class StoredCode:
    row_hash: str
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    person_id: int
    methods: str
    auth_time: dt.datetime
    expires_at: dt.datetime

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def is_expired(self) -> bool:
        return dt.datetime.now(dt.UTC) >= self.expires_at


def make_grant(db: Database) -> type[grants.AuthorizationCodeGrant]:
    """The grant class bound to one database (authlib instantiates it per request)."""

    class PortalCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012 - authlib's class attribute

        def save_authorization_code(self, code: str, request: Any) -> None:
            account: Account = request.user
            data = request.payload.data
            now = dt.datetime.now(dt.UTC)
            with db.session_scope() as session:
                session.add(
                    AuthorizationCode(
                        code_hash=_hash(code),
                        client_id=request.client.get_client_id(),
                        person_id=account.person_id,
                        redirect_uri=request.payload.redirect_uri,
                        scope=request.scope or "rdap",
                        code_challenge=data.get("code_challenge"),
                        code_challenge_method=data.get("code_challenge_method") or "S256",
                        methods=account.methods,
                        auth_time=account.auth_time,
                        expires_at=now + CODE_LIFETIME,
                    )
                )

        def query_authorization_code(self, code: str, client: Any) -> StoredCode | None:
            with db.session_scope() as session:
                row = session.get(AuthorizationCode, _hash(code))
                if row is None or row.client_id != client.get_client_id():
                    return None
                found = StoredCode(
                    row_hash=row.code_hash,
                    redirect_uri=row.redirect_uri,
                    scope=row.scope,
                    code_challenge=row.code_challenge,
                    code_challenge_method=row.code_challenge_method,
                    person_id=row.person_id,
                    methods=row.methods,
                    auth_time=row.auth_time,
                    expires_at=row.expires_at,
                )
                # Used once: gone before the token is made, whatever happens next.
                session.delete(row)
            return None if found.is_expired() else found

        def delete_authorization_code(self, authorization_code: StoredCode) -> None:
            return None  # deleted when it was read

        def authenticate_user(self, authorization_code: StoredCode) -> Account | None:
            with db.session_scope() as session:
                person = session.get(Person, authorization_code.person_id)
                if person is None or person.status != ACTIVE:
                    return None
                client = session.scalars(
                    select(OAuthClient).where(OAuthClient.client_id == person.client_id)
                ).first()
                if client is None or client.status != CLIENT_ACTIVE:
                    return None
                return Account(
                    person_id=person.id,
                    client_id=client.client_id,
                    role=client.role,
                    purposes=tuple(client.allowed_purposes),
                    methods=authorization_code.methods,
                    auth_time=authorization_code.auth_time,
                )

    return PortalCodeGrant


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE is required, and only with S256 (RFC 7636 §4.2: `plain` only when S256 cannot be)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - authlib's class attribute
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """Refuse an authorization request without a challenge at once (authlib would refuse
        only its code, at the token endpoint)."""
        if not grant.request.payload.data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge'")
        super().validate_code_challenge(grant, redirect_uri)
