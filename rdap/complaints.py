"""Inaccuracy complaints: submit (anyone), list and close (sponsoring registrar, staff); one
transaction each, request bodies validated by marshmallow schemas."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from rdap.accuracy import email_ok
from rdap.document import rdap_time
from rdap.errors import Conflict, NotFound, QueryError
from rdap.models import Complaint, Domain, Registrar
from rdap.models.complaint import CLOSED, OPEN
from rdap.paging import CursorCodec
from rdap.principal import STAFF, Principal, require_registrar
from rdap.query import parse_domain_name
from rdap.redaction import Decision, Policy, contact_decisions, removal_declaration
from rdap.redaction.policy import Element

CURSOR_PURPOSE = "complaints"
MAX_DESCRIPTION = 5000
MAX_NOTE = 2000
# Contact roles and the fields of each a complaint may name (closed set, "registrant.email" …).
CONTACT_ROLES = ("registrant", "administrative", "technical", "billing")
CONTACT_FIELDS = (
    "name",
    "org",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "voice",
    "fax",
    "email",
)
FIELDS = tuple(f"{role}.{name}" for role in CONTACT_ROLES for name in CONTACT_FIELDS)
# The contact role and element of a complaint's reporter in the policy files (elements.toml).
REPORTER = "reporter"
REPORTER_EMAIL = "reporter.email"
# How a registrar closes a complaint (closed set).
RESOLUTIONS = ("corrected", "verified_accurate", "suspended", "deleted", "not_actionable")
_ID = re.compile(r"[A-Za-z0-9_-]{16,32}", re.ASCII)
# The one answer for an id that does not exist and for one routed to someone else.
_NOT_FOUND = "no such complaint"


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("must not contain NUL characters")


class SubmitSchema(Schema):
    """POST /complaints body."""

    class Meta:
        unknown = RAISE

    domain = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    fields_ = fields.List(
        fields.String(validate=validate.OneOf(FIELDS)),
        data_key="fields",
        required=True,
        validate=validate.Length(min=1, max=len(FIELDS)),
    )
    description = fields.String(
        required=True, validate=[validate.Length(min=1, max=MAX_DESCRIPTION), _no_nul]
    )
    reporter_email = fields.String(
        data_key="reporterEmail",
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=254), _no_nul],
    )


class CloseSchema(Schema):
    """POST /registrar/complaints/<id>/close body."""

    class Meta:
        unknown = RAISE

    resolution = fields.String(required=True, validate=validate.OneOf(RESOLUTIONS))
    note = fields.String(load_default="", validate=[validate.Length(max=MAX_NOTE), _no_nul])


def _field_error(names: Any) -> QueryError:
    """A 400 naming the invalid fields; names the caller invented are not echoed."""
    known = {"domain", "fields", "description", "reporterEmail", "resolution", "note"}
    listed = sorted({name for name in names if name in known})
    if len(listed) < len(set(names)):
        listed.append("(unknown field)")
    return QueryError("invalid request body; check these fields: " + ", ".join(listed))


def _load(schema: Schema, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise QueryError("the request body must be a JSON object")
    try:
        data: dict[str, Any] = schema.load(body)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise _field_error(messages) from None
    return data


@dataclasses.dataclass(frozen=True)
class ComplaintView:
    """A complaint as one caller may see it. The policy files decide, as for RDAP answers: its
    content (the fields it names and its description: accuracy detail about the domain's
    contacts) with the contacts' `verification` elements, the reporter's address with
    `reporter.email`. `withheld` lists each member left out with the element that hid it."""

    complaint: Complaint
    reporter_email: str | None
    withheld: tuple[tuple[str, Element], ...] = ()

    def members(self, path: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The complaint object, and the RFC 9537 declarations of what it leaves out (their
        paths below `path`, the object's JSONPath in the answer)."""
        c = self.complaint
        hidden = {member for member, _ in self.withheld}
        out: dict[str, Any] = {"id": c.id, "domain": c.domain}
        if "fields" not in hidden:
            out["fields"] = list(c.fields)
        if "description" not in hidden:
            out["description"] = c.description
        out["status"] = c.status
        out["createdAt"] = rdap_time(c.created_at)
        if self.reporter_email is not None:
            out["reporterEmail"] = self.reporter_email
        if c.status == CLOSED:
            out["resolution"] = c.resolution
            out["resolutionNote"] = c.resolution_note or ""
            out["closedAt"] = rdap_time(c.closed_at) if c.closed_at else None
            out["closedBy"] = c.closed_by
        declared = [
            removal_declaration(element, f"{path}.{member}") for member, element in self.withheld
        ]
        return out, declared

    def as_json(self) -> dict[str, Any]:
        out, declared = self.members("$")
        if declared:
            out["redacted"] = declared
        return out


def _view(
    complaint: Complaint,
    principal: Principal,
    policy: Policy,
    now: dt.datetime,
    *,
    routed_id: int | None,
) -> ComplaintView:
    """What `principal` sees of `complaint`. `routed_id` is the registry id of the registrar
    the complaint is routed to when the caller is that registrar (None for staff, whose view
    does not depend on sponsorship). The contacts' facts are not looked up: an element
    counts as shown only if it is for any person kind (fail closed), so what is withheld
    depends on the caller and the complaint's routing alone, never on its content."""

    def decisions(role: str) -> Mapping[str, Decision]:
        return contact_decisions(
            policy,
            principal,
            role,
            registrar_id=routed_id,  # routed here: the complaint's "sponsor"
            person_kind=None,
            domain=complaint.domain,
            now=now,
        )

    withheld: list[tuple[str, Element]] = []
    for role in CONTACT_ROLES:
        element_id = f"{role}.verification"
        if not decisions(role)[element_id].shown:
            element = policy.elements[element_id]
            withheld += [("fields", element), ("description", element)]
    if decisions(REPORTER)[REPORTER_EMAIL].shown:
        email = complaint.reporter_email
    else:
        email = None
        withheld.append(("reporterEmail", policy.elements[REPORTER_EMAIL]))
    return ComplaintView(complaint, email, tuple(withheld))


@dataclasses.dataclass(frozen=True)
class ComplaintPage:
    items: tuple[ComplaintView, ...]
    next_cursor: str | None

    def as_json(self, *, next_href: str | None) -> dict[str, Any]:
        complaints: list[dict[str, Any]] = []
        declared: list[dict[str, Any]] = []
        for index, item in enumerate(self.items):
            member, hidden = item.members(f"$.complaints[{index}]")
            complaints.append(member)
            declared += hidden
        out: dict[str, Any] = {"complaints": complaints, "count": len(self.items)}
        if self.next_cursor is not None:
            out["cursor"] = self.next_cursor
            if next_href is not None:
                out["links"] = [{"rel": "next", "href": next_href, "type": "application/json"}]
        if declared:
            out["redacted"] = declared
        return out


def status_json(complaint: Complaint) -> dict[str, Any]:
    """What the holder of a complaint id learns: its state, never its content or parties."""
    out: dict[str, Any] = {
        "id": complaint.id,
        "domain": complaint.domain,
        "status": complaint.status,
        "createdAt": rdap_time(complaint.created_at),
    }
    if complaint.status == CLOSED:
        out["resolution"] = complaint.resolution
        out["closedAt"] = rdap_time(complaint.closed_at) if complaint.closed_at else None
    return out


# --- operations (each runs in the one transaction the caller's session scope holds) ---------


def submit(session: Session, body: Any, *, now: dt.datetime) -> Complaint:
    """File a complaint about a registered domain; it is routed to the domain's sponsor now."""
    data = _load(SubmitSchema(), body)
    email = data["reporter_email"]
    if email is not None and (email == "" or not email_ok(email)):
        raise _field_error(["reporterEmail"])
    try:
        name, _ = parse_domain_name(data["domain"])
    except QueryError:
        raise _field_error(["domain"]) from None
    domain = session.scalars(select(Domain).where(Domain.ldh_name == name.ldh)).first()
    if domain is None:
        raise NotFound("the domain is not registered in this registry")
    complaint = Complaint(
        id=secrets.token_urlsafe(18),
        domain=domain.ldh_name,
        domain_roid=domain.roid,
        registrar_client_id=domain.registrar.client_id,
        registrar_iana_id=domain.registrar.iana_id,
        fields=list(dict.fromkeys(data["fields_"])),
        description=data["description"],
        reporter_email=email,
        status=OPEN,
        created_at=now,
    )
    session.add(complaint)
    session.flush()
    return complaint


def _routed_to(session: Session, registrar_id: int) -> str | None:
    """The EPP client id of the registrar a principal acts for (complaints are routed by it)."""
    return session.scalar(select(Registrar.client_id).where(Registrar.id == registrar_id))


def _find(session: Session, complaint_id: str, *, for_update: bool = False) -> Complaint | None:
    if not _ID.fullmatch(complaint_id):
        return None
    statement = select(Complaint).where(Complaint.id == complaint_id)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def status(session: Session, complaint_id: str) -> Complaint:
    """A complaint by id, for its status URL."""
    complaint = _find(session, complaint_id)
    if complaint is None:
        raise NotFound(_NOT_FOUND)
    return complaint


def list_complaints(
    session: Session,
    principal: Principal,
    *,
    policy: Policy,
    now: dt.datetime,
    count: int,
    cursor: str | None,
    codec: CursorCodec,
) -> ComplaintPage:
    """Staff: every complaint. A registrar: its own open complaints. Oldest first."""
    statement = select(Complaint)
    routed_id: int | None = None
    if principal.role == STAFF:
        scope = "staff"
    else:
        registrar_id = routed_id = require_registrar(principal)
        scope = f"registrar:{registrar_id}"
        statement = statement.where(
            Complaint.registrar_client_id == _routed_to(session, registrar_id),
            Complaint.status == OPEN,
        )
    if cursor is not None:
        position = codec.decode(cursor, scope)
        try:
            after_time = dt.datetime.fromisoformat(position["t"])
            after_id = str(position["id"])
        except (KeyError, TypeError, ValueError):
            raise QueryError("the cursor is not valid") from None
        statement = statement.where(
            or_(
                Complaint.created_at > after_time,
                and_(Complaint.created_at == after_time, Complaint.id > after_id),
            )
        )
    rows = list(
        session.scalars(statement.order_by(Complaint.created_at, Complaint.id).limit(count + 1))
    )
    next_cursor = None
    if len(rows) > count:
        rows = rows[:count]
        last = rows[-1]
        next_cursor = codec.encode(scope, {"t": last.created_at.isoformat(), "id": last.id})
    return ComplaintPage(
        tuple(_view(c, principal, policy, now, routed_id=routed_id) for c in rows), next_cursor
    )


def close(
    session: Session,
    principal: Principal,
    complaint_id: str,
    body: Any,
    *,
    policy: Policy,
    now: dt.datetime,
) -> ComplaintView:
    """The registrar the complaint was routed to closes it with a resolution, once."""
    registrar_id = require_registrar(principal)
    data = _load(CloseSchema(), body)
    complaint = _find(session, complaint_id, for_update=True)
    if complaint is None or complaint.registrar_client_id != _routed_to(session, registrar_id):
        raise NotFound(_NOT_FOUND)
    if complaint.status != OPEN:
        raise Conflict("the complaint is already closed")
    complaint.status = CLOSED
    complaint.resolution = data["resolution"]
    complaint.resolution_note = data["note"]
    complaint.closed_at = now
    complaint.closed_by = principal.client_id
    session.flush()
    return _view(complaint, principal, policy, now, routed_id=registrar_id)
