"""Bearer token → Claims: signature, algorithm allow-list, iss/aud/exp/nbf/jti, revocation."""

from __future__ import annotations

import binascii
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import re
import threading
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import bindparam, exists, select

from rdap import b64url
from rdap.db import Database
from rdap.errors import QueryError, Unauthorized
from rdap.models import OAuthClient, RevokedToken
from rdap.models.client import ACTIVE
from rdap.oauth import keys as signing_keys
from rdap.prepared import Prepared
from rdap.principal import LAW_ENFORCEMENT, PURPOSES, REQUESTER, ROLES, STAFF
from rdap.settings import Settings

log = logging.getLogger(__name__)

LEEWAY_SECONDS = 60
PublicKey = ECKey | RSAKey | OKPKey
_B64TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")
_KID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# Roles an external identity provider may vouch for (registrars are bound to our own clients).
FEDERATED_ROLES = (REQUESTER, LAW_ENFORCEMENT, STAFF)
# Query-string parameters that would carry a bearer token (RFC 6750 §2.3); always refused.
TOKEN_QUERY_PARAMS = ("access_token",)


class InvalidToken(Unauthorized):
    """A presented bearer token is not acceptable (RFC 6750 §3.1 `invalid_token`)."""

    error = "invalid_token"

    def www_authenticate(self, realm: str = "rdap") -> str:
        """The WWW-Authenticate value for the 401 response."""
        description = self.description.replace('"', "'")
        return f'Bearer realm="{realm}", error="{self.error}", error_description="{description}"'


class TokenInQuery(QueryError):
    """A bearer token in the URL (RFC 6750 §3.1 `invalid_request`); never accepted."""

    error = "invalid_request"

    def www_authenticate(self, realm: str = "rdap") -> str:
        description = self.description.replace('"', "'")
        return f'Bearer realm="{realm}", error="{self.error}", error_description="{description}"'


@dataclasses.dataclass(frozen=True)
class Claims:
    """What a verified token says about its bearer."""

    issuer: str
    subject: str
    token_id: str
    role: str
    purposes: frozenset[str]
    do_not_track: bool
    expires_at: dt.datetime
    scope: str = ""
    # Our own client's id for tokens we issued; None for tokens of a trusted external issuer.
    client_id: str | None = None


@dataclasses.dataclass(frozen=True)
class TrustedIssuer:
    """An external identity provider (RFC 9560) whose tokens we accept."""

    issuer: str
    audience: str
    role: str
    jwks_file: Path | None = None
    jwks_uri: str | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    # Ceiling on rdap_allowed_purposes from this issuer; empty means every RFC 9560 value.
    allowed_purposes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.role not in FEDERATED_ROLES:
            raise ValueError(f"trusted issuer {self.issuer}: role must be one of {FEDERATED_ROLES}")
        if (self.jwks_file is None) == (self.jwks_uri is None):
            raise ValueError(
                f"trusted issuer {self.issuer}: give exactly one of jwks_file, jwks_uri"
            )
        if any(_unsafe_alg(a) for a in self.algorithms):
            raise ValueError(f"trusted issuer {self.issuer}: algorithms must be asymmetric")
        unknown = self.allowed_purposes - PURPOSES
        if unknown:
            raise ValueError(f"trusted issuer {self.issuer}: unknown purposes {sorted(unknown)}")


def load_trusted_issuers(path: Path) -> tuple[TrustedIssuer, ...]:
    """Read `[[issuer]]` entries from a TOML file or an `{"issuer": [...]}` JSON file."""
    raw = path.read_bytes()
    data = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
    entries = data.get("issuer", [])
    if not isinstance(entries, list):
        raise ValueError(f"{path}: `issuer` must be a list of tables")
    issuers = []
    for entry in entries:
        jwks_file = entry.get("jwks_file")
        if jwks_file is not None:
            jwks_file = (path.parent / jwks_file).resolve()
        issuers.append(
            TrustedIssuer(
                issuer=str(entry["issuer"]).rstrip("/"),
                audience=str(entry["audience"]),
                role=str(entry["role"]),
                jwks_file=jwks_file,
                jwks_uri=entry.get("jwks_uri"),
                algorithms=tuple(entry.get("algorithms", ("RS256", "ES256"))),
                allowed_purposes=frozenset(entry.get("allowed_purposes", ())),
            )
        )
    return tuple(issuers)


def _unsafe_alg(alg: str) -> bool:
    return alg.lower() == "none" or alg.upper().startswith("HS")


def _b64json(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url.decode(segment))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(value, dict):
        raise InvalidToken("malformed token")
    return value


class _KeyCache:
    """Public keys by kid, reloaded after `ttl` seconds or (at most once a second) on a miss."""

    def __init__(self, load: Callable[[], Mapping[str, PublicKey]], ttl: float) -> None:
        self._load = load
        self._ttl = ttl
        self._keys: Mapping[str, PublicKey] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def get(self, kid: str) -> PublicKey | None:
        with self._lock:
            age = time.monotonic() - self._loaded_at
            if age > self._ttl or (kid not in self._keys and age > 1.0):
                self._keys = self._load()
                self._loaded_at = time.monotonic()
            return self._keys.get(kid)

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = float("-inf")


def _keyset_keys(document: Mapping[str, Any]) -> dict[str, PublicKey]:
    keyset = KeySet.import_key_set(dict(document))  # type: ignore[arg-type]
    found: dict[str, PublicKey] = {}
    for key in keyset.keys:
        if isinstance(key, ECKey | RSAKey | OKPKey) and key.kid and not key.is_private:
            found[key.kid] = key
    return found


VERIFIED_TOKENS = 4096  # tokens whose signature a process remembers as checked


class TokenVerifier:
    """Verifies bearer tokens of this server and of trusted issuers; built once per process."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        algorithms: Iterable[str],
        db: Database,
        trusted: Sequence[TrustedIssuer] = (),
        cache_ttl: float = 5.0,
        key_grace_seconds: int = 3600,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.algorithms = frozenset(a for a in algorithms if not _unsafe_alg(a))
        self.db = db
        self.trusted = {t.issuer: t for t in trusted}
        ttl = min(cache_ttl, 5.0)
        self._verified: dict[str, tuple[PublicKey, dict[str, Any]]] = {}
        self._own_keys = _KeyCache(lambda: self._load_own_keys(key_grace_seconds), ttl)
        self._trusted_keys = {
            t.issuer: _KeyCache(lambda t=t: self._load_trusted_keys(t), 300.0)  # type: ignore[misc]
            for t in trusted
        }

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> TokenVerifier:
        trusted: tuple[TrustedIssuer, ...] = ()
        if settings.trusted_issuers:
            trusted = load_trusted_issuers(Path(settings.trusted_issuers))
        return cls(
            issuer=settings.effective_oauth_issuer,
            audience=settings.effective_oauth_audience,
            algorithms=settings.oauth_algorithms,
            db=db,
            trusted=trusted,
            cache_ttl=settings.oauth_cache_ttl,
            key_grace_seconds=max(settings.oauth_token_ttl * 2, 600),
        )

    # -- key sources ------------------------------------------------------------------------

    def _load_own_keys(self, grace: int) -> dict[str, PublicKey]:
        with self.db.read_scope() as session:
            return dict(signing_keys.public_keys(session, dt.datetime.now(dt.UTC), grace))

    def _load_trusted_keys(self, trusted: TrustedIssuer) -> dict[str, PublicKey]:
        try:
            if trusted.jwks_file is not None:
                document = json.loads(trusted.jwks_file.read_text())
            else:
                assert trusted.jwks_uri is not None
                if not trusted.jwks_uri.startswith("https://"):
                    raise ValueError("jwks_uri must be https")
                with urllib.request.urlopen(trusted.jwks_uri, timeout=5) as response:  # noqa: S310
                    document = json.loads(response.read())
            return _keyset_keys(document)
        except (OSError, ValueError, JoseError):
            log.warning("could not load the JWKS of trusted issuer %s", trusted.issuer)
            return {}

    # -- verification -----------------------------------------------------------------------

    def verify(self, token: str, *, now: dt.datetime) -> Claims:
        """Claims of a valid token; InvalidToken for anything else (reason in the message)."""
        parts = token.split(".")
        if len(parts) != 3 or not all(parts):
            raise InvalidToken("malformed token")
        header = _b64json(parts[0])
        unverified = _b64json(parts[1])
        alg = header.get("alg")
        if not isinstance(alg, str) or _unsafe_alg(alg) or alg not in self.algorithms:
            raise InvalidToken("token algorithm not accepted")
        if "jku" in header or "x5u" in header or "jwk" in header:
            raise InvalidToken("token header names its own key")
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.match(kid):
            raise InvalidToken("token has no usable key id")
        iss = unverified.get("iss")
        if not isinstance(iss, str):
            raise InvalidToken("token has no issuer")
        if iss.rstrip("/") == self.issuer:
            if header.get("typ") != "at+jwt":
                raise InvalidToken("token is not an access token")
            key = self._own_keys.get(kid)
            audience = self.audience
            trusted: TrustedIssuer | None = None
        elif iss.rstrip("/") in self.trusted:
            trusted = self.trusted[iss.rstrip("/")]
            if alg not in trusted.algorithms:
                raise InvalidToken("token algorithm not accepted for this issuer")
            key = self._trusted_keys[trusted.issuer].get(kid)
            audience = trusted.audience
        else:
            raise InvalidToken("token issuer not trusted")
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            claims = self._signed_claims(token, key, alg)
            JWTClaimsRegistry(
                now=int(now.timestamp()),
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": iss},
                aud={"essential": True, "value": audience},
                exp={"essential": True},
                sub={"essential": True},
                jti={"essential": True},
            ).validate(claims)
        except JoseError as exc:
            raise InvalidToken(_reason(exc)) from None
        return self._claims(claims, trusted)

    def _signed_claims(self, token: str, key: PublicKey, alg: str) -> dict[str, Any]:
        """The payload of a token whose signature checks out with `key`.

        Remembered per token (a bounded number): a client sends one token until it expires,
        and the signature check costs more than all other token work of a request. An entry
        counts only while `key` is still the object its kid names, so a removed or reloaded
        key means a fresh check. Claims (expiry) and revocation are checked on every request.
        """
        hit = self._verified.get(token)
        if hit is not None and hit[0] is key:
            return hit[1]
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=[alg]).claims
        if len(self._verified) >= VERIFIED_TOKENS:
            # Oldest first; another thread may have evicted it already.
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                del self._verified[next(iter(self._verified))]
        self._verified[token] = (key, claims)
        return claims

    def _claims(self, claims: Mapping[str, Any], trusted: TrustedIssuer | None) -> Claims:
        jti = claims["jti"]
        exp = claims["exp"]
        if not isinstance(jti, str) or not isinstance(exp, int | float):
            raise InvalidToken("malformed token claims")
        purposes_claim = claims.get("rdap_allowed_purposes", [])
        if not isinstance(purposes_claim, list) or not all(
            isinstance(p, str) for p in purposes_claim
        ):
            raise InvalidToken("malformed rdap_allowed_purposes")
        dnt = claims.get("rdap_dnt_allowed", False)
        if not isinstance(dnt, bool):
            raise InvalidToken("malformed rdap_dnt_allowed")
        purposes = frozenset(purposes_claim) & PURPOSES
        client_id: str | None = None
        if trusted is None:
            client_id = claims.get("client_id")
            role = claims.get("rdap_role")
            if not isinstance(client_id, str) or role not in ROLES:
                raise InvalidToken("malformed token claims")
        else:
            role = trusted.role
            if trusted.allowed_purposes:
                purposes &= trusted.allowed_purposes
        self._check_not_revoked(jti, client_id)
        scope = claims.get("scope", "")
        return Claims(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            token_id=jti,
            role=str(role),
            purposes=purposes,
            do_not_track=dnt,
            expires_at=dt.datetime.fromtimestamp(exp, dt.UTC),
            scope=scope if isinstance(scope, str) else "",
            client_id=client_id,
        )

    def _check_not_revoked(self, jti: str, client_id: str | None) -> None:
        """Deny-list and client status, read from the database on every request (one query)."""
        with self.db.primary_connection() as connection:  # never a lagging replica
            (found,) = _REVOCATION.rows(connection, jti=jti, client_id=client_id or "")
        revoked, status = found["revoked"], found["status"]
        if revoked:
            raise InvalidToken("token has been revoked")
        if client_id is not None and status != ACTIVE:
            raise InvalidToken("client is not active")

    def identify_own(self, token: str) -> tuple[str, str, dt.datetime] | None:
        """(jti, client_id, expiry) of a token we signed, expired or not; None if not ours."""
        try:
            parts = token.split(".")
            header = _b64json(parts[0]) if len(parts) == 3 else {}
            kid = header.get("kid")
            usable = header.get("alg") == signing_keys.SIGNING_ALG and isinstance(kid, str)
            key = self._own_keys.get(str(kid)) if usable and _KID.match(str(kid)) else None
            if key is None:
                return None
            claims = jwt.decode(token, key, algorithms=[signing_keys.SIGNING_ALG]).claims
        except (InvalidToken, JoseError):
            return None
        jti, client_id, exp = claims.get("jti"), claims.get("client_id"), claims.get("exp")
        if (
            claims.get("iss") != self.issuer
            or not isinstance(jti, str)
            or not isinstance(client_id, str)
            or not isinstance(exp, int | float)
        ):
            return None
        return jti, client_id, dt.datetime.fromtimestamp(exp, dt.UTC)


# Is this token's jti revoked, and what is its client's status: one round trip per request.
_REVOCATION = Prepared(
    select(
        exists().where(RevokedToken.jti == bindparam("jti")).label("revoked"),
        select(OAuthClient.status)
        .where(OAuthClient.client_id == bindparam("client_id"))
        .scalar_subquery()
        .label("status"),
    )
)


def _reason(exc: JoseError) -> str:
    if isinstance(exc, ExpiredTokenError):
        return "token has expired"
    if isinstance(exc, ClaimError):
        return f"token claim not acceptable: {exc.description}"
    if isinstance(exc, BadSignatureError):
        return "bad token signature"
    return "token not acceptable"


def authenticate(
    authorization: str | None, *, verifier: TokenVerifier, now: dt.datetime
) -> Claims | None:
    """The Authorization header → Claims; no header → None (the public view, never an error)."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not _B64TOKEN.match(token):
        raise InvalidToken("malformed Authorization header; expected `Bearer <token>`")
    return verifier.verify(token, now=now)


def reject_token_in_query(args: Iterable[str]) -> None:
    """Refuse a URL that carries a bearer token (RFC 6750 §2.3 is not supported)."""
    if any(name in TOKEN_QUERY_PARAMS for name in args):
        raise TokenInQuery("access tokens are accepted only in the Authorization header")


def help_conformance(
    settings: Settings, trusted: Sequence[TrustedIssuer] | None = None
) -> tuple[list[str], dict[str, Any]]:
    """RFC 9560 members for /help: (rdapConformance values, extra top-level members).

    Only bearer tokens in the Authorization header are supported (no farv1_session login),
    and `rdap_dnt_allowed` changes nothing we record, so those capabilities are advertised
    as false.
    """
    if not settings.oauth_enabled:
        return [], {}
    if trusted is None:
        trusted = (
            load_trusted_issuers(Path(settings.trusted_issuers)) if settings.trusted_issuers else ()
        )
    providers: list[dict[str, Any]] = [
        {"iss": settings.effective_oauth_issuer, "name": "rdapd", "default": True}
    ]
    providers += [{"iss": t.issuer, "name": t.issuer} for t in trusted]
    return ["farv1"], {
        "farv1_openidcConfiguration": {
            "dntSupported": False,
            "endUserIdentifierDiscoverySupported": False,
            "issuerIdentifierSupported": False,
            "implicitTokenRefreshSupported": False,
            "openidcProviders": providers,
        }
    }
