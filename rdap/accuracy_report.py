"""Accuracy report: a registrar's own domains with accuracy findings, in keyset-paged order.

What it shows of each contact is decided by the policy files, as in RDAP answers: the
verification status, dates and findings by the contact's `<role>.verification` element, the
handle by `<role>.handle`. A domain is listed only for findings the caller may see; what a
listed domain's contacts leave out is declared in `redacted` (RFC 9537 objects).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from rdap.accuracy import ContactCheck, check_domain, verification_due, verified
from rdap.document import rdap_time
from rdap.errors import QueryError
from rdap.models import Domain
from rdap.paging import CursorCodec
from rdap.principal import Principal, require_registrar
from rdap.records import DomainRecord
from rdap.redaction import Decision, Policy, contact_decisions, removal_declaration
from rdap.repository import FactsCache, Repository

CURSOR_PURPOSE = "accuracy-report"
# Domains loaded per round trip, and examined per request at most: a page may come back short
# (with a cursor to continue) when a registrar has long runs of domains without findings.
BATCH = 100
SCAN_LIMIT = 2000


# What `<role>.verification` governs in a report contact; each is declared when hidden, whether
# or not the contact has a value for it (no oracle).
VERIFICATION_MEMBERS = ("verificationStatus", "verifiedAt", "verificationDueBy", "findings")


@dataclasses.dataclass(frozen=True)
class ReportContact:
    """One contact's checks, with the policy decisions for it (element id → decision)."""

    check: ContactCheck
    decisions: Mapping[str, Decision]

    def shows(self, field: str) -> bool:
        return self.decisions[f"{self.check.role}.{field}"].shown


@dataclasses.dataclass(frozen=True)
class ReportItem:
    domain: DomainRecord
    contacts: tuple[ReportContact, ...]


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
    policy: Policy,
    now: dt.datetime,
    count: int,
    cursor: str | None,
    codec: CursorCodec,
    facts: FactsCache | None = None,
) -> ReportPage:
    """One page of the caller's own domains that have findings it may see, by ldh name."""
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
            if not any(c.findings for c in checks):
                continue
            contacts = tuple(
                ReportContact(check, _decisions(policy, principal, record, check, now))
                for check in checks
            )
            if any(c.check.findings and c.shows("verification") for c in contacts):
                items.append(ReportItem(record, contacts))
                if len(items) == count:
                    break
    more = connection.execute(_domains_after(registrar_id, after, 1)).first() is not None
    return ReportPage(tuple(items), codec.encode(scope, {"after": after}) if more else None)


def _decisions(
    policy: Policy,
    principal: Principal,
    record: DomainRecord,
    check: ContactCheck,
    now: dt.datetime,
) -> Mapping[str, Decision]:
    return contact_decisions(
        policy,
        principal,
        check.role,
        registrar_id=record.registrar.id,
        person_kind=check.contact.person_kind,
        consent=check.contact.publish_consent,
        domain=record.ldh_name,
        now=now,
    )


def _contact_json(
    item: ReportContact, path: str, policy: Policy
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One contact of a listed domain, and the declarations of what it leaves out (their
    paths below `path`, the contact's JSONPath in the report)."""
    check, contact = item.check, item.check.contact
    out: dict[str, Any] = {"role": check.role}
    declared: list[dict[str, Any]] = []
    if item.shows("handle"):
        out["handle"] = contact.handle
    else:
        declared.append(
            removal_declaration(policy.elements[f"{check.role}.handle"], f"{path}.handle")
        )
    if not item.shows("verification"):
        element = policy.elements[f"{check.role}.verification"]
        declared += [removal_declaration(element, f"{path}.{m}") for m in VERIFICATION_MEMBERS]
        return out, declared
    out["verificationStatus"] = contact.verification_status
    if contact.verified_at is not None:
        out["verifiedAt"] = rdap_time(contact.verified_at)
    due = verification_due(contact)
    if not verified(contact) and due is not None:
        out["verificationDueBy"] = rdap_time(due)
    out["findings"] = [
        {"field": f.field, "code": f.code, "message": f.message} for f in check.findings
    ]
    return out, declared


def report_json(page: ReportPage, *, policy: Policy, next_href: str | None) -> dict[str, Any]:
    """The JSON body of a report page; `next_href` is the URL of the next page, if any."""
    domains = []
    declared: list[dict[str, Any]] = []
    for i, item in enumerate(page.items):
        entry: dict[str, Any] = {"ldhName": item.domain.ldh_name}
        if item.domain.unicode_name:
            entry["unicodeName"] = item.domain.unicode_name
        entry["contacts"] = []
        for j, contact in enumerate(item.contacts):
            shown, hidden = _contact_json(contact, f"$.domains[{i}].contacts[{j}]", policy)
            entry["contacts"].append(shown)
            declared += hidden
        domains.append(entry)
    out: dict[str, Any] = {"domains": domains, "count": len(domains)}
    if page.next_cursor is not None:
        out["cursor"] = page.next_cursor
        if next_href is not None:
            out["links"] = [{"rel": "next", "href": next_href, "type": "application/json"}]
    if declared:
        out["redacted"] = declared
    return out
