"""Contacts: registrants and other contacts, with person kind, consent and verification."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, String, false, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rdap.db import Base
from rdap.models.base import Json, SearchText, UtcDateTime

NATURAL = "natural"
LEGAL = "legal"
PERSON_KINDS = (NATURAL, LEGAL)
VERIFICATION_STATES = ("unverified", "pending", "verified", "failed")


class Contact(Base):
    __tablename__ = "contacts"
    # Entity searches read only rows the caller's policy shows (rdap.visibility): one index per
    # condition a show rule can name (person kind, sponsoring registrar, consent), each leading
    # to the searched value, so a search never walks entries of hidden contacts.
    __table_args__ = (
        Index("ix_contacts_fn", "fn"),
        Index("ix_contacts_person_kind_fn", "person_kind", "fn"),
        Index("ix_contacts_registrar_id_fn", "registrar_id", "fn"),
        Index("ix_contacts_consent_name_fn", "consent_name", "fn"),
        Index("ix_contacts_person_kind_handle", "person_kind", "handle"),
        Index("ix_contacts_registrar_id_handle", "registrar_id", "handle"),
        # Reverse search by email (RFC 9536) starts from the contacts with that address.
        Index("ix_contacts_email_lower", func.lower(text("email"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(SearchText(64), unique=True)  # EPP contact:id
    roid: Mapped[str] = mapped_column(String(89), unique=True)
    registrar_id: Mapped[int] = mapped_column(ForeignKey("registrars.id"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(32))  # crRr client id
    updated_by: Mapped[str | None] = mapped_column(String(32))  # upRr client id
    statuses: Mapped[list[str]] = mapped_column(Json, default=list)
    voice: Mapped[str | None] = mapped_column(String(64))
    voice_ext: Mapped[str | None] = mapped_column(String(16))
    fax: Mapped[str | None] = mapped_column(String(64))
    fax_ext: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    transferred_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # EPP <contact:disclose> as given: {"flag": bool, "elements": ["name_int", "voice", ...]}.
    disclose: Mapped[dict[str, object] | None] = mapped_column(Json)
    # Registration-data facts beyond EPP (from the rdapd deposit extension).
    person_kind: Mapped[str] = mapped_column(String(8), default=NATURAL)
    # Element names the data subject consented to publish (e.g. ["name", "email"]).
    publish_consent: Mapped[list[str]] = mapped_column(Json, default=list)
    consent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    verification_status: Mapped[str] = mapped_column(String(16), default="unverified")
    verified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    verification_method: Mapped[str | None] = mapped_column(String(64))
    # Community-TLD eligibility: the community ID issued after validation, and when.
    community_id: Mapped[str | None] = mapped_column(String(64))
    eligibility_verified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    registrant_group: Mapped[str | None] = mapped_column(String(64))
    # Search columns, derived from the rows above by rdap.search_columns.refresh() after every
    # write: the name the contact's entity shows as fn (its int postal name, else its loc one),
    # and whether publish_consent covers the name.
    fn: Mapped[str | None] = mapped_column(SearchText(255))
    consent_name: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    postal_infos: Mapped[list[PostalInfo]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="PostalInfo.type"
    )


class PostalInfo(Base):
    """One EPP postalInfo of a contact: `int` (ASCII) or `loc` (localized)."""

    __tablename__ = "contact_postal_infos"
    __table_args__ = (Index("ix_contact_postal_infos_name", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(3))  # "int" or "loc"
    name: Mapped[str | None] = mapped_column(SearchText(255))
    org: Mapped[str | None] = mapped_column(String(255))
    street: Mapped[list[str]] = mapped_column(Json, default=list)
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))

    contact: Mapped[Contact] = relationship(back_populates="postal_infos")
