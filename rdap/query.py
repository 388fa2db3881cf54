"""Query: a raw RDAP path (or WHOIS line) → a validated, normalised Query object."""

from __future__ import annotations

import dataclasses
import re
import unicodedata

import idna

from rdap.errors import NotImplementedQuery, QueryError

MAX_NAME_OCTETS = 253
MAX_LABEL_OCTETS = 63
MAX_HANDLE_LENGTH = 89  # EPP roidType / clIDType upper bound
_LDH_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,88}$")


@dataclasses.dataclass(frozen=True)
class DomainName:
    """A name in both forms. `ldh` is the lower-case A-label form; `unicode` is set for IDNs."""

    ldh: str
    unicode: str | None

    @property
    def tld(self) -> str:
        return self.ldh.rsplit(".", 1)[-1]


@dataclasses.dataclass(frozen=True)
class DomainLookup:
    name: DomainName
    as_unicode: bool  # the query used U-labels


@dataclasses.dataclass(frozen=True)
class NameserverLookup:
    name: DomainName
    as_unicode: bool


@dataclasses.dataclass(frozen=True)
class EntityLookup:
    handle: str


@dataclasses.dataclass(frozen=True)
class HelpQuery:
    pass


Query = DomainLookup | NameserverLookup | EntityLookup | HelpQuery

# RFC 9082 path segments this server knows but does not serve (IP networks, autnums).
UNSUPPORTED_LOOKUPS = frozenset({"ip", "autnum"})


def _reject_controls(raw: str) -> None:
    for ch in raw:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Cf", "Co", "Cn") or ch in "\u2028\u2029":
            raise QueryError("the name contains a control, format or unassigned character")


def parse_domain_name(raw: str) -> tuple[DomainName, bool]:
    """Normalise a domain name given as A-labels, U-labels or a mix; any case; one trailing dot.

    Returns the name and whether the input used U-labels. Raises QueryError for anything
    that is not a valid IDNA 2008 / LDH name.
    """
    if not raw or len(raw) > 4 * MAX_NAME_OCTETS:
        raise QueryError("the name is empty or too long")
    _reject_controls(raw)
    name = raw[:-1] if raw.endswith(".") else raw
    if not name or name.startswith(".") or ".." in name or name.endswith("."):
        raise QueryError("the name has an empty label")
    as_unicode = not name.isascii()
    labels = name.split(".")
    a_labels: list[str] = []
    u_labels: list[str] = []
    for label in labels:
        a_label, u_label = _label_forms(label)
        a_labels.append(a_label)
        u_labels.append(u_label)
    ldh = ".".join(a_labels)
    if len(ldh) > MAX_NAME_OCTETS:
        raise QueryError("the name is longer than 253 octets")
    unicode_name = ".".join(u_labels)
    return DomainName(ldh=ldh, unicode=unicode_name if unicode_name != ldh else None), as_unicode


def _label_forms(label: str) -> tuple[str, str]:
    if label.isascii():
        lower = label.lower()
        if len(lower) > MAX_LABEL_OCTETS:
            raise QueryError("a label is longer than 63 octets")
        if not _LDH_LABEL.match(lower):
            raise QueryError("a label is not a valid LDH label (letters, digits, inner hyphens)")
        if lower[2:4] == "--":
            if not lower.startswith("xn--"):
                raise QueryError(
                    "a label uses a reserved form (hyphens in the third and fourth positions)"
                )
            try:
                u_label = idna.decode(lower)
                if idna.encode(u_label).decode("ascii") != lower:
                    raise QueryError("a label is not a canonical A-label")
            except idna.IDNAError:
                raise QueryError("a label is not a valid A-label (xn--)") from None
            return lower, u_label
        return lower, lower
    try:
        # UTS 46 mapping folds case and width the way user agents do, then IDNA 2008 validates.
        a_label = idna.encode(label, uts46=True, transitional=False).decode("ascii")
        u_label = idna.decode(a_label)
    except (idna.IDNAError, UnicodeError):
        raise QueryError("a label is not a valid IDNA 2008 label") from None
    if len(a_label) > MAX_LABEL_OCTETS:
        raise QueryError("a label is longer than 63 octets")
    return a_label, u_label


def parse_handle(raw: str) -> str:
    if not _HANDLE.match(raw):
        raise QueryError("the handle is not a valid object identifier")
    return raw


def parse_path(segments: list[str]) -> Query:
    """Map RFC 9082 path segments (already percent-decoded, split on '/') to a Query."""
    if not segments or segments == [""]:
        raise QueryError("no query given; see /help")
    kind, rest = segments[0], segments[1:]
    if kind == "help" and not rest:
        return HelpQuery()
    if kind in ("domain", "nameserver", "entity"):
        if len(rest) != 1 or not rest[0]:
            raise QueryError(f"/{kind}/ takes exactly one name or handle")
        value = rest[0]
        if kind == "entity":
            return EntityLookup(parse_handle(value))
        name, as_unicode = parse_domain_name(value)
        if kind == "domain":
            if "." not in name.ldh:
                raise QueryError("a domain name needs at least two labels")
            return DomainLookup(name, as_unicode)
        return NameserverLookup(name, as_unicode)
    if kind in UNSUPPORTED_LOOKUPS:
        raise NotImplementedQuery(f"this server does not serve /{kind}/ queries")
    raise QueryError("not an RDAP query this server understands; see /help")
