"""Hosts (nameservers) and their IP addresses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rdap.db import Base
from rdap.models.base import Json, SearchText, UtcDateTime


class Host(Base):
    __tablename__ = "hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    roid: Mapped[str] = mapped_column(String(89), unique=True)
    ldh_name: Mapped[str] = mapped_column(SearchText(253), unique=True)  # lower-case A-label
    unicode_name: Mapped[str | None] = mapped_column(SearchText(253), index=True)
    registrar_id: Mapped[int] = mapped_column(ForeignKey("registrars.id"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(32))
    updated_by: Mapped[str | None] = mapped_column(String(32))
    statuses: Mapped[list[str]] = mapped_column(Json, default=list)
    created_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    transferred_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    addresses: Mapped[list[HostAddress]] = relationship(
        back_populates="host", cascade="all, delete-orphan", order_by="HostAddress.id"
    )


class HostAddress(Base):
    __tablename__ = "host_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(2))  # "v4" or "v6"
    address: Mapped[str] = mapped_column(String(45), index=True)  # canonical text form

    host: Mapped[Host] = relationship(back_populates="addresses")
