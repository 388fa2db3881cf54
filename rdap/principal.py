"""Principal: who is asking (role, sponsoring registrar, purposes, disclosure grants), frozen."""

from __future__ import annotations

import dataclasses
import datetime as dt

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

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def is_public(self) -> bool:
        return self.role == PUBLIC

    def grants_for(self, domain: str, now: dt.datetime) -> tuple[Grant, ...]:
        return tuple(g for g in self.grants if g.domain == domain and g.active(now))


ANONYMOUS = Principal()
