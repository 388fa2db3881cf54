"""Search: keyset-paged searches whose every result is a full document redacted for the caller.

A search can never show more than a lookup of the same object: results are built by the same
document builder and redacted by the same engine. Where a search matches on a field policy may
hide (entity fn/handle, reverse search), a candidate is kept only if the *redacted* document
still shows the matching value, so nobody can confirm a hidden value by searching for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeGuard

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, union

from rdap import document as doc
from rdap import models
from rdap.errors import Forbidden, QueryError, Unauthorized
from rdap.lookup import LookupContext, redact_for, verification_for
from rdap.paging import CursorCodec
from rdap.principal import Principal
from rdap.query import (
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
from rdap.repository import DC, DN, HA, C, D, H, P, R, Repository

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


# --- entities (filtered after redaction) ------------------------------------------------------
def _text_condition(column: Any, value: str, partial: bool) -> ColumnElement[bool]:
    return _prefix_range(column, value) if partial else column == value


def _entity_candidates(search: EntitySearch) -> Select[Any]:
    """(kind, sort key, id) of registrars (kind 0) and contacts (kind 1) that may match."""
    from sqlalchemy import String as SqlString
    from sqlalchemy import cast, literal

    if search.by == "fn":
        registrars = select(
            literal(0).label("kind"), cast(R.c.iana_id, SqlString).label("key"), R.c.id.label("id")
        ).where(R.c.iana_id.is_not(None), _text_condition(R.c.name, search.value, search.partial))
        contacts = select(
            literal(1).label("kind"), C.c.handle.label("key"), C.c.id.label("id")
        ).where(
            C.c.id.in_(
                select(P.c.contact_id).where(
                    _text_condition(P.c.name, search.value, search.partial)
                )
            )
        )
    else:
        registrar_match: ColumnElement[bool] = false()
        if search.value.isdigit() and len(search.value) < 10 and not search.partial:
            registrar_match = R.c.iana_id == int(search.value)
        registrars = select(
            literal(0).label("kind"), cast(R.c.iana_id, SqlString).label("key"), R.c.id.label("id")
        ).where(registrar_match)
        contacts = select(
            literal(1).label("kind"), C.c.handle.label("key"), C.c.id.label("id")
        ).where(_text_condition(C.c.handle, search.value, search.partial))
    return union(registrars, contacts).subquery().select()


def _shows(document: RedactedDocument, prop: str, value: str, partial: bool) -> bool:
    """Does the redacted top-level entity show `prop` matching `value`?"""
    return any(_matches(v, value, partial) for v in _entity_values(document.body, prop))


def _matches(candidate: str, value: str, partial: bool) -> bool:
    return candidate.startswith(value) if partial else candidate == value


def _array(value: Any) -> TypeGuard[Sequence[Any]]:
    """A JSON array of a redacted body: a read-only Sequence, not a list."""
    return isinstance(value, Sequence) and not isinstance(value, str)


def _entity_values(entity: Mapping[str, Any], prop: str) -> Iterator[str]:
    if prop == "handle":
        if isinstance(entity.get("handle"), str):
            yield entity["handle"]
        return
    card = entity.get("vcardArray")
    if not _array(card) or len(card) < 2:
        return
    for item in card[1]:
        if _array(item) and len(item) >= 4 and item[0] == prop and isinstance(item[3], str):
            yield item[3].lower() if prop == "email" else item[3]


def _scan(
    runner: _Runner,
    fetch: Callable[[list[Any] | None, int], Sequence[Any]],
    build: Callable[[Sequence[Any]], list[tuple[list[Any], RedactedDocument | None]]],
) -> tuple[list[RedactedDocument], list[Any] | None]:
    """Walk candidates in key order and keep the visible ones, within a bounded scan.

    The next cursor is set only when one more *visible* result exists, and it always points
    at a visible result, so neither links nor cursors reveal hidden candidates.
    """
    key = runner.state.get("k")
    if key is not None and not isinstance(key, list):
        raise QueryError("the cursor is not valid for this search")
    budget = runner.page_size * SCAN_LIMIT_FACTOR
    found: list[tuple[list[Any], RedactedDocument]] = []
    batch = max(runner.page_size * 2, 20)
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


def _entities(runner: _Runner, search: EntitySearch) -> SearchPage:
    candidates = _entity_candidates(search).subquery()
    descending = bool(search.options.sort and search.options.sort.descending)

    def fetch(after: list[Any] | None, limit: int) -> Sequence[Any]:
        statement = select(candidates.c.kind, candidates.c.key, candidates.c.id)
        if after is not None:
            if len(after) != 2 or not isinstance(after[0], int) or not isinstance(after[1], str):
                raise QueryError("the cursor is not valid for this search")
            kind, handle = after
            if descending:
                statement = statement.where(
                    or_(
                        candidates.c.kind < kind,
                        and_(candidates.c.kind == kind, candidates.c.key < handle),
                    )
                )
            else:
                statement = statement.where(
                    or_(
                        candidates.c.kind > kind,
                        and_(candidates.c.kind == kind, candidates.c.key > handle),
                    )
                )
        order = [candidates.c.kind, candidates.c.key]
        statement = statement.order_by(*[c.desc() if descending else c.asc() for c in order])
        return runner.repo.execute(statement.limit(limit))

    def build(rows: Sequence[Any]) -> list[tuple[list[Any], RedactedDocument | None]]:
        out: list[tuple[list[Any], RedactedDocument | None]] = []
        for kind, handle, row_id in rows:
            if kind == 0:
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
            out.append(([kind, handle], visible))
        return out

    results, more_key = _scan(runner, fetch, build)
    return runner.page(
        "entitySearchResults",
        results,
        more_key=more_key,
        total=None,
        sorts={"handle": "$.entitySearchResults[*].handle"},
    )


# --- reverse search (RFC 9536), filtered after redaction --------------------------------------
def _reverse(runner: _Runner, search: ReverseSearch) -> SearchPage:
    conditions: list[ColumnElement[bool]] = []
    if search.fn is not None:
        conditions.append(
            C.c.id.in_(
                select(P.c.contact_id).where(
                    _text_condition(P.c.name, search.fn, search.fn_partial)
                )
            )
        )
    if search.handle is not None:
        conditions.append(C.c.handle == search.handle)
    if search.email is not None:
        from sqlalchemy import func

        conditions.append(func.lower(C.c.email) == search.email)
    contacts = select(C.c.id).where(*conditions)
    epp_type = {"administrative": "admin", "technical": "tech", "billing": "billing"}
    related: list[ColumnElement[bool]] = []
    if search.role in (None, "registrant"):
        related.append(D.c.registrant_id.in_(contacts))
    if search.role != "registrant":
        links = select(DC.c.domain_id).where(DC.c.contact_id.in_(contacts))
        if search.role is not None:
            links = links.where(DC.c.type == epp_type[search.role])
        related.append(D.c.id.in_(links))
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
