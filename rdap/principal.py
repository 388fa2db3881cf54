"""Principal: who is asking (role, sponsoring registrar, purposes, disclosure grants), frozen."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from rdap.errors import Forbidden, QueryError, Unauthorized
from rdap.models.client import ACTIVE, OAuthClient
from rdap.models.disclosure import Accreditation, DisclosureClient
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


# Accreditation statuses (rdap.disclosure keeps them; the pipeline only reads them).
ACCREDITATION_ACTIVE = "active"
ACCREDITATION_SUSPENDED = "suspended"


@dataclasses.dataclass(frozen=True)
class Affiliation:
    """What an OAuth client acts for: a staff member's organisation, or a requester's
    accreditation (and the organisation it was granted to)."""

    organisation_id: int | None
    accreditation_id: str | None = None
    requester_type: str | None = None  # the accreditation's organisation type
    suspended: bool = False  # may look and read its requests, may not submit or be disclosed to


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
    # Disclosure grants for the object being answered. Identification leaves this empty; a
    # domain lookup fills in the few grants that domain needs (rdap.lookup), nothing else does.
    grants: tuple[Grant, ...] = ()
    do_not_track: bool = False
    affiliation: Affiliation | None = None

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


# Built once: what a request needs of its client and, for requesters, of its accreditation
# (read on every request, so revocation, expiry and re-binding take effect at once).
_CLIENT = Prepared(
    select(
        OAuthClient.status,
        OAuthClient.role,
        OAuthClient.registrar_id,
        OAuthClient.allowed_purposes,
        DisclosureClient.organisation_id,
        DisclosureClient.accreditation_id,
        Accreditation.org_type,
        Accreditation.purposes.label("accreditation_purposes"),
        Accreditation.status.label("accreditation_status"),
        Accreditation.valid_from,
        Accreditation.valid_until,
    )
    .outerjoin(DisclosureClient, DisclosureClient.client_id == OAuthClient.client_id)
    .outerjoin(Accreditation, Accreditation.id == DisclosureClient.accreditation_id)
    .where(OAuthClient.client_id == bindparam("client_id"))
)


def principal_for(
    claims: Claims | None,
    *,
    purpose: str | None,
    connection: Connection,
    now: dt.datetime | None = None,
) -> Principal:
    """Map verified token claims (or none) to the Principal the pipeline sees.

    Role, registrar and purpose ceiling of our own clients are read from the database on every
    call, so revoking a client or re-binding it takes effect at the next query. Purposes are
    the token's `rdap_allowed_purposes` ∩ what the client (or trusted issuer) may use ∩ the
    accreditation's purposes. A stated purpose outside that set is refused; an unknown purpose
    value is a bad request. A client whose accreditation is revoked, expired or not yet valid
    is refused (403) even while its token is valid.
    """
    if purpose is not None and purpose not in PURPOSES:
        raise QueryError(f"unknown purpose value in {PURPOSE_PARAM}")
    if claims is None:
        return ANONYMOUS  # a purpose means nothing without a credential: the public view
    role = claims.role
    registrar_id: int | None = None
    purposes = claims.purposes
    affiliation: Affiliation | None = None
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
        affiliation = _affiliation(client, now or dt.datetime.now(dt.UTC))
        if affiliation is not None and affiliation.accreditation_id is not None:
            purposes = purposes & frozenset(client["accreditation_purposes"] or ())
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
        do_not_track=claims.do_not_track,
        affiliation=affiliation,
    )


def _affiliation(client: dict[str, Any], now: dt.datetime) -> Affiliation | None:
    """The client's organisation and accreditation; refuses an accreditation that has ended
    (revoked, expired — by status or by date — or not yet valid)."""
    organisation_id: int | None = client["organisation_id"]
    accreditation_id: str | None = client["accreditation_id"]
    if accreditation_id is None:
        return None if organisation_id is None else Affiliation(organisation_id)
    status: str = client["accreditation_status"]
    if status in (ACCREDITATION_ACTIVE, ACCREDITATION_SUSPENDED):
        if now >= client["valid_until"]:
            status = "expired"
        elif now < client["valid_from"]:
            raise Forbidden("the accreditation of this client is not yet valid")
    if status not in (ACCREDITATION_ACTIVE, ACCREDITATION_SUSPENDED):
        raise Forbidden(f"the accreditation of this client is {status} (accreditation_{status})")
    return Affiliation(
        organisation_id=organisation_id,
        accreditation_id=accreditation_id,
        requester_type=client["org_type"],
        suspended=status == ACCREDITATION_SUSPENDED,
    )


def require_registrar(principal: Principal) -> int:
    """The registrar a registrar-only operation acts for: no credential is a 401, another role
    (or a registrar client bound to no registrar) a 403."""
    if principal.is_public:
        raise Unauthorized("this operation needs a registrar's access token")
    if principal.role != REGISTRAR or principal.registrar_id is None:
        raise Forbidden("this operation is for registrars only")
    return principal.registrar_id
