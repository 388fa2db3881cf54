"""Registry-level facts: served TLDs and the deposits that loaded the data."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
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
