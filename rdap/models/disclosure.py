"""Disclosure: accredited organisations, their clients, requests, grants and the audit chain.

Requests, grants and audit entries name a domain by stable values (its lower-case A-label and
ROID), never by a foreign key into the registry tables: a full deposit import replaces those
tables and must never be blocked, nor silently re-pointed, by disclosure records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rdap.db import Base
from rdap.models.base import Json, UtcDateTime


class Organisation(Base):
    """An organisation: accreditations are granted to it, and staff may belong to one (the
    conflict-of-interest rule compares organisations, not names typed twice)."""

    __tablename__ = "disclosure_organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    # Case-folded, whitespace-collapsed name: one organisation per key.
    name_key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Accreditation(Base):
    """An organisation's accreditation as a requester: type, jurisdiction, purposes, how and
    when it was verified, and its validity. Status: active, suspended, revoked, expired."""

    __tablename__ = "disclosure_accreditations"
    __table_args__ = (Index("ix_disclosure_accreditations_status_valid", "status", "valid_until"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("disclosure_organisations.id"), index=True
    )
    org_type: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    purposes: Mapped[list[str]] = mapped_column(Json, default=list)
    verification_method: Mapped[str] = mapped_column(String(32))
    # A reference to the evidence (a file hash, a case number), never the document itself.
    verification_ref: Mapped[str | None] = mapped_column(String(255))
    verified_by: Mapped[str] = mapped_column(String(255))
    verified_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    valid_from: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class DisclosureClient(Base):
    """What an OAuth client acts for: a requester's accreditation, or a staff member's
    organisation. Kept beside oauth_clients so the authorization server stays unaware of it."""

    __tablename__ = "disclosure_clients"

    client_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), primary_key=True
    )
    accreditation_id: Mapped[str | None] = mapped_column(
        ForeignKey("disclosure_accreditations.id"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("disclosure_organisations.id"), index=True
    )
    # Where notifications about requests go: the requester's own, or (staff) the reviewer's.
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class DisclosureRequest(Base):
    """One request for one domain. Timestamps, status, priority, requester type and purpose
    are columns so reports can count them in SQL."""

    __tablename__ = "disclosure_requests"
    __table_args__ = (
        Index("ix_disclosure_requests_client_received", "client_id", "received_at", "id"),
        Index("ix_disclosure_requests_status_received", "status", "received_at", "id"),
        Index("ix_disclosure_requests_received", "received_at", "id"),
        Index("ix_disclosure_requests_status_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"))
    accreditation_id: Mapped[str] = mapped_column(
        ForeignKey("disclosure_accreditations.id"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("disclosure_organisations.id"))
    requester_role: Mapped[str] = mapped_column(String(32))  # requester | law-enforcement
    requester_type: Mapped[str] = mapped_column(String(32))  # the accreditation's org_type
    domain: Mapped[str] = mapped_column(String(253), index=True)  # lower-case A-label
    domain_roid: Mapped[str] = mapped_column(String(89))
    purpose: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text)
    data_elements: Mapped[list[str]] = mapped_column(Json, default=list)
    priority: Mapped[str] = mapped_column(String(16))
    urgent_justification: Mapped[str | None] = mapped_column(Text)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    tlp: Mapped[str] = mapped_column(String(20))
    good_faith_affirmation: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Set while the SLA clock is paused (information requested); pauses are kept in full.
    paused_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # The SLA was breached: set once, never cleared (a late decision still counts as late).
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_rationale: Mapped[str | None] = mapped_column(Text)
    # Structured balancing test (GDPR 6(1)(f)) a reviewer may record with a decision.
    balancing_test: Mapped[dict[str, Any] | None] = mapped_column(Json)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Raised priority downgraded by a reviewer (counted in reports).
    downgraded: Mapped[bool] = mapped_column(Boolean, default=False)
    # An open request of the same client for the same domain and purpose, flagged for review.
    duplicate_of: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer, default=1)


class RequestReason(Base):
    """A reason code of a decision (multi-select: a denial may have several)."""

    __tablename__ = "disclosure_request_reasons"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("disclosure_requests.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class RequestEvent(Base):
    """One entry of a request's history: a transition (or a flag such as overdue), with the
    audit entry that records it."""

    __tablename__ = "disclosure_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("disclosure_requests.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(255))  # client id, "system" or "operator:<user>"
    actor_role: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    audit_hash: Mapped[str] = mapped_column(String(64))


class SlaPause(Base):
    """An interval in which the SLA clock stood still (information requested)."""

    __tablename__ = "disclosure_sla_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("disclosure_requests.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class DisclosureGrant(Base):
    """What an approved request discloses: these elements of this domain, to this client, for
    this purpose, from valid_from until valid_until (or until ended)."""

    __tablename__ = "disclosure_grants"
    __table_args__ = (
        # The one query a disclosing lookup makes.
        Index("ix_disclosure_grants_lookup", "client_id", "domain", "purpose"),
        Index("ix_disclosure_grants_open_until", "ended_at", "valid_until"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("disclosure_requests.id"), unique=True, index=True
    )
    client_id: Mapped[str] = mapped_column(String(64))
    accreditation_id: Mapped[str] = mapped_column(ForeignKey("disclosure_accreditations.id"))
    domain: Mapped[str] = mapped_column(String(253))
    domain_roid: Mapped[str] = mapped_column(String(89))
    purpose: Mapped[str] = mapped_column(String(64))
    elements: Mapped[list[str]] = mapped_column(Json, default=list)
    valid_from: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """One entry of the append-only, hash-chained audit log (rdap/audit.py). Every column
    except entry_hash is covered by entry_hash; values of disclosed data never appear."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    event: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(255))
    actor_role: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str | None] = mapped_column(String(64))
    token_id: Mapped[str | None] = mapped_column(String(128))
    accreditation_id: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    grant_id: Mapped[str | None] = mapped_column(String(36))
    domain: Mapped[str | None] = mapped_column(String(253), index=True)
    purpose: Mapped[str | None] = mapped_column(String(64))
    elements: Mapped[list[str]] = mapped_column(Json, default=list)
    policy_revision: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class Notification(Base):
    """The outbox: a message to a requester or a reviewer, written in the transaction of the
    transition it reports and delivered later (rdap/disclosure/notify.py), so that nothing is
    lost while mail is down. Never holds registration data: a request id, a status, times."""

    __tablename__ = "disclosure_notifications"
    __table_args__ = (Index("ix_disclosure_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    event: Mapped[str] = mapped_column(String(64))  # the request's transition (or flag)
    audience: Mapped[str] = mapped_column(String(16))  # requester | reviewer
    recipient: Mapped[str] = mapped_column(String(320))
    request_id: Mapped[str | None] = mapped_column(String(36))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class RenewalReminder(Base):
    """A renewal reminder queued for one accreditation, validity period and threshold (days
    before expiry): the key makes each one once only, whichever `rdapd notify` queues it, and a
    renewal (a new valid_until) starts a new set (rdap/disclosure/renewal.py)."""

    __tablename__ = "disclosure_renewal_reminders"

    accreditation_id: Mapped[str] = mapped_column(
        ForeignKey("disclosure_accreditations.id", ondelete="CASCADE"), primary_key=True
    )
    valid_until: Mapped[dt.datetime] = mapped_column(UtcDateTime, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    queued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
