"""Keyset paging: page-size bounds and opaque, HMAC-signed cursors bound to a purpose and scope."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

import orjson

from rdap.errors import QueryError
from rdap.settings import Settings

SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
MAX_CURSOR_LENGTH = 1024


def server_secret(settings: Settings) -> bytes:
    """Settings.secret_key, or a random key generated once into instance_path (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.instance_path / SECRET_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48).encode()
    try:
        with path.open("xb") as out:  # another process may win the race: use its key
            path.chmod(0o600)
            out.write(secret)
    except FileExistsError:
        return path.read_bytes().strip()
    return secret


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Signs and opens cursors for one purpose (e.g. "accuracy-report") with a derived key.

    A cursor carries its purpose and a scope (e.g. the registrar it was issued to); a cursor
    that was altered, forged, issued for another purpose or another scope is a 400.
    """

    def __init__(self, secret: bytes, purpose: str) -> None:
        self.purpose = purpose
        self._key = hmac.new(
            secret, b"rdapd cursor v1:" + purpose.encode(), hashlib.sha256
        ).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def encode(self, scope: str, position: Mapping[str, Any]) -> str:
        payload = orjson.dumps({"p": self.purpose, "s": scope, "k": dict(position)})
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, cursor: str, scope: str) -> dict[str, Any]:
        invalid = QueryError("the cursor is not valid")
        if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise invalid
        body, mac = cursor.split(".")
        try:
            payload, signature = _unb64(body), _unb64(mac)
        except (binascii.Error, ValueError):
            raise invalid from None
        if not hmac.compare_digest(signature, self._mac(payload)):
            raise invalid
        data = orjson.loads(payload)
        if data.get("p") != self.purpose or data.get("s") != scope:
            raise invalid
        position: dict[str, Any] = data["k"]
        return position


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
