"""HTTP framing every request passes: a request target and header fields of bounded size
(414/431), and a request body that either reads cleanly or is a 400, whichever view reads it.

rdap.serve sets gunicorn's own limits above these, so requests between the two get these
RDAP error bodies; beyond gunicorn's limits its workers answer in the same form."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import IO, Any

from flask import request
from werkzeug.exceptions import HTTPException, RequestHeaderFieldsTooLarge, RequestURITooLarge

from rdap.errors import QueryError

log = logging.getLogger("rdap.views")

# Bytes of the request target (path and query). A domain name of 253 octets written as U-labels
# and percent-encoded stays well under it.
MAX_TARGET = 4094
# Header fields per request, and bytes of one field (name and value).
MAX_FIELDS = 100
MAX_FIELD = 8190
# Header fields that WSGI keeps outside the HTTP_* keys.
_PLAIN_FIELDS = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


def _target_length(environ: dict[str, Any]) -> int:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is None:
        query = environ.get("QUERY_STRING", "")
        raw = environ.get("PATH_INFO", "") + ("?" + query if query else "")
    return len(raw)


def refuse_oversized() -> None:
    """414 for a request target over MAX_TARGET bytes; 431 for more than MAX_FIELDS header
    fields or one over MAX_FIELD bytes. WSGI strings hold one character per octet."""
    environ = request.environ
    if _target_length(environ) > MAX_TARGET:
        raise RequestURITooLarge()
    fields = [
        (key[5:] if key.startswith("HTTP_") else _PLAIN_FIELDS[key], value)
        for key, value in environ.items()
        if key.startswith("HTTP_") or key in _PLAIN_FIELDS
    ]
    if len(fields) > MAX_FIELDS or any(
        len(name) + len(str(value)) > MAX_FIELD for name, value in fields
    ):
        raise RequestHeaderFieldsTooLarge()


class _Body:
    """The server's input stream; an error while reading it is the request's (400)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def _read(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._stream, method)(*args)
        except HTTPException:  # the stream's own answer (werkzeug's ClientDisconnected, ...)
            raise
        except Exception as exc:
            # A malformed chunk, a connection cut mid-body: where the body ends is unknown.
            log.warning("unreadable request body: %s", exc.__class__.__name__)
            raise QueryError("the request body is malformed or incomplete") from None

    def read(self, *args: Any) -> bytes:
        data: bytes = self._read("read", *args)
        return data

    def readline(self, *args: Any) -> bytes:
        line: bytes = self._read("readline", *args)
        return line

    def readlines(self, *args: Any) -> list[bytes]:
        lines: list[bytes] = self._read("readlines", *args)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


class ReadableBody:
    """WSGI middleware: every read of a request body (request.stream, get_json, forms, authlib)
    goes through `_Body`, so no body can turn into a 500."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if "wsgi.input" in environ:
            environ["wsgi.input"] = _Body(environ["wsgi.input"])
        result: Iterable[bytes] = self.app(environ, start_response)
        return result
