"""Contact-form messages: written to a domain's contact through the operator's form, relayed by
the domain's sponsoring registrar, so the writer never learns the contact's address."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rdap.db import Base
from rdap.models.base import UtcDateTime

QUEUED = "queued"
RELAYED = "relayed"
MESSAGE_STATES = (QUEUED, RELAYED)


class ContactMessage(Base):
    __tablename__ = "contact_messages"
    __table_args__ = (
        # A registrar's queue, oldest first.
        Index(
            "ix_contact_messages_registrar_status_created",
            "registrar_client_id",
            "status",
            "created_at",
            "id",
        ),
    )

    # Opaque random identifier.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # As complaints: the domain and its sponsor by values that outlive a deposit import (no
    # foreign key into registry tables), so a message never blocks an import.
    domain: Mapped[str] = mapped_column(String(253), index=True)
    domain_roid: Mapped[str | None] = mapped_column(String(89))
    # The contact role written to (registrant, administrative, technical, billing).
    role: Mapped[str] = mapped_column(String(16))
    registrar_client_id: Mapped[str] = mapped_column(String(32))
    registrar_iana_id: Mapped[int | None] = mapped_column(Integer)
    # The writer: where the contact can answer. Seen by the relaying registrar and staff only.
    sender_name: Mapped[str] = mapped_column(String(200))
    sender_email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default=QUEUED)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    relayed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
