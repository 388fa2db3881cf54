"""Renderer tests."""

from __future__ import annotations

from typing import Any

from rdap.redaction import RedactedDocument, engine
from rdap.redaction.readonly import frozen


def declaring(
    document: RedactedDocument, entry: dict[str, Any], *, without: str | None = None
) -> RedactedDocument:
    """`document` with one more redaction declared (and the top-level member `without`
    removed): what redact() would make under a policy hiding a field the shipped policies do
    not hide. Built the way redact() builds documents, for renderer tests only."""
    body = {k: v for k, v in document.body.items() if k != without}
    return RedactedDocument(
        body=body,
        redacted=(*document.redacted, frozen(entry)),
        decisions=document.decisions,
        disclosed=document.disclosed,
        policy_revision=document.policy_revision,
        subject=document.subject,
        _key=engine._KEY,
    )
