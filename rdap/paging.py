"""Keyset paging: page-size bounds and opaque, HMAC-signed cursors bound to a purpose and scope."""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import orjson

from rdap import b64url
from rdap.errors import QueryError

MAX_CURSOR_LENGTH = 2048
CURSOR_TTL = dt.timedelta(hours=1)


class CursorCodec:
    """Signs and opens cursors for one purpose (e.g. "accuracy-report") with a derived key.

    A cursor carries its purpose, a scope (e.g. the registrar it was issued to, or the caller and
    the query) and an expiry; a cursor that was altered, forged, issued for another purpose or
    scope, or has expired is a 400.
    """

    def __init__(self, secret: bytes, purpose: str, ttl: dt.timedelta = CURSOR_TTL) -> None:
        self.purpose = purpose
        self.ttl = ttl
        self._key = hmac.new(
            secret, b"rdapd cursor v1:" + purpose.encode(), hashlib.sha256
        ).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def encode(
        self, scope: str, position: Mapping[str, Any], *, now: dt.datetime | None = None
    ) -> str:
        expires = int(((now or _utcnow()) + self.ttl).timestamp())
        payload = orjson.dumps({"p": self.purpose, "s": scope, "k": dict(position), "e": expires})
        return f"{b64url.encode(payload)}.{b64url.encode(self._mac(payload))}"

    def decode(self, cursor: str, scope: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
        invalid = QueryError(
            "the cursor is not valid (altered, expired or issued for another query)"
        )
        if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise invalid
        body, mac = cursor.split(".")
        try:
            payload, signature = b64url.decode(body), b64url.decode(mac)
        except (binascii.Error, ValueError):
            raise invalid from None
        if not hmac.compare_digest(signature, self._mac(payload)):
            raise invalid
        data = orjson.loads(payload)
        if data.get("p") != self.purpose or data.get("s") != scope:
            raise invalid
        expires = data.get("e")
        if not isinstance(expires, int) or expires < int((now or _utcnow()).timestamp()):
            raise invalid
        position = data.get("k")
        if not isinstance(position, dict):
            raise invalid
        return position


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def page_size(raw: str | None, maximum: int, default: int | None = None) -> int:
    """The `count` parameter: 1..maximum; absent means `default` (or the maximum)."""
    if raw is None or raw == "":
        return min(default or maximum, maximum)
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise QueryError("count must be a positive integer")
    value = int(raw)
    if value < 1:
        raise QueryError("count must be a positive integer")
    return min(value, maximum)
