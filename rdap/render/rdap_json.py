"""RDAP JSON renderer: application/rdap+json with rdapConformance, notices and redacted[]."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from rdap import cards
from rdap.errors import RdapError
from rdap.profile import Notice, Profile
from rdap.redaction import RedactedDocument, json_bytes
from rdap.render import Renderer, SearchResults, require_redacted

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
    """The top-most RDAP object for a redacted document. Its members are the document's
    read-only views: serialize it with `json_bytes`."""
    body: Mapping[str, Any] = require_redacted(document).body
    object_class = document.subject.object_class
    format_conformance = cards.CONFORMANCE[document.contact_format]
    if format_conformance is not None:
        extra_conformance = [*extra_conformance, format_conformance]
    out: dict[str, Any] = {
        "rdapConformance": conformance(profile, extra_conformance, bool(document.redacted))
    }
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
        out["redacted"] = list(document.redacted)
    return out


@dataclasses.dataclass(frozen=True)
class RdapJson:
    """The RDAP JSON renderer for one request: the channel supplies its URLs and extensions."""

    profile: Profile
    base_url: str
    request_url: str
    extra_conformance: Iterable[str] = ()
    extra_members: dict[str, Any] | None = None
    media_type: str = MEDIA_TYPE

    def render(self, document: RedactedDocument) -> bytes:
        return json_bytes(
            document_json(
                document,
                profile=self.profile,
                base_url=self.base_url,
                request_url=self.request_url,
                extra_conformance=self.extra_conformance,
                extra_members=self.extra_members,
            )
        )

    def render_error(self, error: RdapError) -> bytes:
        return render_error(error, self.profile)


def render(document: RedactedDocument, **kwargs: Any) -> bytes:
    renderer: Renderer = RdapJson(**kwargs)
    return renderer.render(document)


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


# --- searches ---------------------------------------------------------------------------------
SEARCH_CONFORMANCE = ("paging", "sorting", "subsetting")
REVERSE_CONFORMANCE = "reverse_search"
_PATH_KEYS = ("prePath", "postPath", "replacementPath")


def _subset(body: Mapping[str, Any], members: frozenset[str] | None) -> dict[str, Any]:
    if members is None:
        return dict(body)
    return {k: v for k, v in body.items() if k in members}


def _top_member(path: str) -> str:
    rest = path[2:] if path.startswith("$.") else ""
    for i, ch in enumerate(rest):
        if ch in ".[":
            return rest[:i]
    return rest


class _Rebased:
    """Shared declarations with their JSONPaths made absolute under a result's response path,
    kept between pages (plain copies; read-only by convention). Declarations are shared per
    redaction outcome, so the same few hundred recur on every page; an entry holds its
    declaration, so the id it is filed under is never reused while it lives. At most `limit`
    entries; then it starts afresh."""

    def __init__(self, limit: int = 8192) -> None:
        self.limit = limit
        self.size = 0
        self.by_head: dict[str, dict[int, tuple[Mapping[str, Any], dict[str, Any]]]] = {}

    def __call__(self, entries: tuple[Mapping[str, Any], ...], head: str) -> list[dict[str, Any]]:
        cache = self.by_head.get(head)
        if cache is None:
            cache = self.by_head[head] = {}
        out = []
        for entry in entries:
            hit = cache.get(id(entry))
            if hit is None or hit[0] is not entry:
                if self.size >= self.limit:
                    self.by_head.clear()
                    self.size = 0
                    cache = self.by_head[head] = {}
                hit = cache[id(entry)] = (entry, _rebase(entry, head))
                self.size += 1
            out.append(hit[1])
        return out


def _rebase(entry: Mapping[str, Any], head: str) -> dict[str, Any]:
    rewritten = dict(entry)  # its values are immutable (strings, frozen objects)
    for member in _PATH_KEYS:
        path = rewritten.get(member)
        if path is not None and path.startswith("$"):
            rewritten[member] = head + path[1:]
    return rewritten


_rebased = _Rebased()


def _result_object(
    document: RedactedDocument,
    member: str,
    index: int,
    members: frozenset[str] | None,
) -> dict[str, Any]:
    """One search result: subset, with its redacted[] paths made absolute in the response."""
    body: Mapping[str, Any] = document.body
    entries: tuple[Mapping[str, Any], ...] = document.redacted
    out = _subset(body, members)
    if members is not None:  # keep the entries about members this field set shows
        entries = tuple(
            entry
            for entry in entries
            if (path := next((entry[k] for k in _PATH_KEYS if k in entry), None)) is None
            or _top_member(path) in out
        )
    if entries:
        out["redacted"] = _rebased(entries, f"$.{member}[{index}]")
    return out


def _with_params(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def search_json(
    page: SearchResults,
    *,
    profile: Profile,
    base_url: str,
    request_url: str,
    extra_conformance: Iterable[str] = (),
    mapping: list[dict[str, Any]] | None = None,
    contact_format: str = cards.JCARD,
) -> dict[str, Any]:
    """The search response, its results' cards in `contact_format` (the format the channel
    asked for; `mapping` gives its property paths). Its `redacted` entries are shared with
    later pages: serialize the result (with `json_bytes`: it holds the documents' read-only
    views), do not change it."""
    results = [
        _result_object(require_redacted(doc), page.result_member, i, page.members)
        for i, doc in enumerate(page.results)
    ]
    redacted = any("redacted" in r for r in results)
    extra = [*extra_conformance, *SEARCH_CONFORMANCE]
    format_conformance = cards.CONFORMANCE[contact_format]
    if format_conformance is not None:
        extra.append(format_conformance)
    if page.reverse:
        extra.append(REVERSE_CONFORMANCE)
    out: dict[str, Any] = {"rdapConformance": conformance(profile, extra, redacted)}
    notices = [_notice(n, request_url, base_url) for n in profile.notices_for("search")]
    if page.next_cursor is not None:
        notices.append(
            {
                "title": "Search Results Truncated",
                "type": "result set truncated due to excessive load",
                "description": [
                    f"This page holds {page.page_size} results; follow the 'next' link in "
                    "paging_metadata for more."
                ],
            }
        )
    if notices:
        out["notices"] = notices
    out[page.result_member] = results
    paging: dict[str, Any] = {"pageSize": page.page_size, "pageNumber": page.page_number}
    if page.total_count is not None:
        paging["totalCount"] = page.total_count
    if page.next_cursor is not None:
        paging["links"] = [
            {
                "value": request_url,
                "rel": "next",
                "href": _with_params(request_url, cursor=page.next_cursor),
                "title": "Result Pagination Link",
                "type": MEDIA_TYPE,
            }
        ]
    out["paging_metadata"] = paging
    available = []
    for prop, json_path in page.sorts.items():
        fresh = _with_params(request_url, sort=prop)
        available.append(
            {
                "property": prop,
                "jsonPath": json_path,
                "default": prop == next(iter(page.sorts)),
                "links": [
                    {
                        "value": request_url,
                        "rel": "alternate",
                        "href": _without(fresh, "cursor"),
                        "title": "Result Ascending Sort Link",
                        "type": MEDIA_TYPE,
                    },
                    {
                        "value": request_url,
                        "rel": "alternate",
                        "href": _without(_with_params(request_url, sort=f"{prop}:d"), "cursor"),
                        "title": "Result Descending Sort Link",
                        "type": MEDIA_TYPE,
                    },
                ],
            }
        )
    sorting: dict[str, Any] = {"availableSorts": available}
    if page.current_sort:
        sorting = {"currentSort": page.current_sort, **sorting}
    out["sorting_metadata"] = sorting
    out["subsetting_metadata"] = {
        "currentFieldSet": page.field_set,
        "availableFieldSets": [
            {
                "name": name,
                "description": FIELD_SET_DESCRIPTIONS[name],
                "default": name == "full",
                "links": [
                    {
                        "value": request_url,
                        "rel": "alternate",
                        "href": _without(_with_params(request_url, fieldSet=name), "cursor"),
                        "title": "Result Subset Link",
                        "type": MEDIA_TYPE,
                    }
                ],
            }
            for name in ("id", "brief", "full")
        ],
    }
    if mapping:
        out["reverse_search_properties_mapping"] = mapping
    return out


FIELD_SET_DESCRIPTIONS = {
    "id": "Only the key fields identifying each object",
    "brief": "Key fields, status, events and links of each object",
    "full": "The complete objects",
}


def _without(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urlunsplit(parts._replace(query=urlencode(query)))


def render_search(page: SearchResults, **kwargs: Any) -> bytes:
    return json_bytes(search_json(page, **kwargs))
