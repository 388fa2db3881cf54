"""Lookup: the one pipeline (query → repository → document → redaction) every channel calls."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Protocol

from rdap import document as doc
from rdap.errors import NotFound
from rdap.principal import Grant, Principal
from rdap.query import (
    DomainLookup,
    EntityLookup,
    HelpQuery,
    NameserverLookup,
    Query,
    RegistrarLookup,
)
from rdap.redaction import Policy, RedactedDocument, redact
from rdap.repository import Repository

# Whether the document of an object sponsored by this registrar (id) carries the contacts'
# verification remarks for the caller at hand.
Verification = Callable[[int | None], bool]


def _always(_registrar_id: int | None) -> bool:
    return True


def _never(_registrar_id: int | None) -> bool:
    return False


def verification_for(policy: Policy, principal: Principal) -> Verification:
    """Build verification remarks only where the caller's policy can show them: for a role that
    sees them only on its own domains, a registrar skips that work on everyone else's (the
    remarks would be removed and declared either way)."""
    if policy.may_show(principal.role, "verification", sponsor=False):
        return _always
    if not policy.may_show(principal.role, "verification", sponsor=True):
        return _never
    return principal.sponsors


@dataclasses.dataclass(frozen=True)
class LookupContext:
    """What one answer needs from the channel that asks: the time, and the channel's links.

    The channel builds `links` (where self links point, and the `value` every link carries): an
    HTTP request has a base URL and its own URL, port 43 only the service's public base URL.
    One Links object per answer: documents of one answer share parts keyed by it."""

    now: dt.datetime
    links: doc.Links
    # The operator's contact form for redacted contacts ({base_url}, {domain}, {role}); empty:
    # none is offered.
    contact_uri_template: str = ""
    help_description: tuple[str, ...] = ()


class Disclosure(Protocol):
    """What the pipeline needs of the disclosure workflow (rdap.disclosure.access)."""

    def grants(
        self, principal: Principal, domain: str, roid: str, now: dt.datetime
    ) -> tuple[Grant, ...]:
        """The caller's grants in force for this domain and the purpose its query states."""
        ...

    def disclosed(
        self, document: RedactedDocument, principal: Principal, ctx: LookupContext
    ) -> RedactedDocument:
        """Record an answer that disclosed (before it is sent) and say so in a notice."""
        ...


def full_document(
    query: Query, repo: Repository, ctx: LookupContext, *, verification: Verification = _always
) -> doc.FullDocument:
    """Fetch and build the complete object for a query; NotFound if there is none.

    `verification` leaves out the contacts' verification remarks where the caller's policy
    would redact them anyway (see verification_for)."""
    links = ctx.links
    if isinstance(query, HelpQuery):
        return doc.help_document(ctx.help_description)
    if isinstance(query, DomainLookup):
        domain = repo.domain(query.name.ldh)
        if domain is None:
            raise NotFound(f"no domain {query.name.ldh} in this registry")
        built = doc.domain_document(domain, links, verification=verification(domain.registrar.id))
    elif isinstance(query, NameserverLookup):
        host = repo.nameserver(query.name.ldh)
        if host is None:
            raise NotFound(f"no nameserver {query.name.ldh} in this registry")
        built = doc.nameserver_document(host, repo.registrar(host.registrar_id), links)
    elif isinstance(query, EntityLookup):
        built = _entity(query.handle, repo, links, verification)
    elif isinstance(query, RegistrarLookup):
        registrar = (
            repo.registrar_by_iana_id(query.iana_id)
            if query.iana_id is not None
            else repo.registrar_by_name(query.name or "")
        )
        if registrar is None:
            raise NotFound("no such registrar in this registry")
        built = doc.registrar_document(registrar, links)
    else:  # pragma: no cover - Query is a closed union
        raise TypeError(f"unsupported query {query!r}")
    return doc.stamp_database_update(built, repo.database_updated_at())


def _entity(
    handle: str, repo: Repository, links: doc.Links, verification: Verification
) -> doc.FullDocument:
    contact = repo.contact(handle)
    if contact is not None:
        domains = repo.contact_domains(contact.id)
        return doc.entity_document(
            contact, links, domains, verification=verification(contact.registrar_id)
        )
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
    disclosure: Disclosure | None = None,
) -> RedactedDocument:
    """Answer one query for one principal. The result is the only thing renderers accept.

    Disclosure grants are looked up here, once the domain is known, and only for a domain
    lookup: a search, an entity or a name server lookup never discloses by grant."""
    full = full_document(query, repo, ctx, verification=verification_for(policy, principal))
    if disclosure is not None and isinstance(query, DomainLookup):
        roid = str(full.body.get("handle", ""))
        grants = disclosure.grants(principal, full.subject.key, roid, ctx.now)
        if grants:
            principal = dataclasses.replace(principal, grants=grants)
    document = redact_for(full, principal, policy, ctx)
    if disclosure is not None and document.disclosed:
        document = disclosure.disclosed(document, principal, ctx)
    return document


def redact_for(
    full: doc.FullDocument, principal: Principal, policy: Policy, ctx: LookupContext
) -> RedactedDocument:
    """Redact a full document for a caller: lookups and every search result go through here."""
    contact_uri = None
    if ctx.contact_uri_template and full.subject.object_class == "domain":
        # Contacts in domain answers get the operator's form, naming the domain and role only.
        contact_uri = ctx.contact_uri_template.replace("{base_url}", ctx.links.base_url).replace(
            "{domain}", full.subject.key
        )
    return redact(full, principal, policy, now=ctx.now, contact_uri=contact_uri)
