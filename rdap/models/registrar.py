"""Registrars: the sponsoring organisations, with IANA ID, servers and abuse contact."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rdap.db import Base
from rdap.models.base import Json, SearchText, UtcDateTime


class Registrar(Base):
    __tablename__ = "registrars"

    id: Mapped[int] = mapped_column(primary_key=True)
    # EPP client identifier (rdeRegistrar:id); what domains, contacts and hosts reference.
    client_id: Mapped[str] = mapped_column(String(32), unique=True)
    # IANA Registrar ID (rdeRegistrar:gurid); RDAP handle of the registrar entity.
    iana_id: Mapped[int | None] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(SearchText(255))
    status: Mapped[str] = mapped_column(String(16), default="ok")
    street: Mapped[list[str]] = mapped_column(Json, default=list)
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(String(2))
    voice: Mapped[str | None] = mapped_column(String(64))
    voice_ext: Mapped[str | None] = mapped_column(String(16))
    fax: Mapped[str | None] = mapped_column(String(64))
    fax_ext: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(512))
    whois_server: Mapped[str | None] = mapped_column(String(255))
    whois_url: Mapped[str | None] = mapped_column(String(512))
    # Base URL of the registrar's own RDAP service (for the domain's `related` link).
    rdap_base_url: Mapped[str | None] = mapped_column(String(512))
    abuse_name: Mapped[str | None] = mapped_column(String(255))
    abuse_email: Mapped[str | None] = mapped_column(String(255))
    abuse_voice: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
