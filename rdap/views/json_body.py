"""JSON request bodies of the write APIs (disclosure, registrar): JSON only, bounded, parsed."""

from __future__ import annotations

from typing import Any

import orjson
from flask import request

from rdap.errors import PayloadTooLarge, QueryError, UnsupportedMediaType

JSON = "application/json"


def read_json(max_bytes: int) -> Any:
    """The request's JSON body: JSON only (415), at most `max_bytes` bytes (413), well-formed
    (400). The stream is read to one byte past the bound, whatever Content-Length claims."""
    if request.mimetype != JSON:
        raise UnsupportedMediaType("request bodies must be application/json")
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"request bodies are limited to {max_bytes} bytes")
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"request bodies are limited to {max_bytes} bytes")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise QueryError("the request body is not well-formed JSON") from None
