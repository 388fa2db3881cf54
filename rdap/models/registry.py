"""Registry-level facts: served TLDs, the deposits that loaded them, which TLDs' deposits hold
each registrar, contact and host (objects a registry may share between its TLDs), and the data
version."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from rdap.db import Base
from rdap.models.base import Json, UtcDateTime


class Tld(Base):
    __tablename__ = "tlds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)  # A-label, lower case
    unicode_name: Mapped[str | None] = mapped_column(String(63))


class Deposit(Base):
    """One imported escrow deposit; the newest one dates 'last update of RDAP database'."""

    __tablename__ = "deposits"

    id: Mapped[int] = mapped_column(primary_key=True)
    deposit_id: Mapped[str] = mapped_column(String(64))
    deposit_type: Mapped[str] = mapped_column(String(8))  # FULL, INCR, DIFF
    watermark: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    tld: Mapped[str | None] = mapped_column(String(63))
    imported_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    counts: Mapped[dict[str, int]] = mapped_column(Json, default=dict)


# A full deposit replaces its own TLD only (RFC 9022 deposits are per TLD). Registrars, contacts
# and hosts can appear in the deposits of several TLDs, so each keeps the set of TLDs whose
# latest deposit holds it; it is removed when that set becomes empty.


class RegistrarTld(Base):
    __tablename__ = "registrar_tlds"

    registrar_id: Mapped[int] = mapped_column(
        ForeignKey("registrars.id", ondelete="CASCADE"), primary_key=True
    )
    tld: Mapped[str] = mapped_column(String(63), primary_key=True)


class ContactTld(Base):
    __tablename__ = "contact_tlds"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    tld: Mapped[str] = mapped_column(String(63), primary_key=True)


class HostTld(Base):
    __tablename__ = "host_tlds"

    host_id: Mapped[int] = mapped_column(
        ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True
    )
    tld: Mapped[str] = mapped_column(String(63), primary_key=True)


class DataVersion(Base):
    """A single row: a counter that every write changing an answer bumps (rdap.data_version), so
    answers kept by version are never served for data they were not built from."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
