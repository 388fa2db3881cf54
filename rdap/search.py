"""Search: keyset-paged searches whose every result is a full document redacted for the caller.

A search can never show more than a lookup of the same object: results are built by the same
document builder and redacted by the same engine. Where a search matches on a field policy may
hide (entity fn/handle, reverse search), its SQL matches only values the caller's policy shows
(rdap.visibility), so neither its answer nor its cost depends on hidden data; a candidate is
also kept only if its *redacted* document shows the matching value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, union

from rdap import document as doc
from rdap import models
from rdap.errors import Forbidden, QueryError, Unauthorized
from rdap.lookup import LookupContext, redact_for, verification_for
from rdap.paging import CursorCodec
from rdap.principal import Principal
from rdap.query import (
    FIELD_SET_MEMBERS,
    DomainSearch,
    EntitySearch,
    NamePattern,
    NameserverSearch,
    ReverseSearch,
    Search,
    SearchOptions,
    SortKey,
    needs_related,
)
from rdap.records import DomainRecord
from rdap.redaction import Policy, RedactedDocument
from rdap.render.contacts import read_card
from rdap.repository import DC, DN, HA, C, D, H, R, Repository
from rdap.visibility import Facts, Visibility, consent_condition

# Candidates examined per request for searches filtered after redaction (bounded work).
SCAN_LIMIT_FACTOR = 20

# RFC 8977 sort properties → (column, JSONPath of the value in a result object).
DOMAIN_SORT_COLUMNS: dict[str, tuple[Any, str]] = {
    "name": (D.c.ldh_name, "$.domainSearchResults[*].ldhName"),
    "registrationDate": (
        D.c.created_at,
        '$.domainSearchResults[*].events[?(@.eventAction=="registration")].eventDate',
    ),
    "expirationDate": (
        D.c.expires_at,
        '$.domainSearchResults[*].events[?(@.eventAction=="expiration")].eventDate',
    ),
    "lastChangedDate": (
        D.c.updated_at,
        '$.domainSearchResults[*].events[?(@.eventAction=="last changed")].eventDate',
    ),
}


@dataclasses.dataclass(frozen=True)
class SearchPolicy:
    """Who may run which searches (policies/searches.toml)."""

    revision: str
    reverse_search_roles: frozenset[str]


def load_search_policy(path: Path) -> SearchPolicy:
    file = path / "searches.toml"
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
        reverse = data["reverse_search"]
        roles = frozenset(reverse["roles"])
        revision = str(data["revision"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{file}: not a valid search policy ({exc})") from None
    from rdap.principal import ROLES

    unknown = roles - set(ROLES)
    if unknown:
        raise ValueError(f"{file}: unknown roles {sorted(unknown)}")
    return SearchPolicy(revision=revision, reverse_search_roles=roles)


@dataclasses.dataclass(frozen=True)
class SearchPage:
    """One page of results, each a RedactedDocument, plus RFC 8977/8982 metadata."""

    result_member: str  # domainSearchResults, nameserverSearchResults, entitySearchResults
    results: tuple[RedactedDocument, ...]
    page_size: int
    page_number: int
    next_cursor: str | None
    total_count: int | None
    sort: SortKey | None
    sorts: dict[str, str]  # available sort property → JSONPath
    field_set: str
    reverse: bool = False

    @property
    def current_sort(self) -> str | None:
        """The sort in effect as RFC 8977 writes it: "name", "name:d"."""
        if self.sort is None:
            return None
        return self.sort.property + (":d" if self.sort.descending else "")

    @property
    def members(self) -> frozenset[str] | None:
        """The top-level members each result keeps (RFC 8982); None: all of them."""
        return FIELD_SET_MEMBERS.get(self.field_set)


@dataclasses.dataclass(frozen=True)
class _After:
    """A keyset cursor on a name column: rows strictly after `value` in the sort direction."""

    column: Any
    value: str
    descending: bool


def _prefix_range(column: Any, prefix: str, after: _After | None = None) -> ColumnElement[bool]:
    """`column` starts with `prefix`, and lies past a cursor on the same column.

    One bound per side: given two lower bounds (the prefix and the cursor), SQLite seeks to one
    and filters by the other, so page n would scan every row of the pages before it."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    low, high = column >= prefix, column < upper
    if after is not None and after.column is column:
        if after.descending:
            if after.value < upper:
                high = column < after.value
        elif after.value >= prefix:
            low = column > after.value
    return and_(low, high)


def _name_branches(
    ldh: Any, unicode_col: Any, pattern: NamePattern, after: _After | None = None
) -> list[ColumnElement[bool]]:
    """The pattern as alternative conditions, each answerable from one index."""
    if pattern.exact is not None:
        return [ldh == pattern.exact.ldh]
    if pattern.unicode:
        return [_prefix_match(unicode_col, pattern, after)]
    if unicode_col is ldh:
        return [_prefix_match(ldh, pattern, after)]
    # An ASCII prefix may also begin a U-label ("correos-esp*" finds correos-españa).
    return [_prefix_match(ldh, pattern, after), _prefix_match(unicode_col, pattern, after)]


def _name_filter(
    ldh: Any, unicode_col: Any, pattern: NamePattern, after: _After | None = None
) -> ColumnElement[bool]:
    return or_(*_name_branches(ldh, unicode_col, pattern, after))


def _prefix_match(
    column: Any, pattern: NamePattern, after: _After | None = None
) -> ColumnElement[bool]:
    condition = _prefix_range(column, pattern.prefix, after)
    if pattern.suffix:
        condition = and_(condition, column.endswith(pattern.suffix, autoescape=True))
    return condition


def _query_fingerprint(search: Search) -> str:
    options = dataclasses.replace(search.options, cursor=None)
    stripped = dataclasses.replace(search, options=options)
    return hashlib.sha256(repr(stripped).encode()).hexdigest()[:24]


def _caller(principal: Principal) -> str:
    return f"{principal.role}:{principal.client_id or principal.subject or ''}"


def _keyset(
    column: Any, id_column: Any, last: tuple[Any, int] | None, descending: bool
) -> ColumnElement[bool] | None:
    """Rows strictly after `last` in (column, id) order; NULLs sort first ascending."""
    if last is None:
        return None
    value, last_id = last
    after_id = id_column < last_id if descending else id_column > last_id
    if value is None:
        if descending:
            return and_(column.is_(None), after_id)
        return or_(column.is_not(None), and_(column.is_(None), after_id))
    beyond = column < value if descending else column > value
    tie = and_(column == value, after_id)
    if descending:
        return or_(beyond, tie, column.is_(None))
    return or_(beyond, tie)


def _order(column: Any, id_column: Any, descending: bool) -> list[Any]:
    if descending:
        return [column.desc().nulls_last(), id_column.desc()]
    return [column.asc().nulls_first(), id_column.asc()]


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def _decode_value(value: Any, column: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, models.base.UtcDateTime):
        try:
            return dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise QueryError("the cursor is not valid for this search") from None
    if not isinstance(value, str):
        raise QueryError("the cursor is not valid for this search")
    return value


class _Runner:
    """State of one search request: caller, context, cursor codec and page size."""

    def __init__(
        self,
        search: Search,
        principal: Principal,
        *,
        repo: Repository,
        policy: Policy,
        ctx: LookupContext,
        codec: CursorCodec,
        page_size: int,
    ) -> None:
        self.search = search
        self.principal = principal
        self.repo = repo
        self.policy = policy
        self.ctx = ctx
        self.codec = codec
        self.page_size = page_size
        # A cursor is good only for the query and the caller it was issued to.
        self.scope = f"{_caller(principal)}|{_query_fingerprint(search)}"
        self.verification = verification_for(policy, principal)
        self.visibility = Visibility(policy, principal, ctx.now)
        self.shared = doc.SharedParts()  # registrars, name servers, contacts recur in a page
        self.state: dict[str, Any] = {}
        if search.options.cursor:
            self.state = codec.decode(search.options.cursor, self.scope, now=ctx.now)

    @property
    def page_number(self) -> int:
        number = self.state.get("p", 1)
        return number if isinstance(number, int) and number > 0 else 1

    def next_cursor(self, key: list[Any]) -> str:
        position = {"k": key, "p": self.page_number + 1}
        return self.codec.encode(self.scope, position, now=self.ctx.now)

    def domain(self, record: DomainRecord) -> RedactedDocument:
        """One domain result: built as this caller's policy can show it, then redacted."""
        verification = self.verification(record.registrar.id)
        return self.redact(
            doc.domain_document(
                record, self.ctx.links, verification=verification, shared=self.shared
            )
        )

    def redact(self, full: doc.FullDocument) -> RedactedDocument:
        stamped = doc.stamp_database_update(full, self.repo.database_updated_at())
        return redact_for(stamped, self.principal, self.policy, self.ctx)

    def page(
        self,
        member: str,
        results: list[RedactedDocument],
        *,
        more_key: list[Any] | None,
        total: int | None,
        sorts: dict[str, str],
        reverse: bool = False,
    ) -> SearchPage:
        return SearchPage(
            result_member=member,
            results=tuple(results),
            page_size=len(results),
            page_number=self.page_number,
            next_cursor=self.next_cursor(more_key) if more_key is not None else None,
            total_count=total,
            sort=self.search.options.sort,
            sorts=sorts,
            field_set=self.search.options.field_set,
            reverse=reverse,
        )


def run_search(
    search: Search,
    principal: Principal,
    *,
    repo: Repository,
    policy: Policy,
    search_policy: SearchPolicy,
    ctx: LookupContext,
    codec: CursorCodec,
    page_size: int,
) -> SearchPage:
    """Answer one search for one principal."""
    if (
        isinstance(search, ReverseSearch)
        and principal.role not in search_policy.reverse_search_roles
    ):
        if principal.is_public:
            raise Unauthorized("reverse search needs an authenticated caller")
        raise Forbidden("reverse search is not available to this caller")
    runner = _Runner(
        search, principal, repo=repo, policy=policy, ctx=ctx, codec=codec, page_size=page_size
    )
    if isinstance(search, DomainSearch):
        return _domains(runner, search)
    if isinstance(search, NameserverSearch):
        return _nameservers(runner, search)
    if isinstance(search, EntitySearch):
        return _entities(runner, search)
    return _reverse(runner, search)


# --- domains ----------------------------------------------------------------------------------
def _domain_branches(
    search: DomainSearch, after: _After | None = None
) -> list[ColumnElement[bool]]:
    """Alternative conditions whose union is the search; each pages well from one index."""
    if search.by == "name":
        assert search.pattern is not None
        return _name_branches(D.c.ldh_name, D.c.unicode_name, search.pattern, after)
    return [_domain_condition(search)]


def _domain_condition(search: DomainSearch) -> ColumnElement[bool]:
    if search.by == "name":
        assert search.pattern is not None
        return _name_filter(D.c.ldh_name, D.c.unicode_name, search.pattern)
    if search.by == "nsLdhName":
        pattern = search.pattern
        assert pattern is not None
        if pattern.unicode:
            hosts = select(H.c.id).where(_name_filter(H.c.ldh_name, H.c.unicode_name, pattern))
            return D.c.id.in_(select(DN.c.domain_id).where(DN.c.host_id.in_(hosts)))
        by_name = _name_filter(DN.c.ldh_name, DN.c.ldh_name, pattern)
        return D.c.id.in_(select(DN.c.domain_id).where(by_name))
    return D.c.id.in_(
        select(DN.c.domain_id)
        .join(HA, HA.c.host_id == DN.c.host_id)
        .where(HA.c.address == search.ip)
    )


def _domain_sort(options: SearchOptions) -> tuple[Any, bool]:
    sort = options.sort or SortKey("name")
    return DOMAIN_SORT_COLUMNS[sort.property][0], sort.descending


def _domain_ids(
    runner: _Runner,
    branches: list[ColumnElement[bool]],
    options: SearchOptions,
    limit: int,
    last: tuple[Any, int] | None,
) -> list[tuple[int, Any]]:
    """The next `limit` (id, sort value) after `last`: each branch is paged on its own index
    (an OR of ranges would make the database scan from the cursor to the end of the table)
    and the branches are merged in sort order."""
    column, descending = _domain_sort(options)
    found: dict[int, Any] = {}
    for condition in branches:
        statement: Select[Any] = select(D.c.id, column).where(condition)
        if column is D.c.ldh_name:
            if last is not None:
                statement = statement.where(column < last[0] if descending else column > last[0])
            statement = statement.order_by(column.desc() if descending else column.asc())
        else:
            after = _keyset(column, D.c.id, last, descending)
            if after is not None:
                statement = statement.where(after)
            statement = statement.order_by(*_order(column, D.c.id, descending))
        for row in runner.repo.execute(statement.limit(limit)):
            found[row[0]] = row[1]
    if len(branches) == 1:
        return list(found.items())

    def order(item: tuple[int, Any]) -> tuple[bool, Any, int]:
        domain_id, value = item
        return (value is not None, value if value is not None else "", domain_id)

    merged = sorted(found.items(), key=order, reverse=descending)
    return merged[:limit]


def _last_key(runner: _Runner, column: Any) -> tuple[Any, int] | None:
    key = runner.state.get("k")
    if key is None:
        return None
    if not isinstance(key, list) or len(key) != 2 or not isinstance(key[1], int):
        raise QueryError("the cursor is not valid for this search")
    return _decode_value(key[0], column), key[1]


def _count(runner: _Runner, statement: Select[Any]) -> int:
    from sqlalchemy import func

    return int(runner.repo.execute(select(func.count()).select_from(statement.subquery()))[0][0])


def _domain_sorts() -> dict[str, str]:
    return {name: path for name, (_, path) in DOMAIN_SORT_COLUMNS.items()}


def _domains(runner: _Runner, search: DomainSearch) -> SearchPage:
    condition = _domain_condition(search)
    column, descending = _domain_sort(search.options)
    last = _last_key(runner, column)
    after = _After(column, last[0], descending) if last and column is D.c.ldh_name else None
    branches = _domain_branches(search, after)
    rows = _domain_ids(runner, branches, search.options, runner.page_size + 1, last)
    more = len(rows) > runner.page_size
    rows = rows[: runner.page_size]
    # "id" and "brief" answers show nothing built from contacts, name servers or DNSSEC data.
    related = needs_related(search.options.field_set)
    records = runner.repo.domains_by_ids([i for i, _ in rows], related=related)
    results = [runner.domain(r) for r in records]
    total = None
    if search.options.count:
        total = _count(runner, select(D.c.id).where(condition))
    more_key = [_encode_value(rows[-1][1]), rows[-1][0]] if more else None
    return runner.page(
        "domainSearchResults", results, more_key=more_key, total=total, sorts=_domain_sorts()
    )


# --- nameservers ------------------------------------------------------------------------------
def _nameservers(runner: _Runner, search: NameserverSearch) -> SearchPage:
    descending = bool(search.options.sort and search.options.sort.descending)
    last = _last_key(runner, H.c.ldh_name)
    after = _After(H.c.ldh_name, last[0], descending) if last else None
    if search.by == "name":
        assert search.pattern is not None
        condition = _name_filter(H.c.ldh_name, H.c.unicode_name, search.pattern)
        paged = _name_filter(H.c.ldh_name, H.c.unicode_name, search.pattern, after)
    else:
        condition = H.c.id.in_(select(HA.c.host_id).where(HA.c.address == search.ip))
        paged = condition
    statement = select(H.c.id, H.c.ldh_name).where(paged)
    if last is not None:
        statement = statement.where(
            H.c.ldh_name < last[0] if descending else H.c.ldh_name > last[0]
        )
    statement = statement.order_by(H.c.ldh_name.desc() if descending else H.c.ldh_name.asc())
    rows = list(runner.repo.execute(statement.limit(runner.page_size + 1)))
    more = len(rows) > runner.page_size
    rows = rows[: runner.page_size]
    hosts = {h.id: h for h in runner.repo.hosts_by_ids([r[0] for r in rows])}
    registrars: dict[int, Any] = {}
    results = []
    for host_id, _ in rows:
        host = hosts[host_id]
        if host.registrar_id not in registrars:
            registrars[host.registrar_id] = runner.repo.registrar(host.registrar_id)
        full = doc.nameserver_document(host, registrars[host.registrar_id], runner.ctx.links)
        results.append(runner.redact(full))
    total = _count(runner, select(H.c.id).where(condition)) if search.options.count else None
    more_key = [rows[-1][1], rows[-1][0]] if more else None
    return runner.page(
        "nameserverSearchResults",
        results,
        more_key=more_key,
        total=total,
        sorts={"name": "$.nameserverSearchResults[*].ldhName"},
    )


# --- entities ---------------------------------------------------------------------------------
# Entity and reverse searches match on fields policy may hide. Their SQL selects only rows where
# the caller's policy shows the matched field (rdap.visibility), so what they cost does not
# depend on hidden values; results are still redacted like lookups, and a result whose redacted
# document does not show the value is dropped (never, while SQL and engine agree).

REGISTRAR_KIND, CONTACT_KIND = 0, 1
_IANA_DIGITS = 10  # IANA Registrar IDs are integers; lookups take up to nine digits


def _text_condition(column: Any, value: str, partial: bool) -> ColumnElement[bool]:
    return _prefix_range(column, value) if partial else column == value


def _contact_consent(dialect: str) -> Callable[[str], ColumnElement[bool]]:
    """Consent of a contact to publish a field: its search column for the name (indexed with
    fn), the publish_consent list for anything else."""
    return consent_condition(dialect, C.c.publish_consent, {"name": C.c.consent_name})


def entity_facts(dialect: str) -> Facts:
    """The policy facts of a contact answered as an entity: it is its registrar's object, and
    belongs (for grants) to the domains that name it."""

    def in_domains(names: Sequence[str]) -> ColumnElement[bool]:
        as_registrant = select(D.c.registrant_id).where(D.c.ldh_name.in_(names))
        as_contact = (
            select(DC.c.contact_id).join(D, D.c.id == DC.c.domain_id).where(D.c.ldh_name.in_(names))
        )
        return or_(C.c.id.in_(as_registrant), C.c.id.in_(as_contact))

    return Facts(
        person_kind=C.c.person_kind,
        consented=_contact_consent(dialect),
        sponsor_registrar=C.c.registrar_id,
        in_domains=in_domains,
    )


def domain_contact_facts(dialect: str, domain: Any) -> Facts:
    """The policy facts of a contact answered inside `domain`: the domain's registrar sponsors
    it, and grants are for the domain."""
    return Facts(
        person_kind=C.c.person_kind,
        consented=_contact_consent(dialect),
        sponsor_registrar=domain.c.registrar_id,
        in_domains=domain.c.ldh_name.in_,
    )


def _match(prop: str, value: str, partial: bool) -> ColumnElement[bool]:
    """A contact property matching a search value (fn: the name its entity shows)."""
    if prop == "fn":
        return _text_condition(C.c.fn, value, partial)
    if prop == "handle":
        return _text_condition(C.c.handle, value, partial)
    return func.lower(C.c.email) == value


def _contact_matches(
    visibility: Visibility,
    contact_role: str,
    criteria: Sequence[tuple[str, str, bool]],
    facts: Facts,
) -> Select[Any]:
    """Contacts (their handle and id) for which every (property, value, partial) of `criteria`
    matches a value the caller's policy shows in `contact_role`, given the object's `facts`."""
    statement = select(C.c.handle, C.c.id)
    for prop, value, partial in criteria:
        element = f"{contact_role}.{_ELEMENT_FIELD[prop]}"
        statement = statement.where(_match(prop, value, partial), visibility.shown(element, facts))
    return statement


# RDAP search property → the policy field it shows as.
_ELEMENT_FIELD = {"fn": "name", "handle": "handle", "email": "email"}


def _registrar_matches(runner: _Runner, search: EntitySearch) -> list[tuple[str, int]]:
    """Registrars (as their handle, the IANA ID, and id) the search matches, as lookups find
    them: by IANA ID for handle, by name for fn. Registrar data is public; there are few."""
    if search.by == "fn":
        condition = _text_condition(R.c.name, search.value, search.partial)
    elif not search.value.isdigit() or len(search.value) >= _IANA_DIGITS:
        return []
    elif not search.partial:
        condition = R.c.iana_id == int(search.value)
    else:  # "99*": the IANA IDs whose decimal form starts with 99, as integer ranges
        prefix, ranges = int(search.value), []
        for extra in range(_IANA_DIGITS - len(search.value)):
            low = prefix * 10**extra
            ranges.append(and_(R.c.iana_id >= low, R.c.iana_id < low + 10**extra))
        condition = or_(*ranges)
    rows = runner.repo.execute(
        select(R.c.iana_id, R.c.id).where(R.c.iana_id.is_not(None), condition)
    )
    return [(str(iana_id), row_id) for iana_id, row_id in rows]


def _entities(runner: _Runner, search: EntitySearch) -> SearchPage:
    """Registrars and contacts, in handle order (a registrar's handle is its IANA ID)."""
    descending = bool(search.options.sort and search.options.sort.descending)
    # One branch per rule that can show the matched field: each reads one index, leading with
    # the rule's facts, so hidden contacts are never read (see rdap.visibility).
    match = _match(search.by, search.value, search.partial)
    element = f"contact.{_ELEMENT_FIELD[search.by]}"
    branches = [
        select(C.c.handle, C.c.id).where(match, shown)
        for shown in runner.visibility.alternatives(element, entity_facts(runner.repo.dialect))
    ]
    if not branches:
        branches = [select(C.c.handle, C.c.id).where(false())]
    contacts = (union(*branches) if len(branches) > 1 else branches[0]).subquery()
    registrars = _registrar_matches(runner, search)

    def after_cursor(key: str, kind: int, after: list[Any] | None) -> bool:
        if after is None:
            return True
        return (
            (key, kind) < (after[0], after[1]) if descending else (key, kind) > (after[0], after[1])
        )

    def fetch(after: list[Any] | None, limit: int) -> Sequence[Any]:
        statement = select(contacts.c.handle, contacts.c.id)
        if after is not None:
            if len(after) != 2 or not isinstance(after[0], str) or not isinstance(after[1], int):
                raise QueryError("the cursor is not valid for this search")
            key, kind = after
            # Rows beyond (key, kind) in (handle, kind) order: a contact sorts after a registrar
            # of the same handle.
            if descending:
                beyond = contacts.c.handle < key
            elif kind == CONTACT_KIND:
                beyond = contacts.c.handle > key
            else:
                beyond = contacts.c.handle >= key
            statement = statement.where(beyond)
        order = contacts.c.handle.desc() if descending else contacts.c.handle.asc()
        found = [
            (handle, CONTACT_KIND, row_id)
            for handle, row_id in runner.repo.execute(statement.order_by(order).limit(limit))
        ]
        found += [
            (key, REGISTRAR_KIND, row_id)
            for key, row_id in registrars
            if after_cursor(key, REGISTRAR_KIND, after)
        ]
        found.sort(key=lambda row: (row[0], row[1]), reverse=descending)
        return found[:limit]

    def build(rows: Sequence[Any]) -> list[tuple[list[Any], RedactedDocument | None]]:
        out: list[tuple[list[Any], RedactedDocument | None]] = []
        for handle, kind, row_id in rows:
            if kind == REGISTRAR_KIND:
                registrar = runner.repo.registrar(row_id)
                full = doc.registrar_document(registrar, runner.ctx.links) if registrar else None
            else:
                contact = runner.repo.contact(handle)
                full = (
                    doc.entity_document(
                        contact,
                        runner.ctx.links,
                        runner.repo.contact_domains(contact.id),
                        verification=runner.verification(contact.registrar_id),
                    )
                    if contact
                    else None
                )
            visible = None
            if full is not None:
                redacted = runner.redact(full)
                if _shows(redacted, search.by, search.value, search.partial):
                    visible = redacted
            out.append(([handle, kind], visible))
        return out

    results, more_key = _scan(runner, fetch, build)
    return runner.page(
        "entitySearchResults",
        results,
        more_key=more_key,
        total=None,
        sorts={"handle": "$.entitySearchResults[*].handle"},
    )


def _shows(document: RedactedDocument, prop: str, value: str, partial: bool) -> bool:
    """Does the redacted top-level entity show `prop` matching `value`?"""
    return any(_matches(v, value, partial) for v in _entity_values(document.body, prop))


def _matches(candidate: str, value: str, partial: bool) -> bool:
    return candidate.startswith(value) if partial else candidate == value


def _entity_values(entity: Mapping[str, Any], prop: str) -> Iterator[str]:
    """The values of `prop` an entity shows, read through the format-neutral contact reader."""
    if prop == "handle":
        if isinstance(entity.get("handle"), str):
            yield entity["handle"]
        return
    card = read_card(entity)
    value = card.name if prop == "fn" else card.email if prop == "email" else None
    if value:
        yield value.lower() if prop == "email" else value


def _scan(
    runner: _Runner,
    fetch: Callable[[list[Any] | None, int], Sequence[Any]],
    build: Callable[[Sequence[Any]], list[tuple[list[Any], RedactedDocument | None]]],
) -> tuple[list[RedactedDocument], list[Any] | None]:
    """Walk candidates in key order and keep those whose redacted document shows the match.

    The SQL selects only candidates the caller may see, so normally every one is kept; the
    check stays as a second line. The scan is bounded all the same, and the next cursor is set
    only when one more kept result exists, pointing at a kept result, so neither links nor
    cursors could reveal a dropped candidate.
    """
    key = runner.state.get("k")
    if key is not None and not isinstance(key, list):
        raise QueryError("the cursor is not valid for this search")
    budget = runner.page_size * SCAN_LIMIT_FACTOR
    found: list[tuple[list[Any], RedactedDocument]] = []
    batch = runner.page_size + 1
    while budget > 0 and len(found) <= runner.page_size:
        want = min(batch, budget)
        rows = fetch(key, want)
        budget -= len(rows)
        for row_key, visible in build(rows):
            key = row_key
            if visible is not None:
                found.append((row_key, visible))
                if len(found) > runner.page_size:
                    break
        if len(rows) < want:
            break
    more_key = found[runner.page_size - 1][0] if len(found) > runner.page_size else None
    return [d for _, d in found[: runner.page_size]], more_key


# --- reverse search (RFC 9536) ------------------------------------------------------------------
_EPP_TYPE = {"administrative": "admin", "technical": "tech", "billing": "billing"}


def _reverse(runner: _Runner, search: ReverseSearch) -> SearchPage:
    criteria = [
        (prop, value, partial)
        for prop, value, partial in (
            ("fn", search.fn, search.fn_partial),
            ("handle", search.handle, False),
            ("email", search.email, False),
        )
        if value is not None
    ]
    # Domains whose contact in a role matches every criterion with values the caller may see
    # there; a contact's data in a domain answer is the domain registrar's to see (sponsor).
    # Each role's matches start from the contacts that match (by index: fn, handle, lower(email))
    # and join their domains; the alias keeps the subqueries uncorrelated.
    inner = D.alias("matched_domain")
    facts = domain_contact_facts(runner.repo.dialect, inner)
    related: list[ColumnElement[bool]] = []
    if search.role in (None, "registrant"):
        registrants = _contact_matches(runner.visibility, "registrant", criteria, facts)
        matched = registrants.join(inner, inner.c.registrant_id == C.c.id)
        related.append(D.c.id.in_(matched.with_only_columns(inner.c.id)))
    for role, epp_type in _EPP_TYPE.items():
        if search.role not in (None, role):
            continue
        contacts = _contact_matches(runner.visibility, role, criteria, facts)
        linked = contacts.join(DC, and_(DC.c.contact_id == C.c.id, DC.c.type == epp_type)).join(
            inner, inner.c.id == DC.c.domain_id
        )
        related.append(D.c.id.in_(linked.with_only_columns(inner.c.id)))
    condition = or_(*related)
    column, _ = _domain_sort(search.options)

    def fetch(after: list[Any] | None, limit: int) -> Sequence[Any]:
        last = None
        if after is not None:
            if len(after) != 2 or not isinstance(after[1], int):
                raise QueryError("the cursor is not valid for this search")
            last = (_decode_value(after[0], column), after[1])
        return _domain_ids(runner, [condition], search.options, limit, last)

    def build(rows: Sequence[Any]) -> list[tuple[list[Any], RedactedDocument | None]]:
        records = runner.repo.domains_by_ids([i for i, _ in rows])
        by_id = {r.id: r for r in records}
        out: list[tuple[list[Any], RedactedDocument | None]] = []
        for domain_id, sort_value in rows:
            record = by_id.get(domain_id)
            visible = None
            if record is not None:
                redacted = runner.domain(record)
                if _reverse_visible(redacted, search):
                    visible = redacted
            out.append(([_encode_value(sort_value), domain_id], visible))
        return out

    results, more_key = _scan(runner, fetch, build)
    return runner.page(
        "domainSearchResults",
        results,
        more_key=more_key,
        total=None,
        sorts=_domain_sorts(),
        reverse=True,
    )


def _reverse_visible(document: RedactedDocument, search: ReverseSearch) -> bool:
    for entity in document.body.get("entities", []):
        roles = entity.get("roles") or []
        if "registrar" in roles or (search.role is not None and search.role not in roles):
            continue
        checks = [
            (prop, value, partial)
            for prop, value, partial in (
                ("fn", search.fn, search.fn_partial),
                ("handle", search.handle, False),
                ("email", search.email, False),
            )
            if value is not None
        ]
        if all(
            any(_matches(v, value, partial) for v in _entity_values(entity, prop))
            for prop, value, partial in checks
        ):
            return True
    return False


REVERSE_SEARCH_PROPERTIES = [
    {
        "searchableResource": "domains",
        "relatedResource": "entity",
        "property": "fn",
        "propertyPath": "$.entities[*].vcardArray[1][?(@[0]=='fn')][3]",
    },
    {
        "searchableResource": "domains",
        "relatedResource": "entity",
        "property": "handle",
        "propertyPath": "$.entities[*].handle",
    },
    {
        "searchableResource": "domains",
        "relatedResource": "entity",
        "property": "email",
        "propertyPath": "$.entities[*].vcardArray[1][?(@[0]=='email')][3]",
    },
    {
        "searchableResource": "domains",
        "relatedResource": "entity",
        "property": "role",
        "propertyPath": "$.entities[*].roles",
    },
]
