"""RDAP JSON renderer: application/rdap+json with rdapConformance, notices and redacted[]."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from rdap.errors import RdapError
from rdap.profile import Notice, Profile
from rdap.redaction import RedactedDocument

MEDIA_TYPE = "application/rdap+json"
REDACTED_CONFORMANCE = "redacted"


def _notice(notice: Notice, request_url: str, base_url: str) -> dict[str, Any]:
    out: dict[str, Any] = {"title": notice.title, "description": list(notice.description)}
    if notice.link:
        link = {k: v.replace("{base_url}", base_url) for k, v in notice.link.items()}
        out["links"] = [{"value": request_url, **link}]
    return out


def conformance(profile: Profile, extra: Iterable[str], redacted: bool) -> list[str]:
    values = list(dict.fromkeys([*profile.conformance, *extra]))
    if redacted and REDACTED_CONFORMANCE not in values:
        values.append(REDACTED_CONFORMANCE)
    return values


def document_json(
    document: RedactedDocument,
    *,
    profile: Profile,
    base_url: str,
    request_url: str,
    extra_conformance: Iterable[str] = (),
    extra_members: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The top-most RDAP object for a redacted document."""
    body = document.body
    out: dict[str, Any] = {
        "rdapConformance": conformance(profile, extra_conformance, bool(document.redacted))
    }
    object_class = document.subject.object_class
    notices = [_notice(n, request_url, base_url) for n in profile.notices_for(object_class)]
    for key, value in body.items():
        if key == "notices":
            notices = [*notices, *value]
        else:
            out[key] = value
    if extra_members:
        out.update(extra_members)
    if profile.port43 and object_class in ("domain", "nameserver", "entity"):
        out["port43"] = profile.port43
    if notices:
        out["notices"] = notices
    if document.redacted:
        out["redacted"] = [dict(r) for r in document.redacted]
    return out


def render(document: RedactedDocument, **kwargs: Any) -> bytes:
    return orjson.dumps(document_json(document, **kwargs))


def error_json(error: RdapError, profile: Profile | None = None) -> dict[str, Any]:
    """An RFC 9083 §6 error body; errorCode equals the HTTP status."""
    values = list(profile.conformance) if profile else ["rdap_level_0"]
    return {
        "rdapConformance": values,
        "errorCode": error.status,
        "title": error.title,
        "description": [error.description],
    }


def render_error(error: RdapError, profile: Profile | None = None) -> bytes:
    return orjson.dumps(error_json(error, profile))
