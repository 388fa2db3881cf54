"""Renderers: turn a RedactedDocument (and only that) into bytes for one channel.

Every channel (RDAP JSON, WHOIS text, HTML) is one `Renderer`. A renderer is built by its
channel with whatever that channel supplies (base URLs, the request URL, the service profile)
and then sees nothing but redacted documents: it has no way to ask for more data. Text and HTML
renderers read contacts through `rdap.render.contacts`, the one reader of jCard arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from rdap.errors import RdapError
from rdap.redaction import RedactedDocument


class Renderer(Protocol):
    """One channel's form of an answer."""

    @property
    def media_type(self) -> str:
        """The media type (with charset where the channel has one) of what `render` returns."""
        ...  # pragma: no cover - protocol

    def render(self, document: RedactedDocument) -> bytes:
        """The answer for one redacted document. Refuses anything else (TypeError)."""
        ...  # pragma: no cover - protocol

    def render_error(self, error: RdapError) -> bytes:
        """The channel's answer for an error: never a traceback, never the caller's input."""
        ...  # pragma: no cover - protocol


class SearchResults(Protocol):
    """A page of search results as renderers see it (rdap.search.SearchPage is one)."""

    @property
    def result_member(self) -> str: ...  # pragma: no cover - protocol
    @property
    def results(self) -> tuple[RedactedDocument, ...]: ...  # pragma: no cover - protocol
    @property
    def page_size(self) -> int: ...  # pragma: no cover - protocol
    @property
    def page_number(self) -> int: ...  # pragma: no cover - protocol
    @property
    def next_cursor(self) -> str | None: ...  # pragma: no cover - protocol
    @property
    def total_count(self) -> int | None: ...  # pragma: no cover - protocol
    @property
    def current_sort(self) -> str | None:
        """The sort in effect as RFC 8977 writes it ("name", "name:d"), if one was asked for."""
        ...  # pragma: no cover - protocol

    @property
    def sorts(self) -> Mapping[str, str]:
        """Available sort property → JSONPath of its value, the default first."""
        ...  # pragma: no cover - protocol

    @property
    def field_set(self) -> str: ...  # pragma: no cover - protocol
    @property
    def members(self) -> frozenset[str] | None:
        """The top-level members each result keeps (RFC 8982); None: all of them."""
        ...  # pragma: no cover - protocol

    @property
    def reverse(self) -> bool: ...  # pragma: no cover - protocol


def require_redacted(document: object) -> RedactedDocument:
    """The document, if redaction made it; a TypeError for anything else."""
    if not isinstance(document, RedactedDocument):
        raise TypeError("renderers take only documents made by rdap.redaction.redact()")
    return document


__all__ = ["Renderer", "SearchResults", "require_redacted"]
