"""Query: a raw RDAP path (or WHOIS line) → a validated, normalised Query object."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import unicodedata
from collections.abc import Mapping

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
class RegistrarLookup:
    """A registrar by its IANA Registrar ID or by its name (port 43 asks both ways)."""

    iana_id: int | None = None
    name: str | None = None


@dataclasses.dataclass(frozen=True)
class HelpQuery:
    pass


Query = DomainLookup | NameserverLookup | EntityLookup | RegistrarLookup | HelpQuery

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
    if kind in ("domains", "nameservers", "entities"):
        raise QueryError("a search takes its parameters in the query string; see /help")
    if kind in UNSUPPORTED_LOOKUPS:
        raise NotImplementedQuery(f"this server does not serve /{kind}/ queries")
    raise QueryError("not an RDAP query this server understands; see /help")


# --- port 43 (RFC 3912 leaves the query syntax to the server) -----------------------------
MAX_REGISTRAR_NAME = 255
WHOIS_KEYWORDS = ("domain", "nameserver", "registrar")


def parse_whois(line: str) -> tuple[Query, ...]:
    """A WHOIS query line (decoded, without its CRLF) → the queries to try, in order.

    `domain NAME`, `nameserver NAME` and `registrar NAME-OR-IANA-ID` say what is asked; the
    keyword is optional. Without one, text with a dot and no space is a domain name or else a
    name server name, digits are an IANA Registrar ID, and any other text is a registrar's
    name. Names are A-labels or U-labels, any case, with at most one trailing dot.
    """
    text = " ".join(line.split())  # runs of whitespace count as one space; ends trimmed
    if not text:
        raise QueryError("empty query; send a domain name, a name server or a registrar")
    _reject_controls(text)
    keyword, _, rest = text.partition(" ")
    keyword = keyword.lower()
    if keyword == "registrar" and rest:
        named = _registrar_lookup(rest)
        if named.name is None:
            return (named,)
        return named, _registrar_lookup(text)  # "Registrar A" may be a registrar's own name
    if keyword in ("domain", "nameserver") and rest:
        if " " in rest:
            raise QueryError(f"{keyword} takes one name")
        name, as_unicode = _whois_name(rest)
        if keyword == "domain":
            return (DomainLookup(name, as_unicode),)
        return (NameserverLookup(name, as_unicode),)
    if " " not in text and "." in text:
        name, as_unicode = _whois_name(text)
        return DomainLookup(name, as_unicode), NameserverLookup(name, as_unicode)
    return (_registrar_lookup(text),)


def _whois_name(raw: str) -> tuple[DomainName, bool]:
    name, as_unicode = parse_domain_name(raw)
    if "." not in name.ldh:
        raise QueryError("a domain or name server name needs at least two labels")
    return name, as_unicode


def _registrar_lookup(text: str) -> RegistrarLookup:
    if text.isascii() and text.isdigit():
        if len(text) > 9:
            raise QueryError("an IANA Registrar ID has at most 9 digits")
        return RegistrarLookup(iana_id=int(text))
    if len(text) > MAX_REGISTRAR_NAME:
        raise QueryError(f"a registrar name has at most {MAX_REGISTRAR_NAME} characters")
    return RegistrarLookup(name=text)


# --- searches (RFC 9082 §3.2, RFC 8977 paging/sorting, RFC 8982 subsetting, RFC 9536) ---------
FIELD_SETS = ("id", "brief", "full")
# RFC 8982: the top-level members each partial field set keeps; "full" keeps every member.
FIELD_SET_MEMBERS = {
    "id": frozenset({"objectClassName", "handle", "ldhName", "unicodeName"}),
    "brief": frozenset(
        {
            "objectClassName",
            "handle",
            "ldhName",
            "unicodeName",
            "status",
            "roles",
            "links",
            "events",
        }
    ),
}
# Members built from a domain's related rows (contacts, delegations, DNSSEC).
RELATED_MEMBERS = frozenset({"entities", "nameservers", "secureDNS"})


def needs_related(field_set: str) -> bool:
    """Does an answer in this field set show anything built from a domain's related rows?"""
    members = FIELD_SET_MEMBERS.get(field_set)
    return members is None or bool(members & RELATED_MEMBERS)


DOMAIN_SORTS = {
    "name": "ldhName",
    "registrationDate": "registration",
    "expirationDate": "expiration",
    "lastChangedDate": "last changed",
}
NAMESERVER_SORTS = {"name": "ldhName"}
ENTITY_SORTS = {"handle": "handle"}
REVERSE_PROPERTIES = ("fn", "handle", "email", "role")
REVERSE_ROLES = frozenset({"registrant", "administrative", "technical", "billing"})
MAX_PATTERN_LENGTH = 255


@dataclasses.dataclass(frozen=True)
class NamePattern:
    """A name search pattern: exact, or a label prefix followed by '*' and optional suffix.

    `prefix` is compared with the A-label form (`ldh`) or, when the caller typed non-ASCII
    characters before the '*', with the U-label form (`unicode`).
    """

    exact: DomainName | None
    prefix: str = ""
    suffix: str = ""  # ".post" or "" (labels after the wildcard label, A-label form)
    unicode: bool = False

    @property
    def is_exact(self) -> bool:
        return self.exact is not None


@dataclasses.dataclass(frozen=True)
class SortKey:
    property: str
    descending: bool = False


@dataclasses.dataclass(frozen=True)
class SearchOptions:
    count: bool = False
    sort: SortKey | None = None
    cursor: str | None = None
    field_set: str = "full"


@dataclasses.dataclass(frozen=True)
class DomainSearch:
    by: str  # "name", "nsLdhName", "nsIp"
    pattern: NamePattern | None
    ip: str | None
    options: SearchOptions


@dataclasses.dataclass(frozen=True)
class NameserverSearch:
    by: str  # "name", "ip"
    pattern: NamePattern | None
    ip: str | None
    options: SearchOptions


@dataclasses.dataclass(frozen=True)
class EntitySearch:
    by: str  # "fn", "handle"
    value: str  # exact text, or prefix when `partial`
    partial: bool
    options: SearchOptions


@dataclasses.dataclass(frozen=True)
class ReverseSearch:
    """Domains related to an entity (RFC 9536): every given property must match."""

    fn: str | None
    fn_partial: bool
    handle: str | None
    email: str | None
    role: str | None
    options: SearchOptions


Search = DomainSearch | NameserverSearch | EntitySearch | ReverseSearch


def _single(args: Mapping[str, list[str]], name: str) -> str | None:
    values = args.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise QueryError(f"the parameter {name} is given more than once")
    return values[0]


def parse_name_pattern(raw: str) -> NamePattern:
    """RFC 9082 §4.1: '*' matches zero or more trailing characters of a label; complete labels
    may precede that label, and a label suffix may follow it. Only one '*', after at least
    two characters."""
    if not raw or len(raw) > MAX_PATTERN_LENGTH:
        raise QueryError("the search pattern is empty or too long")
    if "*" not in raw:
        name, _ = parse_domain_name(raw)
        return NamePattern(exact=name)
    _reject_controls(raw)
    before, _, after = raw.partition("*")
    if "*" in after or (after and not after.startswith(".")):
        raise QueryError("unsupported pattern: one '*' is allowed, at the end of a label")
    if len(before) < MIN_PREFIX:
        raise QueryError(f"a partial match needs at least {MIN_PREFIX} characters before '*'")
    *complete, partial = before.split(".")
    suffix_ldh = suffix_unicode = ""
    if after:
        suffix_name, _ = parse_domain_name(after[1:])
        suffix_ldh = "." + suffix_name.ldh
        suffix_unicode = "." + (suffix_name.unicode or suffix_name.ldh)
    leading: list[tuple[str, str]] = []
    for label in complete:
        if not label:
            raise QueryError("the name has an empty label")
        leading.append(_label_forms(label))
    if not partial:
        raise QueryError("unsupported pattern: '*' must follow characters of a label")
    if before.isascii():
        lower = partial.lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", lower):
            raise QueryError("the part before '*' is not the start of a valid LDH label")
        prefix = "".join(a + "." for a, _ in leading) + lower
        return NamePattern(exact=None, prefix=prefix, suffix=suffix_ldh)
    try:
        mapped = idna.uts46_remap(partial, std3_rules=True, transitional=False)
    except (idna.IDNAError, UnicodeError):
        raise QueryError("the part before '*' is not the start of a valid label") from None
    if any(ch in "./" for ch in mapped) or not mapped:
        raise QueryError("the part before '*' is not the start of a valid label")
    prefix = "".join(u + "." for _, u in leading) + mapped
    return NamePattern(exact=None, prefix=prefix, suffix=suffix_unicode, unicode=True)


MIN_PREFIX = 2


def _ip(raw: str) -> str:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        raise QueryError("not a valid IPv4 or IPv6 address") from None


def _options(args: Mapping[str, list[str]], sorts: Mapping[str, str]) -> SearchOptions:
    count_raw = _single(args, "count")
    if count_raw not in (None, "true", "false"):
        raise QueryError("count must be true or false")
    field_set = _single(args, "fieldSet") or "full"
    if field_set not in FIELD_SETS:
        raise QueryError("fieldSet must be one of id, brief, full")
    sort = None
    sort_raw = _single(args, "sort")
    if sort_raw is not None:
        if "," in sort_raw:
            raise QueryError("this server sorts by one property at a time")
        prop, _, direction = sort_raw.partition(":")
        if prop not in sorts or direction not in ("", "a", "d"):
            raise QueryError("unsupported sort; see sorting_metadata for the available sorts")
        sort = SortKey(prop, descending=direction == "d")
    cursor = _single(args, "cursor")
    if cursor is not None and (not cursor or len(cursor) > 2048):
        raise QueryError("the cursor is not valid")
    return SearchOptions(count=count_raw == "true", sort=sort, cursor=cursor, field_set=field_set)


_SEARCH_PARAMS = {"count", "sort", "cursor", "fieldSet"}


def _exactly_one(args: Mapping[str, list[str]], names: tuple[str, ...]) -> tuple[str, str]:
    given = [n for n in names if n in args]
    if len(given) != 1:
        raise QueryError(f"give exactly one of: {', '.join(names)}")
    value = _single(args, given[0])
    assert value is not None
    return given[0], value


def _check_known(args: Mapping[str, list[str]], allowed: set[str]) -> None:
    unknown = set(args) - allowed - {"farv1_qp", "farv1_dnt"}
    if unknown:
        raise QueryError("unknown query parameter; see /help")


def parse_search(segments: list[str], args: Mapping[str, list[str]]) -> Search:
    """Map a search path and its query parameters to a Search."""
    path = "/".join(segments)
    if path == "domains":
        _check_known(args, {"name", "nsLdhName", "nsIp"} | _SEARCH_PARAMS)
        by, value = _exactly_one(args, ("name", "nsLdhName", "nsIp"))
        options = _options(args, DOMAIN_SORTS)
        if by == "nsIp":
            return DomainSearch(by, None, _ip(value), options)
        return DomainSearch(by, parse_name_pattern(value), None, options)
    if path == "nameservers":
        _check_known(args, {"name", "ip"} | _SEARCH_PARAMS)
        by, value = _exactly_one(args, ("name", "ip"))
        options = _options(args, NAMESERVER_SORTS)
        if by == "ip":
            return NameserverSearch(by, None, _ip(value), options)
        return NameserverSearch(by, parse_name_pattern(value), None, options)
    if path == "entities":
        _check_known(args, {"fn", "handle"} | _SEARCH_PARAMS)
        by, value = _exactly_one(args, ("fn", "handle"))
        value, partial = _text_pattern(value)
        if by == "handle" and not partial:
            parse_handle(value)
        return EntitySearch(by, value, partial, _options(args, ENTITY_SORTS))
    if path == "domains/reverse_search/entity":
        _check_known(args, set(REVERSE_PROPERTIES) | _SEARCH_PARAMS)
        values = {name: _single(args, name) for name in REVERSE_PROPERTIES}
        if not any(values[p] for p in ("fn", "handle", "email")):
            raise QueryError("a reverse search needs fn, handle or email")
        role = values["role"]
        if role is not None and role not in REVERSE_ROLES:
            raise QueryError("role must be registrant, administrative, technical or billing")
        fn, fn_partial = _text_pattern(values["fn"]) if values["fn"] else (None, False)
        email = values["email"]
        if email is not None and ("*" in email or len(email) > 254 or "@" not in email):
            raise QueryError("email must be a complete address")
        handle = values["handle"]
        if handle is not None:
            parse_handle(handle)
        return ReverseSearch(
            fn=fn,
            fn_partial=fn_partial,
            handle=handle,
            email=email.lower() if email else None,
            role=role,
            options=_options(args, DOMAIN_SORTS),
        )
    raise QueryError("not an RDAP search this server understands; see /help")


def _text_pattern(raw: str) -> tuple[str, bool]:
    """Free text with an optional trailing '*' (RFC 9082 §4.1)."""
    if not raw or len(raw) > MAX_PATTERN_LENGTH:
        raise QueryError("the search value is empty or too long")
    _reject_controls(raw)
    if "*" in raw[:-1]:
        raise QueryError("unsupported pattern: '*' is allowed only at the end")
    if raw.endswith("*"):
        stem = raw[:-1].strip()
        if len(stem) < MIN_PREFIX:
            raise QueryError(f"a partial match needs at least {MIN_PREFIX} characters before '*'")
        return stem, True
    return raw.strip(), False
