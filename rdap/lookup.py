"""Lookup: the one pipeline (query → repository → document → redaction) every channel calls."""

from __future__ import annotations

import dataclasses
import datetime as dt

from rdap import document as doc
from rdap.errors import NotFound
from rdap.principal import Principal
from rdap.query import DomainLookup, EntityLookup, HelpQuery, NameserverLookup, Query
from rdap.redaction import Policy, RedactedDocument, redact
from rdap.repository import Repository


@dataclasses.dataclass(frozen=True)
class LookupContext:
    """Per-request facts the pipeline needs: where links point, and the time."""

    base_url: str
    request_url: str
    now: dt.datetime
    contact_uri_template: str = ""
    help_description: tuple[str, ...] = ()

    @property
    def links(self) -> doc.Links:
        return doc.Links(base_url=self.base_url, request_url=self.request_url)


def full_document(
    query: Query, repo: Repository, ctx: LookupContext, *, verification: bool = True
) -> doc.FullDocument:
    """Fetch and build the complete object for a query; NotFound if there is none.

    `verification=False` leaves out the contacts' verification remarks, for callers whose
    policy always redacts them (see Policy.may_show)."""
    links = ctx.links
    if isinstance(query, HelpQuery):
        return doc.help_document(ctx.help_description)
    if isinstance(query, DomainLookup):
        domain = repo.domain(query.name.ldh)
        if domain is None:
            raise NotFound(f"no domain {query.name.ldh} in this registry")
        built = doc.domain_document(domain, links, verification=verification)
    elif isinstance(query, NameserverLookup):
        host = repo.nameserver(query.name.ldh)
        if host is None:
            raise NotFound(f"no nameserver {query.name.ldh} in this registry")
        built = doc.nameserver_document(host, repo.registrar(host.registrar_id), links)
    elif isinstance(query, EntityLookup):
        built = _entity(query.handle, repo, links, verification)
    else:  # pragma: no cover - Query is a closed union
        raise TypeError(f"unsupported query {query!r}")
    return doc.stamp_database_update(built, repo.database_updated_at())


def _entity(
    handle: str, repo: Repository, links: doc.Links, verification: bool
) -> doc.FullDocument:
    contact = repo.contact(handle)
    if contact is not None:
        domains = repo.contact_domains(contact.id)
        return doc.entity_document(contact, links, domains, verification=verification)
    if handle.isdigit() and len(handle) < 10:
        registrar = repo.registrar_by_iana_id(int(handle))
        if registrar is not None:
            return doc.registrar_document(registrar, links)
    raise NotFound(f"no entity {handle} in this registry")


def lookup(
    query: Query,
    principal: Principal,
    *,
    repo: Repository,
    policy: Policy,
    ctx: LookupContext,
) -> RedactedDocument:
    """Answer one query for one principal. The result is the only thing renderers accept."""
    full = full_document(
        query, repo, ctx, verification=policy.may_show(principal.role, "verification")
    )
    return redact_for(full, principal, policy, ctx)


def redact_for(
    full: doc.FullDocument, principal: Principal, policy: Policy, ctx: LookupContext
) -> RedactedDocument:
    """Redact a full document for a caller: lookups and every search result go through here."""
    contact_uri = None
    if ctx.contact_uri_template and full.subject.object_class == "domain":
        # Contacts in domain answers get the operator's form, naming the domain and role only.
        contact_uri = ctx.contact_uri_template.replace("{base_url}", ctx.base_url).replace(
            "{domain}", full.subject.key
        )
    return redact(full, principal, policy, now=ctx.now, contact_uri=contact_uri)
