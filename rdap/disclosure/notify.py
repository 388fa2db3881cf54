"""Notifications of disclosure requests: the outbox, what each transition tells whom, and
delivery through a pluggable sender (the log by default, or SMTP) with retries.

A transition writes its notifications into the outbox (`disclosure_notifications`) in its own
transaction, so a message exists exactly when the transition does. `deliver` sends what is due
later: a message is claimed for a while (so two deliverers never send it at once), sent with
no transaction open, then marked sent; while mail is down it is retried with a growing pause
(1, 2, 4 ... minutes up to RDAP_NOTIFY_MAX_BACKOFF_MINUTES) and never dropped. Only a refusal
of the recipient or the message itself (SMTP 5xx) marks it failed, kept for the operator.

Messages name the request by id and say its status and times, nothing more: no domain (a
law-enforcement target is confidential), no registration data, no free text a requester or
reviewer wrote. The details are read through the authenticated API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from rdap.db import Database
from rdap.disclosure import workflow
from rdap.document import rdap_time
from rdap.models import DisclosureClient, DisclosureRequest, Notification, OAuthClient
from rdap.models.client import ACTIVE
from rdap.principal import STAFF
from rdap.settings import Settings, SettingsError

log = logging.getLogger("rdap.notify")

REQUESTER_AUDIENCE = "requester"
REVIEWER_AUDIENCE = "reviewer"
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
OVERDUE = "overdue"  # the flag an SLA breach records (not a transition of the table)
# How long a claimed message is left to one deliverer before another may try it.
CLAIM = dt.timedelta(minutes=5)

# What each event tells the requester (the client that submitted the request) ...
_TO_REQUESTER = {
    workflow.SUBMIT: "received and acknowledged",
    workflow.REQUEST_INFORMATION: "information requested from you (the SLA clock is paused)",
    workflow.APPROVE: "approved",
    workflow.APPROVE_PARTIALLY: "partially approved",
    workflow.DENY: "denied",
    workflow.RECLASSIFY: "priority changed",
    workflow.INFORMATION_TIMEOUT: "closed: the information requested did not arrive",
    workflow.GRANT_EXPIRY: "the grant has expired",
    workflow.REVOKE_GRANT: "the grant has been revoked",
    workflow.ACCREDITATION_ENDED: "closed: the accreditation has ended",
}
# ... and what it tells reviewers (staff clients with an address, outside the requester's
# organisation: they could not decide it).
_TO_REVIEWERS = {
    workflow.SUBMIT: "new request awaiting review",
    workflow.PROVIDE_INFORMATION: "the requester has answered; the SLA clock runs again",
    workflow.CANCEL: "cancelled by the requester",
    OVERDUE: "overdue: the SLA ran out before a decision",
}

_ADDRESS = re.compile(r"[^@\s<>,;\"()\[\]\\]+@[^@\s<>,;\"()\[\]\\]+\.[^@\s<>,;\"()\[\]\\]+")


def valid_address(value: str) -> bool:
    """A plain address (local@domain.tld): no display name, no list, no line break."""
    return len(value) <= 320 and _ADDRESS.fullmatch(value) is not None


def enqueue(
    session: Session, request: DisclosureRequest, event: str, *, now: dt.datetime
) -> list[Notification]:
    """Write the notifications of `event` on `request` into the outbox (caller's transaction)."""
    added: list[Notification] = []
    if event in _TO_REQUESTER:
        address = session.scalar(
            select(DisclosureClient.email).where(DisclosureClient.client_id == request.client_id)
        )
        if address:
            added.append(_message(request, event, REQUESTER_AUDIENCE, address, now))
    if event in _TO_REVIEWERS:
        for address in reviewer_addresses(session, request.organisation_id):
            added.append(_message(request, event, REVIEWER_AUDIENCE, address, now))
    session.add_all(added)
    return added


def reviewer_addresses(session: Session, organisation_id: int) -> list[str]:
    """The addresses of active staff clients outside `organisation_id` (a reviewer of the
    organisation concerned could not decide for it), each once."""
    reviewers = session.scalars(
        select(DisclosureClient.email)
        .join(OAuthClient, OAuthClient.client_id == DisclosureClient.client_id)
        .where(
            OAuthClient.role == STAFF,
            OAuthClient.status == ACTIVE,
            DisclosureClient.email.is_not(None),
            or_(
                DisclosureClient.organisation_id.is_(None),
                DisclosureClient.organisation_id != organisation_id,
            ),
        )
        .order_by(DisclosureClient.client_id)
    ).all()
    return list(dict.fromkeys(a for a in reviewers if a))


def _message(
    request: DisclosureRequest, event: str, audience: str, recipient: str, now: dt.datetime
) -> Notification:
    what = (_TO_REQUESTER if audience == REQUESTER_AUDIENCE else _TO_REVIEWERS)[event]
    lines = [
        f"Disclosure request {request.id}: {what}.",
        "",
        f"Status:    {request.status}",
        f"Priority:  {request.priority}",
    ]
    if request.status in workflow.OPEN:
        lines.append(f"Due:       {rdap_time(request.due_at)}")
    lines += [
        f"Event at:  {rdap_time(now)}",
        "",
        f"Read the request through the disclosure API: GET /disclosure/requests/{request.id}",
        "This message holds no registration data; the request's details are in the API.",
    ]
    return Notification(
        created_at=now,
        event=event,
        audience=audience,
        recipient=recipient,
        request_id=request.id,
        subject=f"Disclosure request {request.id}: {what}"[:255],
        body="\n".join(lines) + "\n",
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
    )


# --- senders ------------------------------------------------------------------------------------


class DeliveryError(Exception):
    """A message could not be delivered now; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclasses.dataclass(frozen=True)
class Outgoing:
    id: int
    recipient: str
    subject: str
    body: str


class Sender(Protocol):
    def send(self, message: Outgoing) -> None:
        """Deliver or raise DeliveryError."""


class LogSender:
    """Writes each message's recipient and subject to the log (the default: no mail set up)."""

    def send(self, message: Outgoing) -> None:
        log.info("notification %d to %s: %s", message.id, message.recipient, message.subject)


SECURITY = ("starttls", "ssl", "none")


@dataclasses.dataclass(frozen=True)
class SmtpSender:
    """One SMTP session per message (smtplib), with STARTTLS or implicit TLS by default."""

    host: str
    port: int
    sender: str
    security: str = "starttls"
    username: str = ""
    password: str = dataclasses.field(default="", repr=False)
    timeout: float = 10.0

    def send(self, message: Outgoing) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = email.utils.formatdate(usegmt=True)
        mail["Message-ID"] = email.utils.make_msgid(f"notification.{message.id}")
        mail.set_content(message.body)
        try:
            if self.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password)
                client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"recipient refused ({', '.join(map(str, codes))})",
                permanent=all(500 <= code < 600 for code in codes),
            ) from None
        except smtplib.SMTPDataError as exc:
            raise DeliveryError(
                f"message refused ({exc.smtp_code})", permanent=500 <= exc.smtp_code < 600
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP error {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"mail server unreachable ({type(exc).__name__})") from None


def sender_from_settings(settings: Settings) -> Sender:
    if settings.notify_sender == "log":
        return LogSender()
    if settings.notify_sender != "smtp":
        raise SettingsError("RDAP_NOTIFY_SENDER must be log or smtp")
    if settings.smtp_security not in SECURITY:
        raise SettingsError(f"RDAP_SMTP_SECURITY must be one of {', '.join(SECURITY)}")
    if not valid_address(settings.notify_from):
        raise SettingsError("RDAP_NOTIFY_FROM must be a plain address (local@domain.tld)")
    return SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.notify_from,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password,
        timeout=settings.smtp_timeout,
    )


# --- delivery -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One pass: messages sent, put off for a retry, failed for good, and still waiting."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    waiting: int = 0


def backoff(attempts: int, ceiling: dt.timedelta) -> dt.timedelta:
    """The pause after the `attempts`-th failed attempt: 1, 2, 4 ... minutes, at most ceiling."""
    return min(dt.timedelta(minutes=2 ** min(attempts - 1, 20)), ceiling)


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return and_(Notification.status.in_((PENDING, SENDING)), Notification.next_attempt_at <= now)


def deliver(
    db: Database,
    sender: Sender,
    *,
    clock: Callable[[], dt.datetime],
    limit: int = 100,
    max_backoff: dt.timedelta = dt.timedelta(hours=1),
) -> Delivery:
    """Send up to `limit` due messages, oldest first. A message that cannot be delivered now
    waits for its next attempt, and so does the rest of the pass: the mail server is down or
    refusing, and trying every other message against it would only add to its attempts."""
    sent = failed = deferred = 0
    tried: set[int] = set()
    while sent + failed + deferred < limit:
        claimed = _claim(db, clock(), tried)
        if claimed is None:
            break
        message, attempts = claimed
        tried.add(message.id)
        try:
            sender.send(message)
        except DeliveryError as exc:
            now = clock()
            attempts += 1
            if exc.permanent:
                _finish(
                    db, message.id, FAILED, attempts=attempts, next_attempt_at=now, error=str(exc)
                )
                failed += 1
                log.warning("notification %d failed for good: %s", message.id, exc)
                continue
            _finish(
                db,
                message.id,
                PENDING,
                attempts=attempts,
                next_attempt_at=now + backoff(attempts, max_backoff),
                error=str(exc),
            )
            deferred += 1
            log.warning("notification %d deferred (attempt %d): %s", message.id, attempts, exc)
            break
        done = clock()
        _finish(db, message.id, SENT, attempts=attempts + 1, next_attempt_at=done, sent_at=done)
        sent += 1
    with db.read_scope() as session:
        waiting = session.scalar(
            select(func.count()).where(Notification.status.in_((PENDING, SENDING)))
        )
    return Delivery(sent=sent, deferred=deferred, failed=failed, waiting=waiting or 0)


def _claim(db: Database, now: dt.datetime, tried: set[int]) -> tuple[Outgoing, int] | None:
    """Take the oldest due message for CLAIM (compare-and-set: a message another deliverer
    took meanwhile is skipped); None when nothing is due."""
    while True:
        with db.write_connection() as connection:
            query = select(
                Notification.id,
                Notification.recipient,
                Notification.subject,
                Notification.body,
                Notification.status,
                Notification.attempts,
                Notification.next_attempt_at,
            ).where(_due(now))
            if tried:
                query = query.where(Notification.id.not_in(tried))
            row = connection.execute(
                query.order_by(Notification.next_attempt_at, Notification.id).limit(1)
            ).first()
            if row is None:
                return None
            taken = connection.execute(
                update(Notification)
                .where(
                    Notification.id == row.id,
                    Notification.status == row.status,
                    Notification.next_attempt_at == row.next_attempt_at,
                )
                .values(status=SENDING, next_attempt_at=now + CLAIM)
            ).rowcount
        if taken == 1:
            return Outgoing(row.id, row.recipient, row.subject, row.body), row.attempts


def _finish(
    db: Database,
    message_id: int,
    status: str,
    *,
    attempts: int,
    next_attempt_at: dt.datetime,
    error: str | None = None,
    sent_at: dt.datetime | None = None,
) -> None:
    with db.write_connection() as connection:
        connection.execute(
            update(Notification)
            .where(Notification.id == message_id)
            .values(
                status=status,
                attempts=attempts,
                next_attempt_at=next_attempt_at,
                last_error=error[:255] if error else None,
                sent_at=sent_at,
            )
        )
