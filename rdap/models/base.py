"""Column types shared by the registry models."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        moment: dt.datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)


def SearchText(length: int) -> String:
    """Text searched by prefix ranges: byte-wise ("C") collation on PostgreSQL, whatever the
    database locale, so `>= 'pre' AND < 'prf'` means "starts with pre" (SQLite is byte-wise)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


# JSON arrays/objects stored inline (status lists, street lines, disclose flags).
Json = JSON().with_variant(JSONB(), "postgresql")
