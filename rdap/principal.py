"""Principal: who is asking (role, sponsoring registrar, purposes, disclosure grants), frozen."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from rdap.errors import Forbidden, QueryError, Unauthorized
from rdap.models.client import ACTIVE, OAuthClient
from rdap.prepared import Prepared

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from rdap.auth import Claims

PUBLIC = "public"
REGISTRAR = "registrar"
REQUESTER = "requester"
LAW_ENFORCEMENT = "law-enforcement"
STAFF = "staff"
ROLES = (PUBLIC, REGISTRAR, REQUESTER, LAW_ENFORCEMENT, STAFF)


@dataclasses.dataclass(frozen=True)
class Grant:
    """An approved disclosure: these elements of this domain, for this purpose, until expires_at."""

    grant_id: str
    domain: str  # lower-case A-label
    elements: frozenset[str]  # element ids from policies/elements.toml, e.g. "registrant.email"
    purpose: str
    expires_at: dt.datetime
    request_id: str = ""

    def active(self, now: dt.datetime) -> bool:
        return now < self.expires_at


@dataclasses.dataclass(frozen=True)
class Principal:
    """The caller as the pipeline sees it. Policies decide what each role sees; code never does."""

    role: str = PUBLIC
    # Database id of the registrar this principal acts for (role registrar), else None.
    registrar_id: int | None = None
    client_id: str | None = None
    subject: str | None = None  # token `sub`
    token_id: str | None = None  # token `jti`
    purposes: frozenset[str] = frozenset()  # rdap_allowed_purposes ∩ accreditation purposes
    purpose: str | None = None  # the purpose this query states (RFC 9560 query parameter)
    grants: tuple[Grant, ...] = ()
    do_not_track: bool = False

    def sponsors(self, registrar_id: int | None) -> bool:
        """Is this caller the registrar sponsoring an object of `registrar_id`?"""
        return (
            self.role == REGISTRAR
            and self.registrar_id is not None
            and self.registrar_id == registrar_id
        )

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def is_public(self) -> bool:
        return self.role == PUBLIC

    def grants_for(self, domain: str, now: dt.datetime) -> tuple[Grant, ...]:
        return tuple(g for g in self.grants if g.domain == domain and g.active(now))


ANONYMOUS = Principal()


# --- RFC 9560: query purposes and do-not-track ------------------------------------------------

# The RDAP Query Purpose values of RFC 9560 (IANA "RDAP Query Purpose" registry).
PURPOSES = frozenset(
    {
        "domainNameControl",
        "personalDataProtection",
        "technicalIssueResolution",
        "domainNameCertification",
        "individualInternetUse",
        "businessDomainNamePurchaseOrSale",
        "academicPublicInterestDNSResearch",
        "legalActions",
        "regulatoryAndContractEnforcement",
        "criminalInvestigationAndDNSAbuseMitigation",
        "dnsTransparency",
    }
)
# RFC 9560 query parameters: the purpose a query states, and the caller's do-not-track wish.
PURPOSE_PARAM = "farv1_qp"
DNT_PARAM = "farv1_dnt"


# Built once: what a request needs of its client (read on every request, so revocation and
# re-binding take effect at once).
_CLIENT = Prepared(
    select(
        OAuthClient.status, OAuthClient.role, OAuthClient.registrar_id, OAuthClient.allowed_purposes
    ).where(OAuthClient.client_id == bindparam("client_id"))
)


def principal_for(
    claims: Claims | None, *, purpose: str | None, connection: Connection
) -> Principal:
    """Map verified token claims (or none) to the Principal the pipeline sees.

    Role, registrar and purpose ceiling of our own clients are read from the database on every
    call, so revoking a client or re-binding it takes effect at the next query. Purposes are
    the token's `rdap_allowed_purposes` ∩ what the client (or trusted issuer) may use. A stated
    purpose outside that set is refused; an unknown purpose value is a bad request.
    """
    if purpose is not None and purpose not in PURPOSES:
        raise QueryError(f"unknown purpose value in {PURPOSE_PARAM}")
    if claims is None:
        return ANONYMOUS  # a purpose means nothing without a credential: the public view
    role = claims.role
    registrar_id: int | None = None
    purposes = claims.purposes
    if claims.client_id is not None:
        found = _CLIENT.rows(connection, client_id=claims.client_id)
        client = found[0] if found else None
        if client is None or client["status"] != ACTIVE:
            raise Unauthorized("the client of this token is not active")
        role = client["role"]
        registrar_id = client["registrar_id"]
        if role == REGISTRAR and registrar_id is None:
            raise Forbidden("this registrar client is not bound to a registrar")
        purposes = purposes & frozenset(client["allowed_purposes"] or ())
    if purpose is not None and purpose not in purposes:
        raise Forbidden("the stated purpose is not allowed for this caller")
    return Principal(
        role=role,
        registrar_id=registrar_id,
        client_id=claims.client_id,
        subject=claims.subject,
        token_id=claims.token_id,
        purposes=purposes,
        purpose=purpose,
        grants=grants_for(claims, connection),
        do_not_track=claims.do_not_track,
    )


def grants_for(claims: Claims, connection: Connection) -> tuple[Grant, ...]:
    """Approved disclosure grants of this caller. Hook for the disclosure workflow: none yet."""
    return ()


def require_registrar(principal: Principal) -> int:
    """The registrar a registrar-only operation acts for: no credential is a 401, another role
    (or a registrar client bound to no registrar) a 403."""
    if principal.is_public:
        raise Unauthorized("this operation needs a registrar's access token")
    if principal.role != REGISTRAR or principal.registrar_id is None:
        raise Forbidden("this operation is for registrars only")
    return principal.registrar_id
