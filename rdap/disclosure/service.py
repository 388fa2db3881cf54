"""Disclosure service: accreditations, requests, decisions and grants — the business rules.

Every operation runs in the caller's transaction (open it with `rdap.audit.writing`, which
serialises writers of the audit chain) and writes one audit entry per transition, so a
request's history and the audit log never disagree. The HTTP API and the command line call
these functions; nothing else changes disclosure records.

Time-based transitions (a grant or an accreditation running out, a breached SLA, a request
left without an answer) are applied by `sweep`, which every API operation runs first and
`rdapd disclosure sweep` runs from cron; until then, rules that read the time (a grant in
force, an accreditation valid) already hold, because they compare with the clock themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from rdap import audit
from rdap.accuracy import country_codes
from rdap.disclosure import notify, schemas, workflow
from rdap.disclosure.schemas import ValidationFailed
from rdap.disclosure.sla import URGENT, SlaPolicy, is_late, paused_total
from rdap.document import rdap_time
from rdap.errors import Conflict, Forbidden, NotFound, QueryError, Unauthorized
from rdap.models import (
    Accreditation,
    DisclosureClient,
    DisclosureGrant,
    DisclosureRequest,
    Domain,
    OAuthClient,
    Organisation,
    RequestEvent,
    RequestReason,
    SlaPause,
)
from rdap.oauth import service as oauth_service
from rdap.paging import CursorCodec
from rdap.principal import (
    ACCREDITATION_ACTIVE,
    ACCREDITATION_SUSPENDED,
    LAW_ENFORCEMENT,
    PURPOSES,
    REQUESTER,
    STAFF,
    Principal,
)
from rdap.query import parse_domain_name
from rdap.redaction import Policy

# --- vocabularies -------------------------------------------------------------------------------
ORG_TYPES = (
    "law-enforcement",
    "government",
    "ip",
    "cybersecurity",
    "consumer-protection",
    "other",
)
LAW_ENFORCEMENT_TYPE = "law-enforcement"
# Organisation types that may ask that the registrant is not told (a restriction of the data
# subject's rights needs a basis in law: GDPR Art. 23).
CONFIDENTIALITY_TYPES = frozenset({"law-enforcement", "government"})
VERIFICATION_METHODS = (
    "government-id",
    "eid",
    "national-authority",
    "letter-callback",
    "manual-review",
)
ACTIVE, SUSPENDED = ACCREDITATION_ACTIVE, ACCREDITATION_SUSPENDED
REVOKED, EXPIRED = "revoked", "expired"
ACCREDITATION_STATUSES = (ACTIVE, SUSPENDED, REVOKED, EXPIRED)
DEFAULT_VALIDITY = dt.timedelta(days=365)
CURSOR_PURPOSE = "disclosure-requests"
# Jurisdictions: ISO 3166-1 alpha-2, plus the exceptionally reserved EU (Union bodies).
EXTRA_JURISDICTIONS = frozenset({"EU"})
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NOT_FOUND = "no such disclosure request"
_WILDCARDS = ("*", "?", "%")


class DisclosureError(ValueError):
    """An administrative operation was refused; the message is fit for a terminal."""


@dataclasses.dataclass(frozen=True)
class Context:
    """What every operation needs: the transaction, the time, the SLA policy and (to know
    which elements a grant can cover) the redaction policy."""

    session: Session
    now: dt.datetime
    sla: SlaPolicy
    policy: Policy | None = None


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who does something, as the audit log and the history record it."""

    id: str  # token subject or client id, "system", "operator:<login>"
    role: str  # requester, law-enforcement, staff, system, operator
    kind: str  # the workflow's actor: OWNER, STAFF or SYSTEM
    client_id: str | None = None
    token_id: str | None = None


SYSTEM_ACTOR = Actor("system", "system", workflow.SYSTEM)


def operator(login: str) -> Actor:
    """A registry operator at the command line (actions taken as the system)."""
    return Actor(f"operator:{login}", "operator", workflow.SYSTEM)


def _actor(principal: Principal) -> Actor:
    kind = workflow.STAFF if principal.role == STAFF else workflow.OWNER
    return Actor(
        principal.client_id or principal.subject or "",
        principal.role,
        kind,
        principal.client_id,
        principal.token_id,
    )


# --- accreditations ---------------------------------------------------------------------------


def organisation_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _organisation(session: Session, name: str, now: dt.datetime) -> Organisation:
    clean = " ".join(name.split())
    if not clean or len(clean) > 255 or "\x00" in clean:
        raise DisclosureError("an organisation name is 1 to 255 characters")
    key = organisation_key(clean)
    found = session.scalars(select(Organisation).where(Organisation.name_key == key)).first()
    if found is not None:
        return found
    organisation = Organisation(name=clean, name_key=key, created_at=now)
    session.add(organisation)
    session.flush()
    return organisation


def _accreditation_event(
    ctx: Context, event: str, accreditation: Accreditation, actor: Actor, **detail: Any
) -> None:
    audit.append(
        ctx.session,
        audit.Event(
            event=event,
            actor=actor.id,
            actor_role=actor.role,
            client_id=actor.client_id,
            accreditation_id=accreditation.id,
            detail={"status": accreditation.status, **detail},
        ),
        now=ctx.now,
    )


def create_accreditation(
    ctx: Context,
    *,
    org: str,
    org_type: str,
    jurisdiction: str,
    purposes: Sequence[str],
    actor: Actor,
    valid_until: dt.datetime | None = None,
    verification_method: str = "manual-review",
    verification_ref: str | None = None,
    verified_by: str | None = None,
    verified_at: dt.datetime | None = None,
) -> Accreditation:
    """Accredit an organisation: active from now until `valid_until` (a year by default)."""
    if org_type not in ORG_TYPES:
        raise DisclosureError(f"unknown type {org_type!r}; choose one of {', '.join(ORG_TYPES)}")
    country = jurisdiction.strip().upper()
    if country not in country_codes() and country not in EXTRA_JURISDICTIONS:
        raise DisclosureError("the jurisdiction must be an ISO 3166-1 alpha-2 code (or EU)")
    chosen = list(dict.fromkeys(p.strip() for p in purposes if p.strip()))
    if not chosen:
        raise DisclosureError("an accreditation needs at least one purpose")
    unknown = [p for p in chosen if p not in PURPOSES]
    if unknown:
        raise DisclosureError(
            f"unknown purpose {unknown[0]!r}; RFC 9560 values: {', '.join(sorted(PURPOSES))}"
        )
    if verification_method not in VERIFICATION_METHODS:
        raise DisclosureError(
            f"unknown verification method; choose one of {', '.join(VERIFICATION_METHODS)}"
        )
    until = valid_until or ctx.now + DEFAULT_VALIDITY
    if until <= ctx.now:
        raise DisclosureError("--valid-until must be in the future")
    verified = verified_at or ctx.now
    if verified > ctx.now:
        raise DisclosureError("the verification cannot lie in the future")
    organisation = _organisation(ctx.session, org, ctx.now)
    accreditation = Accreditation(
        id=f"acc-{secrets.token_hex(8)}",
        organisation_id=organisation.id,
        org_type=org_type,
        jurisdiction=country,
        purposes=chosen,
        verification_method=verification_method,
        verification_ref=verification_ref or None,
        verified_by=verified_by or actor.id,
        verified_at=verified,
        valid_from=ctx.now,
        valid_until=until,
        status=ACTIVE,
        status_changed_at=ctx.now,
        created_at=ctx.now,
    )
    ctx.session.add(accreditation)
    ctx.session.flush()
    _accreditation_event(
        ctx,
        "accreditation.created",
        accreditation,
        actor,
        organisation_id=organisation.id,
        org_type=org_type,
        jurisdiction=country,
        purposes=chosen,
        valid_until=rdap_time(until),
        verification_method=verification_method,
    )
    return accreditation


def get_accreditation(session: Session, accreditation_id: str) -> Accreditation:
    found = session.get(Accreditation, accreditation_id)
    if found is None:
        raise DisclosureError(f"no accreditation {accreditation_id!r}")
    return found


def effective_status(accreditation: Accreditation, now: dt.datetime) -> str:
    """The status as of `now`: an active or suspended accreditation past its date is expired."""
    if accreditation.status in (ACTIVE, SUSPENDED) and now >= accreditation.valid_until:
        return EXPIRED
    return accreditation.status


def list_accreditations(session: Session) -> list[tuple[Accreditation, Organisation]]:
    rows = session.execute(
        select(Accreditation, Organisation)
        .join(Organisation, Organisation.id == Accreditation.organisation_id)
        .order_by(Accreditation.created_at, Accreditation.id)
    ).all()
    return [(a, o) for a, o in rows]


def suspend_accreditation(ctx: Context, accreditation_id: str, reason: str, actor: Actor) -> None:
    """No new requests and no disclosures until reactivated; requests and grants are kept."""
    accreditation = get_accreditation(ctx.session, accreditation_id)
    if effective_status(accreditation, ctx.now) != ACTIVE:
        raise DisclosureError(
            f"only an active accreditation can be suspended ({accreditation.status})"
        )
    _set_status(ctx, accreditation, SUSPENDED, reason, actor)


def reactivate_accreditation(ctx: Context, accreditation_id: str, actor: Actor) -> None:
    """A suspended accreditation becomes active again, with the same id."""
    accreditation = get_accreditation(ctx.session, accreditation_id)
    if effective_status(accreditation, ctx.now) != SUSPENDED:
        raise DisclosureError(
            f"only a suspended accreditation can be reactivated ({accreditation.status})"
        )
    _set_status(ctx, accreditation, ACTIVE, None, actor)


def renew_accreditation(
    ctx: Context, accreditation_id: str, valid_until: dt.datetime, actor: Actor
) -> None:
    """Extend an active or suspended accreditation (an expired one is accredited anew)."""
    accreditation = get_accreditation(ctx.session, accreditation_id)
    if effective_status(accreditation, ctx.now) not in (ACTIVE, SUSPENDED):
        raise DisclosureError(
            f"an {effective_status(accreditation, ctx.now)} accreditation cannot be renewed"
        )
    if valid_until <= accreditation.valid_until:
        raise DisclosureError("a renewal must move --valid-until later")
    accreditation.valid_until = valid_until
    _accreditation_event(
        ctx, "accreditation.renewed", accreditation, actor, valid_until=rdap_time(valid_until)
    )


def revoke_accreditation(ctx: Context, accreditation_id: str, reason: str, actor: Actor) -> int:
    """Revoke: its clients stop working, its open requests are cancelled and its grants end,
    all in this transaction. Returns the number of requests changed."""
    accreditation = get_accreditation(ctx.session, accreditation_id)
    if accreditation.status == REVOKED:
        raise DisclosureError("the accreditation is already revoked")
    for client_id in ctx.session.scalars(
        select(DisclosureClient.client_id).where(
            DisclosureClient.accreditation_id == accreditation.id
        )
    ):
        oauth_service.revoke_client(ctx.session, client_id, ctx.now)
    return _end_accreditation(ctx, accreditation, REVOKED, reason or "revoked", actor)


def _set_status(
    ctx: Context, accreditation: Accreditation, status: str, reason: str | None, actor: Actor
) -> None:
    accreditation.status = status
    accreditation.status_reason = reason
    accreditation.status_changed_at = ctx.now
    ctx.session.flush()
    event = {ACTIVE: "reactivated", SUSPENDED: "suspended"}.get(status, status)
    _accreditation_event(ctx, f"accreditation.{event}", accreditation, actor, reason=reason)


def _end_accreditation(
    ctx: Context, accreditation: Accreditation, status: str, reason: str, actor: Actor
) -> int:
    _set_status(ctx, accreditation, status, reason, actor)
    code = f"accreditation_{status}"
    changed = 0
    requests = ctx.session.scalars(
        select(DisclosureRequest)
        .where(
            DisclosureRequest.accreditation_id == accreditation.id,
            DisclosureRequest.status.in_(workflow.OPEN | workflow.GRANTED),
        )
        .order_by(DisclosureRequest.received_at, DisclosureRequest.id)
    ).all()
    for request in requests:
        if request.status in workflow.GRANTED:
            _end_grant(ctx, request, code)
        _close_pause(ctx, request)
        _move(ctx, request, workflow.ACCREDITATION_ENDED, actor, reason=code)
        request.closed_at = request.closed_at or ctx.now
        changed += 1
    return changed


def expire_accreditations(ctx: Context) -> int:
    """Accreditations past valid_until become expired, with the same cascade as revocation
    (their clients are kept: they get 403 accreditation_expired rather than 401)."""
    due = ctx.session.scalars(
        select(Accreditation)
        .where(Accreditation.status.in_((ACTIVE, SUSPENDED)), Accreditation.valid_until <= ctx.now)
        .order_by(Accreditation.valid_until, Accreditation.id)
    ).all()
    for accreditation in due:
        _end_accreditation(ctx, accreditation, EXPIRED, "validity ended", SYSTEM_ACTOR)
    return len(due)


# --- clients ------------------------------------------------------------------------------------


def create_client(
    ctx: Context,
    *,
    role: str,
    name: str,
    actor: Actor,
    accreditation_id: str | None = None,
    organisation: str | None = None,
    purposes: Sequence[str] = (),
    email: str | None = None,
) -> tuple[OAuthClient, str]:
    """An OAuth client for disclosure: requester and law-enforcement clients act for an active
    accreditation (law enforcement: a law-enforcement one) and may state its purposes; staff
    clients may belong to an organisation (the conflict-of-interest rule uses it). `email`
    receives the notifications: about the client's own requests, or (staff) for review."""
    if email is not None and not notify.valid_address(email):
        raise DisclosureError("--email must be a plain address (local@domain.tld)")
    organisation_id: int | None = None
    urgent = False
    if role in (REQUESTER, LAW_ENFORCEMENT):
        if accreditation_id is None:
            raise DisclosureError(f"role {role} needs --accreditation ACCREDITATION_ID")
        if organisation is not None:
            raise DisclosureError(
                "--org is for staff; a requester's organisation is its accreditation's"
            )
        accreditation = get_accreditation(ctx.session, accreditation_id)
        if effective_status(accreditation, ctx.now) != ACTIVE:
            raise DisclosureError(
                f"the accreditation is {effective_status(accreditation, ctx.now)}, not active"
            )
        if role == LAW_ENFORCEMENT and accreditation.org_type != LAW_ENFORCEMENT_TYPE:
            raise DisclosureError("a law-enforcement client needs a law-enforcement accreditation")
        outside = sorted(set(purposes) - set(accreditation.purposes))
        if outside:
            raise DisclosureError(f"purpose {outside[0]!r} is not one of the accreditation's")
        purposes = list(purposes) or list(accreditation.purposes)
        organisation_id = accreditation.organisation_id
        urgent = role == LAW_ENFORCEMENT
    elif role == STAFF:
        if accreditation_id is not None:
            raise DisclosureError("--accreditation is for requester and law-enforcement clients")
        if organisation is not None:
            organisation_id = _organisation(ctx.session, organisation, ctx.now).id
    else:
        raise DisclosureError(f"role {role} is not a disclosure role")
    try:
        client, secret = oauth_service.create_client(
            ctx.session,
            role=role,
            name=name,
            purposes=purposes,
            urgent_allowed=urgent,
            now=ctx.now,
        )
    except oauth_service.ClientError as exc:
        raise DisclosureError(str(exc)) from None
    ctx.session.add(
        DisclosureClient(
            client_id=client.client_id,
            accreditation_id=accreditation_id,
            organisation_id=organisation_id,
            email=email,
            created_at=ctx.now,
        )
    )
    ctx.session.flush()
    audit.append(
        ctx.session,
        audit.Event(
            event="client.created",
            actor=actor.id,
            actor_role=actor.role,
            client_id=client.client_id,
            accreditation_id=accreditation_id,
            detail={"role": role, "organisation_id": organisation_id, "purposes": list(purposes)},
        ),
        now=ctx.now,
    )
    return client, secret


# --- who may do what ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Owner:
    """The accredited requester client acting."""

    client_id: str
    accreditation_id: str
    requester_type: str | None


def _requester(principal: Principal, *, submitting: bool) -> _Owner:
    """The requester client acting; 401 without a token, 403 for anyone else."""
    if principal.is_public:
        raise Unauthorized("disclosure requests need an access token")
    if principal.role not in (REQUESTER, LAW_ENFORCEMENT):
        raise Forbidden("this operation is for accredited requesters")
    affiliation = principal.affiliation
    if principal.client_id is None or affiliation is None or affiliation.accreditation_id is None:
        raise Forbidden("disclosure requests need a client of an accredited organisation")
    if submitting and affiliation.suspended:
        raise Forbidden("the accreditation of this client is suspended")
    return _Owner(principal.client_id, affiliation.accreditation_id, affiliation.requester_type)


def _staff(principal: Principal) -> None:
    if principal.is_public:
        raise Unauthorized("this operation needs a staff access token")
    if principal.role != STAFF:
        raise Forbidden("this operation is for registry staff")


def _viewer(principal: Principal) -> str | None:
    """None for staff, else the requester client whose requests the caller may see."""
    if principal.role == STAFF:
        return None
    return _requester(principal, submitting=False).client_id


def _no_conflict_of_interest(principal: Principal, request: DisclosureRequest) -> None:
    affiliation = principal.affiliation
    if affiliation is not None and affiliation.organisation_id == request.organisation_id:
        raise Forbidden(
            "a reviewer cannot decide a request of their own organisation (conflict of interest)"
        )


def disclosable_elements(policy: Policy | None, role: str) -> frozenset[str]:
    """Element ids a grant can show to `role` in a domain answer (its grant rules, without the
    `contact.*` elements of direct entity lookups)."""
    if policy is None or role not in policy.rules:
        return frozenset()
    return frozenset(
        element_id
        for rule in policy.rules[role]
        if rule.grant
        for element_id in rule.elements
        if policy.elements[element_id].role != "contact"
    )


# --- the request log: transitions with their audit entries ------------------------------------


def _move(
    ctx: Context,
    request: DisclosureRequest,
    action: str,
    actor: Actor,
    *,
    reason: str | None = None,
    elements: Iterable[str] = (),
    grant_id: str | None = None,
    at: dt.datetime | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Apply one transition of the table, with exactly one audit entry and one history entry."""
    source = request.status if action != workflow.SUBMIT else None
    target = workflow.transition(source, action, actor.kind)
    request.status = target
    _record(
        ctx,
        request,
        action,
        source,
        actor,
        reason=reason,
        elements=elements,
        grant_id=grant_id,
        at=at,
        detail=detail,
    )


def _record(
    ctx: Context,
    request: DisclosureRequest,
    action: str,
    source: str | None,
    actor: Actor,
    *,
    reason: str | None = None,
    elements: Iterable[str] = (),
    grant_id: str | None = None,
    at: dt.datetime | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    entry = audit.append(
        ctx.session,
        audit.Event(
            event=f"request.{action}",
            actor=actor.id,
            actor_role=actor.role,
            client_id=actor.client_id,
            token_id=actor.token_id,
            accreditation_id=request.accreditation_id,
            request_id=request.id,
            grant_id=grant_id,
            domain=request.domain,
            purpose=request.purpose,
            elements=tuple(sorted(elements)),
            detail={
                "from": source,
                "to": request.status,
                "priority": request.priority,
                "due_at": rdap_time(request.due_at),
                **(detail or {}),
            },
        ),
        now=ctx.now,
    )
    ctx.session.add(
        RequestEvent(
            request_id=request.id,
            at=at or ctx.now,
            action=action,
            from_status=source,
            to_status=request.status,
            actor=actor.id,
            actor_role=actor.role,
            reason=reason,
            audit_seq=entry.seq,
            audit_hash=entry.entry_hash,
        )
    )
    notify.enqueue(ctx.session, request, action, now=ctx.now)
    ctx.session.flush()


def audit_references(session: Session) -> list[tuple[int, str, str]]:
    """(seq, hash, where) of every audit entry a request's history names (for audit.verify)."""
    rows = session.execute(
        select(RequestEvent.audit_seq, RequestEvent.audit_hash, RequestEvent.request_id)
    ).all()
    return [(seq, entry_hash, f"the history of request {rid}") for seq, entry_hash, rid in rows]


# --- submission ---------------------------------------------------------------------------------


def _domain(session: Session, raw: str, errors: dict[str, list[str]]) -> Domain | None:
    if any(mark in raw for mark in _WILDCARDS):
        errors["domain"] = ["wildcards are not allowed: name one registered domain"]
        return None
    if "," in raw or any(ch.isspace() for ch in raw.strip()):
        errors["domain"] = ["one request per domain: submit each domain on its own"]
        return None
    try:
        name, _ = parse_domain_name(raw.strip())
    except QueryError:
        errors["domain"] = ["not a valid domain name"]
        return None
    found = session.scalars(select(Domain).where(Domain.ldh_name == name.ldh)).first()
    if found is None:
        errors["domain"] = ["not a registered domain of this registry"]
    return found


def _elements(
    values: Sequence[str], allowed: frozenset[str], field: str, errors: dict[str, list[str]]
) -> list[str]:
    messages = []
    seen: set[str] = set()
    for number, value in enumerate(values, start=1):
        if any(mark in value for mark in _WILDCARDS):
            messages.append(f"item {number}: wildcards are not allowed; name each element")
        elif value not in allowed:
            messages.append(
                f"item {number}: not an element a disclosure can cover "
                "(see policies/elements.toml; public and verification elements are excluded)"
            )
        elif value in seen:
            messages.append(f"item {number}: listed twice")
        seen.add(value)
    if messages:
        errors.setdefault(field, []).extend(messages)
    return list(dict.fromkeys(values))


def _purpose(value: str, principal: Principal, errors: dict[str, list[str]]) -> None:
    if value not in PURPOSES:
        errors["purpose"] = [f"must be an RFC 9560 query purpose: {', '.join(sorted(PURPOSES))}"]
    elif value not in principal.purposes:
        errors["purpose"] = ["not one of the purposes of your accreditation"]


def submit(ctx: Context, principal: Principal, body: Any) -> RequestView:
    """Validate a request completely, then store it acknowledged, with its SLA due time."""
    owner = _requester(principal, submitting=True)
    sweep(ctx)
    data, errors = schemas.load(schemas.SubmitSchema(), body)
    if isinstance(body, Mapping) and isinstance(body.get("domain"), list):
        errors["domain"] = ["one request per domain: submit each domain on its own"]
    domain = _domain(ctx.session, data["domain"], errors) if "domain" in data else None
    if "purpose" in data:
        _purpose(data["purpose"], principal, errors)
    if "data_elements" in data:
        allowed = disclosable_elements(ctx.policy, principal.role)
        data["data_elements"] = _elements(data["data_elements"], allowed, "data_elements", errors)
    law_enforcement = (
        principal.role == LAW_ENFORCEMENT and owner.requester_type == LAW_ENFORCEMENT_TYPE
    )
    priority = data.get("priority")
    justification = data.get("urgent_justification")
    if priority == URGENT and not law_enforcement:
        errors["priority"] = ["urgent requests are for law enforcement only"]
    if priority == URGENT and justification is None and "urgent_justification" not in errors:
        errors["urgent_justification"] = ["required for an urgent request"]
    if priority != URGENT and justification is not None:
        errors["urgent_justification"] = ["only for an urgent request"]
    if data.get("confidential") and owner.requester_type not in CONFIDENTIALITY_TYPES:
        errors["confidential"] = [
            "only law enforcement and government requesters may ask that the registrant "
            "is not notified"
        ]
    if errors or domain is None:
        raise ValidationFailed(errors)
    accreditation = ctx.session.get(Accreditation, owner.accreditation_id)
    assert accreditation is not None  # the principal was built from it
    duplicate = ctx.session.scalars(
        select(DisclosureRequest.id)
        .where(
            DisclosureRequest.client_id == owner.client_id,
            DisclosureRequest.domain == domain.ldh_name,
            DisclosureRequest.purpose == data["purpose"],
            DisclosureRequest.status.in_(workflow.OPEN),
        )
        .order_by(DisclosureRequest.received_at)
    ).first()
    request = DisclosureRequest(
        id=str(uuid.uuid4()),
        client_id=owner.client_id,
        accreditation_id=accreditation.id,
        organisation_id=accreditation.organisation_id,
        requester_role=principal.role,
        requester_type=accreditation.org_type,
        domain=domain.ldh_name,
        domain_roid=domain.roid,
        purpose=data["purpose"],
        legal_basis=data["legal_basis"].strip(),
        rationale=data["rationale"].strip(),
        data_elements=data["data_elements"],
        priority=data["priority"],
        urgent_justification=justification.strip() if justification else None,
        confidential=data["confidential"],
        tlp=data["tlp"],
        good_faith_affirmation=True,
        status=workflow.ACKNOWLEDGED,
        received_at=ctx.now,
        acknowledged_at=ctx.now,
        due_at=ctx.sla.due_at(ctx.now, data["priority"], dt.timedelta()),
        duplicate_of=duplicate,
    )
    ctx.session.add(request)
    ctx.session.flush()
    _move(
        ctx,
        request,
        workflow.SUBMIT,
        _actor(principal),
        elements=request.data_elements,
        detail={
            "legal_basis": request.legal_basis,
            "requester_type": request.requester_type,
            "confidential": request.confidential,
            "tlp": request.tlp,
            "duplicate_of": duplicate,
        },
    )
    return _view(ctx, request, staff=False)


# --- reading ------------------------------------------------------------------------------------


def _find(session: Session, request_id: str, owner: str | None) -> DisclosureRequest:
    """The request if this viewer may see it (owner None: staff); the same 404 otherwise."""
    if not _UUID.fullmatch(request_id):
        raise NotFound(_NOT_FOUND)
    request = session.get(DisclosureRequest, request_id)
    if request is None or (owner is not None and request.client_id != owner):
        raise NotFound(_NOT_FOUND)
    return request


def get_request(ctx: Context, principal: Principal, request_id: str) -> RequestView:
    owner = _viewer(principal)
    sweep(ctx)
    return _view(ctx, _find(ctx.session, request_id, owner), staff=owner is None)


@dataclasses.dataclass(frozen=True)
class RequestFilter:
    status: str | None = None
    priority: str | None = None
    overdue: bool | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> RequestFilter:
        status, priority, overdue = args.get("status"), args.get("priority"), args.get("overdue")
        if status is not None and status not in workflow.STATUSES:
            raise QueryError(f"status must be one of {', '.join(workflow.STATUSES)}")
        if priority is not None and priority not in ("standard", "urgent"):
            raise QueryError("priority must be standard or urgent")
        if overdue is not None and overdue not in ("true", "false"):
            raise QueryError("overdue must be true or false")
        return cls(status, priority, None if overdue is None else overdue == "true")

    def scope(self) -> str:
        return f"{self.status or ''}|{self.priority or ''}|{self.overdue}"


@dataclasses.dataclass(frozen=True)
class RequestPage:
    items: tuple[RequestView, ...]
    next_cursor: str | None


def list_requests(
    ctx: Context,
    principal: Principal,
    *,
    filters: RequestFilter,
    count: int,
    cursor: str | None,
    codec: CursorCodec,
) -> RequestPage:
    """A requester's own requests, or (staff) all; oldest first, keyset-paged."""
    owner = _viewer(principal)
    sweep(ctx)
    statement = select(DisclosureRequest)
    scope = ("staff" if owner is None else f"client:{owner}") + "|" + filters.scope()
    if owner is not None:
        statement = statement.where(DisclosureRequest.client_id == owner)
    if filters.status is not None:
        statement = statement.where(DisclosureRequest.status == filters.status)
    if filters.priority is not None:
        statement = statement.where(DisclosureRequest.priority == filters.priority)
    if filters.overdue is not None:
        statement = statement.where(DisclosureRequest.overdue.is_(filters.overdue))
    if cursor is not None:
        position = codec.decode(cursor, scope, now=ctx.now)
        try:
            after = dt.datetime.fromisoformat(position["t"])
            after_id = str(position["id"])
        except (KeyError, TypeError, ValueError):
            raise QueryError("the cursor is not valid") from None
        statement = statement.where(
            or_(
                DisclosureRequest.received_at > after,
                and_(DisclosureRequest.received_at == after, DisclosureRequest.id > after_id),
            )
        )
    rows = list(
        ctx.session.scalars(
            statement.order_by(DisclosureRequest.received_at, DisclosureRequest.id).limit(count + 1)
        )
    )
    next_cursor = None
    if len(rows) > count:
        rows = rows[:count]
        last = rows[-1]
        next_cursor = codec.encode(
            scope, {"t": last.received_at.isoformat(), "id": last.id}, now=ctx.now
        )
    return RequestPage(tuple(_view(ctx, r, staff=owner is None) for r in rows), next_cursor)


# --- the requester's actions ------------------------------------------------------------------


def cancel(ctx: Context, principal: Principal, request_id: str) -> RequestView:
    owner = _requester(principal, submitting=False)
    sweep(ctx)
    request = _find(ctx.session, request_id, owner.client_id)
    workflow.transition(request.status, workflow.CANCEL, workflow.OWNER)  # 409 before changes
    _close_pause(ctx, request)
    _move(ctx, request, workflow.CANCEL, _actor(principal), reason="cancelled by the requester")
    request.closed_at = ctx.now
    return _view(ctx, request, staff=False)


def provide_information(
    ctx: Context, principal: Principal, request_id: str, body: Any
) -> RequestView:
    """The requester answers a request for information: the SLA clock runs again."""
    owner = _requester(principal, submitting=True)
    sweep(ctx)
    request = _find(ctx.session, request_id, owner.client_id)
    workflow.transition(request.status, workflow.PROVIDE_INFORMATION, workflow.OWNER)
    data, errors = schemas.load(schemas.InformationSchema(), body)
    if "data_elements" in data:
        allowed = disclosable_elements(ctx.policy, principal.role)
        data["data_elements"] = _elements(data["data_elements"], allowed, "data_elements", errors)
    if errors:
        raise ValidationFailed(errors)
    changes = []
    if "legal_basis" in data and data["legal_basis"].strip() != request.legal_basis:
        changes.append(f"previous legal basis: {request.legal_basis}")
        request.legal_basis = data["legal_basis"].strip()
    if "data_elements" in data and data["data_elements"] != list(request.data_elements):
        changes.append(f"previous data elements: {', '.join(request.data_elements)}")
        request.data_elements = data["data_elements"]
    answer = data["rationale"].strip()
    request.rationale = (
        f"{request.rationale}\n\n[information provided {rdap_time(ctx.now)}]\n{answer}"
    )
    request.version += 1
    _close_pause(ctx, request)
    reason = "; ".join(["information provided", *changes])
    _move(
        ctx,
        request,
        workflow.PROVIDE_INFORMATION,
        _actor(principal),
        reason=reason,
        elements=request.data_elements,
        detail={"version": request.version, "legal_basis": request.legal_basis},
    )
    return _view(ctx, request, staff=False)


# --- the reviewer's actions -------------------------------------------------------------------


def decide(ctx: Context, principal: Principal, request_id: str, body: Any) -> RequestView:
    """Approve all or some elements for 1-90 days, deny with reasons, or ask for information."""
    _staff(principal)
    sweep(ctx)
    data, errors = schemas.load(schemas.DecisionSchema(), body)
    if "action" in errors:
        raise ValidationFailed(errors)
    request = _find(ctx.session, request_id, None)
    _no_conflict_of_interest(principal, request)
    action = data["action"]
    rationale = data.get("rationale")
    if action == schemas.APPROVE:
        return _approve(ctx, principal, request, data, errors)
    if action == schemas.DENY:
        workflow.transition(request.status, workflow.DENY, workflow.STAFF)
        if not data.get("reasons") and "reasons" not in errors:
            errors["reasons"] = ["at least one reason code is required to deny"]
        _require_rationale(rationale, errors, "to deny")
        _only_for(data, ("data_elements", "valid_days"), "approving", errors)
        if errors:
            raise ValidationFailed(errors)
        reasons = list(dict.fromkeys(data["reasons"]))
        _decided(
            ctx,
            principal=principal,
            request=request,
            reasons=reasons,
            rationale=rationale,
            balancing_test=data.get("balancing_test"),
        )
        request.closed_at = ctx.now
        _move(
            ctx,
            request,
            workflow.DENY,
            _actor(principal),
            reason=", ".join(reasons),
            detail={"reasons": reasons},
        )
        return _view(ctx, request, staff=True)
    workflow.transition(request.status, workflow.REQUEST_INFORMATION, workflow.STAFF)
    if rationale is None and "rationale" not in errors:
        errors["rationale"] = ["say what information is needed"]
    _only_for(data, ("data_elements", "valid_days"), "approving", errors)
    _only_for(data, ("reasons", "balancing_test"), "deciding", errors)
    if errors:
        raise ValidationFailed(errors)
    assert rationale is not None
    request.paused_since = ctx.now
    ctx.session.add(SlaPause(request_id=request.id, started_at=ctx.now))
    _move(ctx, request, workflow.REQUEST_INFORMATION, _actor(principal), reason=rationale.strip())
    return _view(ctx, request, staff=True)


def _require_rationale(rationale: str | None, errors: dict[str, list[str]], why: str) -> None:
    if "rationale" in errors:
        return
    if rationale is None or len(rationale.strip()) < schemas.MIN_RATIONALE:
        errors["rationale"] = [f"at least {schemas.MIN_RATIONALE} characters are required {why}"]


def _only_for(
    data: Mapping[str, Any], names: Iterable[str], what: str, errors: dict[str, list[str]]
) -> None:
    for name in names:
        if name in data and name not in errors:
            errors[name] = [f"only when {what}"]


def _decided(
    ctx: Context,
    *,
    principal: Principal,
    request: DisclosureRequest,
    reasons: list[str],
    rationale: str | None,
    balancing_test: Mapping[str, str] | None,
) -> None:
    request.decided_at = ctx.now
    request.decided_by = principal.client_id or principal.subject
    request.decision_rationale = rationale.strip() if rationale else None
    request.balancing_test = dict(balancing_test) if balancing_test else None
    for code in reasons:
        ctx.session.add(RequestReason(request_id=request.id, code=code))


def _approve(
    ctx: Context,
    principal: Principal,
    request: DisclosureRequest,
    data: dict[str, Any],
    errors: dict[str, list[str]],
) -> RequestView:
    requested = list(request.data_elements)
    chosen = data.get("data_elements")
    elements = requested
    if chosen is not None and "data_elements" not in errors:
        outside = [e for e in chosen if e not in requested]
        if outside:
            errors["data_elements"] = ["may only name elements the request asks for"]
        elements = [e for e in requested if e in chosen]  # the request's order
    partial = set(elements) != set(requested)
    action = workflow.APPROVE_PARTIALLY if partial else workflow.APPROVE
    workflow.transition(request.status, action, workflow.STAFF)
    if "valid_days" not in data and "valid_days" not in errors:
        errors["valid_days"] = [
            f"required when approving: {schemas.MIN_GRANT_DAYS} to {schemas.MAX_GRANT_DAYS} days"
        ]
    if partial:
        _require_rationale(data.get("rationale"), errors, "for a partial approval")
    if errors:
        raise ValidationFailed(errors)
    current = ctx.session.scalars(
        select(Domain.roid).where(Domain.ldh_name == request.domain)
    ).first()
    if current != request.domain_roid:
        raise Conflict("the domain was deleted or registered anew since the request was made")
    accreditation = ctx.session.get(Accreditation, request.accreditation_id)
    if accreditation is None or effective_status(accreditation, ctx.now) != ACTIVE:
        raise Conflict("the requester's accreditation is not active")
    reasons = list(dict.fromkeys(data.get("reasons") or ()))
    _decided(
        ctx,
        principal=principal,
        request=request,
        reasons=reasons,
        rationale=data.get("rationale"),
        balancing_test=data.get("balancing_test"),
    )
    request.closed_at = ctx.now
    until = ctx.now + dt.timedelta(days=data["valid_days"])
    grant = DisclosureGrant(
        id=str(uuid.uuid4()),
        request_id=request.id,
        client_id=request.client_id,
        accreditation_id=request.accreditation_id,
        domain=request.domain,
        domain_roid=request.domain_roid,
        purpose=request.purpose,
        elements=elements,
        valid_from=ctx.now,
        valid_until=min(until, accreditation.valid_until),
    )
    ctx.session.add(grant)
    ctx.session.flush()
    _move(
        ctx,
        request,
        action,
        _actor(principal),
        reason=f"{len(elements)} of {len(requested)} elements for {data['valid_days']} days",
        elements=elements,
        grant_id=grant.id,
        detail={"valid_until": rdap_time(grant.valid_until), "reasons": reasons},
    )
    return _view(ctx, request, staff=True)


def reclassify(ctx: Context, principal: Principal, request_id: str, body: Any) -> RequestView:
    """Change an open request's priority (and so its due time), with a rationale."""
    _staff(principal)
    sweep(ctx)
    data, errors = schemas.load(schemas.PrioritySchema(), body)
    request = _find(ctx.session, request_id, None)
    _no_conflict_of_interest(principal, request)
    workflow.transition(request.status, workflow.RECLASSIFY, workflow.STAFF)
    priority: str = data.get("priority", "")
    if priority == request.priority:
        errors["priority"] = [f"the request is already {priority}"]
    elif priority == URGENT and request.requester_role != LAW_ENFORCEMENT:
        errors["priority"] = ["urgent requests are for law enforcement only"]
    if errors:
        raise ValidationFailed(errors)
    previous = request.priority
    request.priority = priority
    request.downgraded = request.downgraded or previous == URGENT
    request.due_at = ctx.sla.due_at(request.received_at, priority, _paused(ctx.session, request))
    _move(
        ctx,
        request,
        workflow.RECLASSIFY,
        _actor(principal),
        reason=f"priority {previous} to {priority}: {data['rationale'].strip()}",
        detail={"previous_priority": previous},
    )
    _flag_if_late(ctx, request)
    return _view(ctx, request, staff=True)


def revoke_grant(ctx: Context, principal: Principal, grant_id: str, body: Any) -> RequestView:
    """End a grant early (staff); the request becomes revoked."""
    _staff(principal)
    sweep(ctx)
    data, errors = schemas.load(schemas.RevokeSchema(), body)
    grant = ctx.session.get(DisclosureGrant, grant_id) if _UUID.fullmatch(grant_id) else None
    if grant is None:
        raise NotFound("no such grant")
    request = ctx.session.get(DisclosureRequest, grant.request_id)
    assert request is not None  # foreign key
    workflow.transition(request.status, workflow.REVOKE_GRANT, workflow.STAFF)
    if errors:
        raise ValidationFailed(errors)
    reason = data["reason"].strip()
    _end_grant(ctx, request, reason)
    _move(ctx, request, workflow.REVOKE_GRANT, _actor(principal), reason=reason, grant_id=grant.id)
    return _view(ctx, request, staff=True)


# --- clocks -------------------------------------------------------------------------------------


def _paused(session: Session, request: DisclosureRequest) -> dt.timedelta:
    rows = session.execute(
        select(SlaPause.started_at, SlaPause.ended_at).where(SlaPause.request_id == request.id)
    ).all()
    return paused_total([(start, end) for start, end in rows])


def _close_pause(ctx: Context, request: DisclosureRequest) -> None:
    """End a running pause: record it, and move the due time by its length."""
    if request.paused_since is None:
        return
    pause = ctx.session.scalars(
        select(SlaPause).where(SlaPause.request_id == request.id, SlaPause.ended_at.is_(None))
    ).first()
    if pause is not None:
        pause.ended_at = ctx.now
    request.due_at = request.due_at + (ctx.now - request.paused_since)
    request.paused_since = None


def _end_grant(ctx: Context, request: DisclosureRequest, reason: str) -> None:
    grant = ctx.session.scalars(
        select(DisclosureGrant).where(DisclosureGrant.request_id == request.id)
    ).first()
    if grant is not None and grant.ended_at is None:
        grant.ended_at = min(ctx.now, grant.valid_until)
        grant.end_reason = reason


def _flag_if_late(ctx: Context, request: DisclosureRequest) -> bool:
    if request.overdue or request.status not in workflow.OPEN:
        return False
    if not is_late(request.due_at, request.paused_since, ctx.now):
        return False
    request.overdue = True
    request.overdue_at = request.due_at
    _record(
        ctx,
        request,
        "overdue",
        request.status,
        SYSTEM_ACTOR,
        reason="sla_breached",
        at=request.due_at,
    )
    return True


@dataclasses.dataclass(frozen=True)
class SweepResult:
    accreditations_expired: int = 0
    grants_expired: int = 0
    overdue: int = 0
    information_timeouts: int = 0


def sweep(ctx: Context) -> SweepResult:
    """Apply every time-based transition that is due, each with its audit entry. Grants first:
    a grant never outlives its accreditation's validity, so one that ran out expired on its own."""
    grants = ctx.session.scalars(
        select(DisclosureGrant)
        .where(DisclosureGrant.ended_at.is_(None), DisclosureGrant.valid_until <= ctx.now)
        .order_by(DisclosureGrant.valid_until, DisclosureGrant.id)
    ).all()
    for grant in grants:
        request = ctx.session.get(DisclosureRequest, grant.request_id)
        assert request is not None  # foreign key
        grant.ended_at = grant.valid_until
        grant.end_reason = "expired"
        _move(
            ctx,
            request,
            workflow.GRANT_EXPIRY,
            SYSTEM_ACTOR,
            reason="the grant expired",
            grant_id=grant.id,
            at=grant.valid_until,
        )
    expired_accreditations = expire_accreditations(ctx)
    late = ctx.session.scalars(
        select(DisclosureRequest)
        .where(
            DisclosureRequest.status.in_(workflow.OPEN),
            DisclosureRequest.overdue.is_(False),
            DisclosureRequest.paused_since.is_(None),
            DisclosureRequest.due_at < ctx.now,
        )
        .order_by(DisclosureRequest.due_at, DisclosureRequest.id)
    ).all()
    overdue = sum(_flag_if_late(ctx, request) for request in late)
    timeouts = 0
    limit = ctx.sla.information_timeout
    if limit is not None:
        waiting = ctx.session.scalars(
            select(DisclosureRequest)
            .where(
                DisclosureRequest.status == workflow.INFORMATION_REQUESTED,
                DisclosureRequest.paused_since <= ctx.now - limit,
            )
            .order_by(DisclosureRequest.paused_since, DisclosureRequest.id)
        ).all()
        for request in waiting:
            _close_pause(ctx, request)
            _move(ctx, request, workflow.INFORMATION_TIMEOUT, SYSTEM_ACTOR, reason="no_response")
            request.closed_at = ctx.now
            timeouts += 1
    return SweepResult(expired_accreditations, len(grants), overdue, timeouts)


# --- presentation -------------------------------------------------------------------------------


_ROLE_SHOWN = {REQUESTER: "requester", LAW_ENFORCEMENT: "requester", STAFF: "staff"}


@dataclasses.dataclass(frozen=True)
class RequestView:
    """A request as one caller may see it: staff also see who asked and who decided."""

    request: DisclosureRequest
    staff: bool
    events: tuple[RequestEvent, ...]
    reasons: tuple[str, ...]
    pauses: tuple[SlaPause, ...]
    grant: DisclosureGrant | None
    organisation: str | None
    now: dt.datetime

    def as_json(self, base_url: str) -> dict[str, Any]:
        r = self.request
        out: dict[str, Any] = {
            "id": r.id,
            "status": r.status,
            "domain": r.domain,
            "purpose": r.purpose,
            "legal_basis": r.legal_basis,
            "rationale": r.rationale,
            "data_elements": list(r.data_elements),
            "priority": r.priority,
            "confidential": r.confidential,
            "tlp": r.tlp,
            "good_faith_affirmation": r.good_faith_affirmation,
            "received_at": rdap_time(r.received_at),
            "acknowledged_at": rdap_time(r.acknowledged_at),
            "due_at": rdap_time(r.due_at),
            "overdue": r.overdue
            or (r.status in workflow.OPEN and is_late(r.due_at, r.paused_since, self.now)),
            "sla_paused": r.paused_since is not None,
            "sla_pauses": [
                {
                    "started_at": rdap_time(p.started_at),
                    "ended_at": rdap_time(p.ended_at) if p.ended_at else None,
                }
                for p in self.pauses
            ],
        }
        if r.urgent_justification:
            out["urgent_justification"] = r.urgent_justification
        if r.decided_at is not None:
            out["decided_at"] = rdap_time(r.decided_at)
            decision: dict[str, Any] = {"reasons": list(self.reasons)}
            if r.decision_rationale:
                decision["rationale"] = r.decision_rationale
            if r.balancing_test:
                decision["balancing_test"] = dict(r.balancing_test)
            out["decision"] = decision
        if r.closed_at is not None:
            out["closed_at"] = rdap_time(r.closed_at)
        if self.grant is not None:
            g = self.grant
            grant: dict[str, Any] = {
                "id": g.id,
                "data_elements": list(g.elements),
                "valid_from": rdap_time(g.valid_from),
                "valid_until": rdap_time(g.valid_until),
            }
            if g.ended_at is not None:
                grant["ended_at"] = rdap_time(g.ended_at)
                grant["end_reason"] = g.end_reason
            out["grant"] = grant
        out["history"] = [self._event(e) for e in self.events]
        if self.staff:
            out["requester"] = {
                "client_id": r.client_id,
                "accreditation_id": r.accreditation_id,
                "organisation": self.organisation,
                "type": r.requester_type,
                "role": r.requester_role,
            }
            out["decided_by"] = r.decided_by
            out["duplicate_of"] = r.duplicate_of
            out["downgraded"] = r.downgraded
        out["links"] = [
            {
                "rel": "self",
                "href": f"{base_url}/disclosure/requests/{r.id}",
                "type": "application/json",
            }
        ]
        return out

    def _event(self, event: RequestEvent) -> dict[str, Any]:
        actor = event.actor if self.staff else _ROLE_SHOWN.get(event.actor_role, "registry")
        return {
            "at": rdap_time(event.at),
            "from": event.from_status,
            "to": event.to_status,
            "action": event.action,
            "actor": actor,
            "reason": event.reason,
        }


def _view(ctx: Context, request: DisclosureRequest, *, staff: bool) -> RequestView:
    session = ctx.session
    session.flush()
    events = session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)
    ).all()
    reasons = session.scalars(
        select(RequestReason.code)
        .where(RequestReason.request_id == request.id)
        .order_by(RequestReason.code)
    ).all()
    pauses = session.scalars(
        select(SlaPause).where(SlaPause.request_id == request.id).order_by(SlaPause.id)
    ).all()
    grant = session.scalars(
        select(DisclosureGrant).where(DisclosureGrant.request_id == request.id)
    ).first()
    organisation = None
    if staff:
        organisation = session.scalars(
            select(Organisation.name).where(Organisation.id == request.organisation_id)
        ).first()
    return RequestView(
        request,
        staff,
        tuple(events),
        tuple(reasons),
        tuple(pauses),
        grant,
        organisation,
        ctx.now,
    )
