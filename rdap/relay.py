"""Contact-form relay: a message to a domain's contact, stored by value and routed to the
domain's sponsoring registrar, which forwards it; the writer never learns the contact's address."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from rdap.accuracy import email_ok
from rdap.document import rdap_time
from rdap.errors import Conflict, NotFound, QueryError
from rdap.models import ContactMessage, Domain, Registrar
from rdap.models.message import QUEUED, RELAYED
from rdap.principal import Principal, require_registrar
from rdap.query import parse_domain_name

# The contact roles a message may be written to (those that carry a contact-uri).
ROLES = ("registrant", "administrative", "technical", "billing")
MAX_BODY = 5000
MAX_LINE = 200


def _plain(value: str) -> None:
    """One line of text: no NUL (PostgreSQL text cannot hold it), no line breaks (a subject or a
    name ends up in mail headers)."""
    if any(c in value for c in "\x00\r\n"):
        raise ValidationError("must be one line of text")


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("must not contain NUL characters")


def _email(value: str) -> None:
    if not email_ok(value):
        raise ValidationError("must be an email address such as name@example.org")


class MessageSchema(Schema):
    """What the contact form sends. Messages are written for people: each field's message is."""

    class Meta:
        unknown = RAISE

    domain = fields.String(
        required=True, validate=validate.Length(min=1, max=1024, error="enter a domain name")
    )
    role = fields.String(
        required=True,
        validate=validate.OneOf(ROLES, error="choose one of: " + ", ".join(ROLES)),
    )
    sender_name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_LINE, error="enter your name"), _plain],
    )
    sender_email = fields.String(
        required=True,
        validate=[validate.Length(min=3, max=254, error="enter your email address"), _email],
    )
    subject = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_LINE, error="enter a subject"), _plain],
    )
    body = fields.String(
        required=True,
        validate=[
            validate.Length(min=10, max=MAX_BODY, error="write between 10 and 5000 characters"),
            _no_nul,
        ],
    )


class MessageInvalid(QueryError):
    """The form has errors: field name → messages (the names are ours, never the caller's)."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("the message has errors: " + ", ".join(sorted(errors)))
        self.errors = dict(errors)


_FIELDS = frozenset(MessageSchema().fields)
_REQUIRED = "this field is required"


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    raw = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    for name, messages in raw.items():
        key = name if name in _FIELDS else "_schema"
        texts = messages if isinstance(messages, list) else [str(messages)]
        shown = [
            _REQUIRED if m == "Missing data for required field." else str(m)
            for m in texts
            if key != "_schema"
        ]
        found.setdefault(key, []).extend(shown or ["unknown field"])
    return found


def submit(session: Session, form: Mapping[str, Any], *, now: dt.datetime) -> ContactMessage:
    """Queue a message for the contact `role` of a registered domain, routed to its sponsor now.
    Raises MessageInvalid (field errors) or a NotFound-free MessageInvalid for an unknown domain:
    whether a name is registered is public, but the form says it in its own words."""
    try:
        data: dict[str, Any] = MessageSchema().load(dict(form))
    except ValidationError as exc:
        raise MessageInvalid(_messages(exc)) from None
    try:
        name, _ = parse_domain_name(data["domain"])
    except QueryError:
        raise MessageInvalid({"domain": ["not a valid domain name"]}) from None
    domain = session.scalars(select(Domain).where(Domain.ldh_name == name.ldh)).first()
    if domain is None:
        raise MessageInvalid({"domain": ["this domain is not registered in this registry"]})
    message = ContactMessage(
        id=secrets.token_urlsafe(18),
        domain=domain.ldh_name,
        domain_roid=domain.roid,
        role=data["role"],
        registrar_client_id=domain.registrar.client_id,
        registrar_iana_id=domain.registrar.iana_id,
        sender_name=data["sender_name"].strip(),
        sender_email=data["sender_email"].strip(),
        subject=data["subject"].strip(),
        body=data["body"],
        status=QUEUED,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


# --- the sponsoring registrar's side: what to forward, and that it was forwarded -------------

MAX_LISTED = 100
_NOT_FOUND = "no such message"


def _routed_client(session: Session, principal: Principal) -> str | None:
    registrar_id = require_registrar(principal)
    return session.scalar(select(Registrar.client_id).where(Registrar.id == registrar_id))


def queued(session: Session, principal: Principal) -> list[ContactMessage]:
    """The messages routed to the calling registrar and not yet forwarded, oldest first."""
    client_id = _routed_client(session, principal)
    statement = (
        select(ContactMessage)
        .where(ContactMessage.registrar_client_id == client_id, ContactMessage.status == QUEUED)
        .order_by(ContactMessage.created_at, ContactMessage.id)
        .limit(MAX_LISTED)
    )
    return list(session.scalars(statement))


def mark_relayed(
    session: Session, principal: Principal, message_id: str, *, now: dt.datetime
) -> ContactMessage:
    """The registrar has forwarded the message to its contact (once)."""
    client_id = _routed_client(session, principal)
    message = session.get(ContactMessage, message_id) if len(message_id) <= 32 else None
    if message is None or message.registrar_client_id != client_id:
        raise NotFound(_NOT_FOUND)
    if message.status != QUEUED:
        raise Conflict("the message has been forwarded already")
    message.status = RELAYED
    message.relayed_at = now
    session.flush()
    return message


def as_json(message: ContactMessage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": message.id,
        "domain": message.domain,
        "role": message.role,
        "senderName": message.sender_name,
        "senderEmail": message.sender_email,
        "subject": message.subject,
        "body": message.body,
        "status": message.status,
        "createdAt": rdap_time(message.created_at),
    }
    if message.relayed_at is not None:
        out["relayedAt"] = rdap_time(message.relayed_at)
    return out
