"""Accuracy report: a registrar's own domains with accuracy findings, in keyset-paged order."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from rdap.accuracy import ContactCheck, check_domain, verification_due, verified
from rdap.document import rdap_time
from rdap.errors import QueryError
from rdap.models import Domain
from rdap.paging import CursorCodec
from rdap.principal import Principal, require_registrar
from rdap.records import DomainRecord
from rdap.repository import FactsCache, Repository

CURSOR_PURPOSE = "accuracy-report"
# Domains loaded per round trip, and examined per request at most: a page may come back short
# (with a cursor to continue) when a registrar has long runs of domains without findings.
BATCH = 100
SCAN_LIMIT = 2000


@dataclasses.dataclass(frozen=True)
class ReportItem:
    domain: DomainRecord
    checks: tuple[ContactCheck, ...]


@dataclasses.dataclass(frozen=True)
class ReportPage:
    items: tuple[ReportItem, ...]
    next_cursor: str | None


def _domains_after(registrar_id: int, after: str, limit: int) -> Any:
    return (
        select(Domain.id, Domain.ldh_name)
        .where(Domain.registrar_id == registrar_id, Domain.ldh_name > after)
        .order_by(Domain.ldh_name)
        .limit(limit)
    )


def accuracy_report(
    connection: Connection,
    principal: Principal,
    *,
    now: dt.datetime,
    count: int,
    cursor: str | None,
    codec: CursorCodec,
    facts: FactsCache | None = None,
) -> ReportPage:
    """One page of the caller's own domains that have findings, ordered by ldh name."""
    registrar_id = require_registrar(principal)
    scope = f"registrar:{registrar_id}"
    after = ""
    if cursor is not None:
        position = codec.decode(cursor, scope)
        after = position.get("after", "")
        if not isinstance(after, str):
            raise QueryError("the cursor is not valid")
    repo = Repository(connection, facts)
    items: list[ReportItem] = []
    scanned = 0
    while len(items) < count and scanned < SCAN_LIMIT:
        rows = connection.execute(
            _domains_after(registrar_id, after, min(BATCH, SCAN_LIMIT - scanned))
        ).all()
        if not rows:
            return ReportPage(tuple(items), None)
        records = {r.id: r for r in repo.domains_by_ids([row.id for row in rows])}
        for row in rows:
            scanned += 1
            after = row.ldh_name
            record = records.get(row.id)
            if record is None:
                continue  # deleted since the first query
            checks = check_domain(record, now=now)
            if any(c.findings for c in checks):
                items.append(ReportItem(record, checks))
                if len(items) == count:
                    break
    more = connection.execute(_domains_after(registrar_id, after, 1)).first() is not None
    return ReportPage(tuple(items), codec.encode(scope, {"after": after}) if more else None)


def _contact_json(check: ContactCheck) -> dict[str, Any]:
    contact = check.contact
    out: dict[str, Any] = {
        "role": check.role,
        "handle": contact.handle,
        "verificationStatus": contact.verification_status,
    }
    if contact.verified_at is not None:
        out["verifiedAt"] = rdap_time(contact.verified_at)
    due = verification_due(contact)
    if not verified(contact) and due is not None:
        out["verificationDueBy"] = rdap_time(due)
    out["findings"] = [
        {"field": f.field, "code": f.code, "message": f.message} for f in check.findings
    ]
    return out


def report_json(page: ReportPage, *, next_href: str | None) -> dict[str, Any]:
    """The JSON body of a report page; `next_href` is the URL of the next page, if any."""
    domains = []
    for item in page.items:
        entry: dict[str, Any] = {"ldhName": item.domain.ldh_name}
        if item.domain.unicode_name:
            entry["unicodeName"] = item.domain.unicode_name
        entry["contacts"] = [_contact_json(c) for c in item.checks]
        domains.append(entry)
    out: dict[str, Any] = {"domains": domains, "count": len(domains)}
    if page.next_cursor is not None:
        out["cursor"] = page.next_cursor
        if next_href is not None:
            out["links"] = [{"rel": "next", "href": next_href, "type": "application/json"}]
    return out
