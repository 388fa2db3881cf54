"""base64url without padding (RFC 4648 §5, as JOSE writes it, RFC 7515 §2): tokens, cursors,
key ids and stored hashes."""

from __future__ import annotations

import base64


def encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(text: str) -> bytes:
    """The bytes of `text`; binascii.Error (a ValueError) when it is not base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
