"""Inaccuracy complaints: filed by anyone about a domain, routed to its sponsoring registrar."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rdap.db import Base
from rdap.models.base import Json, UtcDateTime

OPEN = "open"
CLOSED = "closed"
COMPLAINT_STATES = (OPEN, CLOSED)


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        # Keyset pages: a registrar's complaints by state, oldest first; staff's over all.
        Index(
            "ix_complaints_registrar_status_created",
            "registrar_client_id",
            "status",
            "created_at",
            "id",
        ),
        Index("ix_complaints_created_at_id", "created_at", "id"),
    )

    # Opaque random identifier (also the capability for the reporter's status URL).
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # What the complaint is about, by values that outlive the registry rows (a deposit replaces
    # those): no foreign key into registry tables, so a complaint never blocks an import.
    # Lower-case A-label of the domain complained about, and its ROID, as at submission.
    domain: Mapped[str] = mapped_column(String(253), index=True)
    domain_roid: Mapped[str | None] = mapped_column(String(89))
    # The sponsoring registrar at submission, by EPP client id (what every deposit names it by):
    # the complaint stays routed to it. Its IANA Registrar ID too, where it has one.
    registrar_client_id: Mapped[str] = mapped_column(String(32))
    registrar_iana_id: Mapped[int | None] = mapped_column(Integer)
    fields: Mapped[list[str]] = mapped_column(Json, default=list)
    description: Mapped[str] = mapped_column(Text)
    # Reporter's address: staff only, never shown to the registrar nor in any RDAP output.
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(8), default=OPEN)
    resolution: Mapped[str | None] = mapped_column(String(32))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # OAuth client id of the registrar client that closed it.
    closed_by: Mapped[str | None] = mapped_column(String(64))
