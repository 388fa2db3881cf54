"""Domains with contacts, nameservers and DNSSEC data; IDN tables; non-delegated names."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rdap.db import Base
from rdap.models.base import Json, SearchText, UtcDateTime
from rdap.models.contact import Contact
from rdap.models.nameserver import Host
from rdap.models.registrar import Registrar

CONTACT_TYPES = ("admin", "tech", "billing")


class Domain(Base):
    __tablename__ = "domains"
    __table_args__ = (
        Index("ix_domains_created_at_id", "created_at", "id"),
        Index("ix_domains_expires_at_id", "expires_at", "id"),
        Index("ix_domains_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roid: Mapped[str] = mapped_column(String(89), unique=True)
    ldh_name: Mapped[str] = mapped_column(SearchText(253), unique=True)  # lower-case A-label
    unicode_name: Mapped[str | None] = mapped_column(SearchText(253), index=True)
    tld: Mapped[str] = mapped_column(String(63), index=True)
    registrar_id: Mapped[int] = mapped_column(ForeignKey("registrars.id"), index=True)
    registrant_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(32))
    updated_by: Mapped[str | None] = mapped_column(String(32))
    statuses: Mapped[list[str]] = mapped_column(Json, default=list)
    created_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    transferred_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # IDN: the IDN table the name was registered under, and the name it is a variant of.
    idn_table: Mapped[str | None] = mapped_column(String(64))
    original_name: Mapped[str | None] = mapped_column(String(253), index=True)
    # DNSSEC (secDNS-1.1): signed delegation and optional maximum signature life.
    delegation_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    max_sig_life: Mapped[int | None] = mapped_column(Integer)

    registrar: Mapped[Registrar] = relationship(foreign_keys=[registrar_id])
    registrant: Mapped[Contact | None] = relationship(foreign_keys=[registrant_id])
    contacts: Mapped[list[DomainContact]] = relationship(
        cascade="all, delete-orphan", order_by="DomainContact.id"
    )
    nameservers: Mapped[list[DomainNameserver]] = relationship(
        cascade="all, delete-orphan", order_by="DomainNameserver.position"
    )
    ds_records: Mapped[list[DsRecord]] = relationship(
        cascade="all, delete-orphan", order_by="DsRecord.id"
    )
    dns_keys: Mapped[list[DnsKey]] = relationship(
        cascade="all, delete-orphan", order_by="DnsKey.id"
    )


class DomainContact(Base):
    __tablename__ = "domain_contacts"
    __table_args__ = (UniqueConstraint("domain_id", "contact_id", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    type: Mapped[str] = mapped_column(String(8))  # admin, tech, billing

    contact: Mapped[Contact] = relationship()


class DomainNameserver(Base):
    """A delegation: a host object (host_id) or a host attribute (name + addresses inline)."""

    __tablename__ = "domain_nameservers"
    __table_args__ = (UniqueConstraint("domain_id", "ldh_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("hosts.id"), index=True)
    ldh_name: Mapped[str] = mapped_column(SearchText(253), index=True)
    # Only for host attributes (hostAttr): [{"version": "v4", "address": "192.0.2.1"}, ...].
    addresses: Mapped[list[dict[str, str]]] = mapped_column(Json, default=list)

    host: Mapped[Host | None] = relationship()


class DsRecord(Base):
    __tablename__ = "ds_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    key_tag: Mapped[int] = mapped_column(Integer)
    algorithm: Mapped[int] = mapped_column(Integer)
    digest_type: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(256))  # upper-case hex


class DnsKey(Base):
    __tablename__ = "dns_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    flags: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[int] = mapped_column(Integer)
    algorithm: Mapped[int] = mapped_column(Integer)
    public_key: Mapped[str] = mapped_column(Text)  # base64


class IdnTable(Base):
    """An IDN table a deposit references (rdeIDN:idnTableRef)."""

    __tablename__ = "idn_tables"
    __table_args__ = (UniqueConstraint("tld", "table_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tld: Mapped[str] = mapped_column(String(63))  # the TLD whose deposit references it
    table_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(512))
    url_policy: Mapped[str | None] = mapped_column(String(512))


class NonDelegatedName(Base):
    """A name not delegated: blocked, withheld (protected, reserved) or mirrored (RFC 9022)."""

    __tablename__ = "non_delegated_names"

    id: Mapped[int] = mapped_column(primary_key=True)
    ldh_name: Mapped[str] = mapped_column(String(253), unique=True)
    unicode_name: Mapped[str | None] = mapped_column(String(253), index=True)
    tld: Mapped[str] = mapped_column(String(63), index=True)
    idn_table: Mapped[str | None] = mapped_column(String(64))
    original_name: Mapped[str | None] = mapped_column(String(253))
    state: Mapped[str] = mapped_column(String(16))  # blocked, withheld, mirrored
    reason: Mapped[str | None] = mapped_column(String(255))  # e.g. "protected for the community"
    created_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
