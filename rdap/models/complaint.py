"""Inaccuracy complaints: filed by anyone about a domain, routed to its sponsoring registrar."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
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
            "ix_complaints_registrar_status_created", "registrar_id", "status", "created_at", "id"
        ),
        Index("ix_complaints_created_at_id", "created_at", "id"),
    )

    # Opaque random identifier (also the capability for the reporter's status URL).
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Lower-case A-label of the domain complained about, as it was at submission.
    domain: Mapped[str] = mapped_column(String(253), index=True)
    # The sponsoring registrar at submission: the complaint stays routed to it.
    registrar_id: Mapped[int] = mapped_column(ForeignKey("registrars.id"))
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
