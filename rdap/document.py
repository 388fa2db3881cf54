"""Document: model rows → the full RDAP object (RFC 9083), nothing hidden yet, plus the facts
that redaction policies decide on (person kind, consent, sponsor) — facts no renderer sees."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rdap import accuracy, cards
from rdap.cards import CardValues
from rdap.records import (
    ContactRecord,
    DelegationRecord,
    DomainRecord,
    HostRecord,
    RegistrarRecord,
)

# RDAP entity roles used for contacts (RFC 9083 §10.2.4) and the EPP contact types they map from.
CONTACT_ROLES = {"admin": "administrative", "tech": "technical", "billing": "billing"}


@dataclasses.dataclass(frozen=True)
class EntityFacts:
    """Where a contact entity sits in the document, and the facts policy conditions read.

    `path` is the JSONPath of the entity object: "$" for a top-level entity lookup, otherwise
    "$.entities[?(@.roles[0]=='registrant')]" and so on. Every contact entity in a document has
    exactly one role, so that path is unique (one entity per contact and role).
    `role` is "registrant", "administrative", "technical", "billing", or "contact" for a
    top-level entity lookup.
    """

    path: str
    role: str
    handle: str
    person_kind: str  # "natural" or "legal"
    publish_consent: frozenset[str]  # field names consented to publish: "name", "email", ...
    registrar_id: int  # registrar sponsoring the contact object


@dataclasses.dataclass(frozen=True)
class Subject:
    """What the document is about, for scope conditions (sponsoring registrar, grants)."""

    object_class: str  # "domain", "nameserver", "entity", "help", "search"
    key: str  # ldh name or handle
    registrar_id: int | None  # sponsoring registrar of the object
    # Domains this object belongs to (for grant scope): the domain itself for a domain lookup.
    domains: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class FullDocument:
    """The complete object. `body` is an RDAP object class member (no rdapConformance, no
    top-level notices: the renderer adds those). Only rdap.redaction turns it into something a
    renderer accepts."""

    body: dict[str, Any]
    subject: Subject
    entities: tuple[EntityFacts, ...] = ()
    contact_format: str = cards.JCARD  # the format of its cards (rdap.cards), as built


# --- building ---------------------------------------------------------------------------------
# RFC 8056 §2: EPP status values → RDAP status values (IANA "RDAP JSON Values", type status).
EPP_TO_RDAP_STATUS = {
    "ok": "active",
    "inactive": "inactive",
    "linked": "associated",
    "addPeriod": "add period",
    "autoRenewPeriod": "auto renew period",
    "renewPeriod": "renew period",
    "transferPeriod": "transfer period",
    "redemptionPeriod": "redemption period",
    "pendingCreate": "pending create",
    "pendingDelete": "pending delete",
    "pendingRenew": "pending renew",
    "pendingRestore": "pending restore",
    "pendingTransfer": "pending transfer",
    "pendingUpdate": "pending update",
    "clientDeleteProhibited": "client delete prohibited",
    "clientHold": "client hold",
    "clientRenewProhibited": "client renew prohibited",
    "clientTransferProhibited": "client transfer prohibited",
    "clientUpdateProhibited": "client update prohibited",
    "serverDeleteProhibited": "server delete prohibited",
    "serverHold": "server hold",
    "serverRenewProhibited": "server renew prohibited",
    "serverTransferProhibited": "server transfer prohibited",
    "serverUpdateProhibited": "server update prohibited",
}

VERIFICATION_REMARK = "Contact verification"
ELIGIBILITY_REMARK = "Community eligibility"


def rdap_statuses(epp: Iterable[str]) -> list[str]:
    """Map EPP statuses to RDAP values, keeping order and dropping duplicates and unknowns."""
    seen: dict[str, None] = {}
    for value in epp:
        mapped = EPP_TO_RDAP_STATUS.get(value)
        if mapped is not None:
            seen.setdefault(mapped, None)
    return list(seen) or ["active"]


def rdap_time(value: dt.datetime) -> str:
    """RFC 3339 in UTC with a Z, to the second (isoformat is several times faster than strftime,
    and trimming its "+00:00" faster than replace())."""
    utc = value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)
    return utc.isoformat(timespec="seconds")[:-6] + "Z"


def _events(*pairs: tuple[str, dt.datetime | None]) -> list[dict[str, Any]]:
    return [{"eventAction": action, "eventDate": rdap_time(when)} for action, when in pairs if when]


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: a key of SharedParts
class Links:
    """Builds link objects; every link's `value` is the URL of the request being answered.

    Also carries the contact format the channel asked for (rdap.cards): the builder writes every
    card of the answer in it. (One Links object per answer: SharedParts keys parts by it.)"""

    base_url: str
    request_url: str
    contact_format: str = cards.JCARD

    def self_link(self, path: str) -> dict[str, str]:
        return {
            "value": self.request_url,
            "rel": "self",
            "href": f"{self.base_url}/{path}",
            "type": "application/rdap+json",
        }

    def link(self, rel: str, href: str, media_type: str = "text/html") -> dict[str, str]:
        return {"value": self.request_url, "rel": rel, "href": href, "type": media_type}


@functools.lru_cache(maxsize=1024)
def _card(contact_format: str, values: CardValues) -> Any:
    """A registrar's or abuse desk's card, written once per process for the same values: the
    few registrars of a registry recur in nearly every answer. Shared across answers (and
    requests) like every part of a built document: read-only, and never reached by redaction,
    which changes contact entities only (EntityFacts), after copying what it changes."""
    return cards.write(contact_format, values)


def _verification_remark(contact: ContactRecord, now: dt.datetime | None = None) -> dict[str, Any]:
    """Verification detail and accuracy findings (WAPS); policy shows it to sponsor and staff."""
    lines = [f"Verification status: {contact.verification_status}"]
    if contact.verified_at:
        lines.append(f"Verified on: {rdap_time(contact.verified_at)}")
    if contact.verification_method:
        lines.append(f"Verification method: {contact.verification_method}")
    lines.append(f"Person kind: {contact.person_kind}")
    if contact.community_id:
        lines.append(f"Community ID: {contact.community_id}")
    if contact.registrant_group:
        lines.append(f"Registrant group: {contact.registrant_group}")
    checked_at = now or dt.datetime.now(dt.UTC)
    if not accuracy.verified(contact):
        due = accuracy.verification_due(contact)
        if due is not None:
            lines.append(f"{DUE_BY}{rdap_time(due)}")
    lines.extend(
        f"Accuracy finding: {finding.line()}"
        for finding in accuracy.check_contact(contact, now=checked_at)
    )
    return {"title": VERIFICATION_REMARK, "description": lines}


DUE_BY = "Verification due by: "
_SECOND = dt.timedelta(seconds=1)


def next_change(body: Mapping[str, Any], now: dt.datetime) -> dt.datetime | None:
    """When an answer showing `body` would read differently although no data changed: the
    earliest verification due date still ahead among its contacts' verification remarks (after
    it, the contact's "verification_stale" finding appears). None: never.

    Due dates are shown to the second; within the second after one, the exact moment is not
    known, so the answer changes "now" (it is not worth keeping)."""
    soonest: dt.datetime | None = None
    for entity in (body, *body.get("entities", ())):
        for remark in entity.get("remarks", ()):
            if remark.get("title") != VERIFICATION_REMARK:
                continue
            for line in remark.get("description", ()):
                if not line.startswith(DUE_BY):
                    continue
                shown = dt.datetime.fromisoformat(line.removeprefix(DUE_BY))
                if now < shown + _SECOND:
                    change = max(shown, now)
                    soonest = change if soonest is None else min(soonest, change)
    return soonest


class SharedParts:
    """Parts that several documents of one answer build alike, built once for all of them: a
    registrar's entity (one registrar sponsors many domains of a search page), a name server
    object (a registrar's name servers serve many of them) and a contact's members (one contact
    is often admin, tech and billing contact).

    Shared parts are read-only, like every document body: redaction copies a container before it
    changes anything in it, so hiding a value in one entity never reaches another. A memo lives
    for one answer; it holds each record, so an id is never reused while its entry lives."""

    def __init__(self) -> None:
        self._memo: dict[tuple[Any, ...], tuple[object, dict[str, Any]]] = {}

    def get(
        self, record: object, key: tuple[Any, ...], build: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        hit = self._memo.get((id(record), *key))
        if hit is None or hit[0] is not record:
            hit = self._memo[(id(record), *key)] = (record, build())
        return hit[1]


def contact_entity(
    contact: ContactRecord,
    role: str | None,
    links: Links,
    *,
    verification: bool = True,
    shared: SharedParts | None = None,
) -> dict[str, Any]:
    """A contact as an RDAP entity with one role (or none, for a top-level entity lookup)."""
    entity: dict[str, Any] = {"objectClassName": "entity", "handle": contact.handle}
    if role:
        entity["roles"] = [role]
    if shared is None:
        entity.update(_contact_members(contact, links, verification))
    else:
        entity.update(
            shared.get(
                contact,
                ("contact", links, verification),
                lambda: _contact_members(contact, links, verification),
            )
        )
    return entity


def _contact_members(contact: ContactRecord, links: Links, verification: bool) -> dict[str, Any]:
    """A contact entity's members after `roles`, which depend on the contact alone."""
    postal = contact.preferred_postal
    members: dict[str, Any] = {
        cards.MEMBER[links.contact_format]: cards.write(
            links.contact_format,
            CardValues(
                name=(postal.name if postal and postal.name else ""),
                org=postal.org if postal else None,
                street=postal.street if postal else (),
                city=postal.city if postal else None,
                state=postal.state if postal else None,
                postal_code=postal.postal_code if postal else None,
                country=postal.country if postal else None,
                voice=contact.voice,
                voice_ext=contact.voice_ext,
                fax=contact.fax,
                fax_ext=contact.fax_ext,
                email=contact.email,
            ),
        )
    }
    # The verification remark (with accuracy findings) is built only when the caller's policy
    # could show it; otherwise redaction would remove it anyway (its removal is declared alike).
    remarks = [_verification_remark(contact)] if verification else []
    if contact.eligibility_verified_at:
        remarks.append(
            {
                "title": ELIGIBILITY_REMARK,
                "description": [
                    "Registrant eligibility verified on "
                    + rdap_time(contact.eligibility_verified_at)
                ],
            }
        )
    if remarks:
        members["remarks"] = remarks
    members["status"] = rdap_statuses(contact.statuses)
    events = _events(
        ("registration", contact.created_at),
        ("last changed", contact.updated_at),
        ("transfer", contact.transferred_at),
    )
    if events:
        members["events"] = events
    members["links"] = [links.self_link(f"entity/{contact.handle}")]
    return members


# Consent is recorded per EPP disclose element (deposit extension); policy speaks of fields.
CONSENT_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "org": ("org",),
    "addr": ("street", "city", "postal_code"),
    "voice": ("phone", "phone_ext"),
    "fax": ("fax", "fax_ext"),
    "email": ("email",),
}


@functools.lru_cache(maxsize=256)
def consented_fields(elements: frozenset[str]) -> frozenset[str]:
    """Policy field names covered by the consented elements (unknown names count as fields);
    cached: a registry's contacts share a handful of consent sets."""
    fields: set[str] = set()
    for element in elements:
        fields.update(CONSENT_FIELDS.get(element, (element,)))
    return frozenset(fields)


def contact_facts(contact: ContactRecord, path: str, role: str) -> EntityFacts:
    return EntityFacts(
        path=path,
        role=role,
        handle=contact.handle,
        person_kind=contact.person_kind,
        publish_consent=consented_fields(contact.publish_consent),
        registrar_id=contact.registrar_id,
    )


def registrar_entity(registrar: RegistrarRecord, links: Links) -> dict[str, Any]:
    """The sponsoring registrar with its IANA ID and abuse contact (ICANN profile 2.4)."""
    handle = str(registrar.iana_id) if registrar.iana_id is not None else registrar.client_id
    entity: dict[str, Any] = {
        "objectClassName": "entity",
        "handle": handle,
        "roles": ["registrar"],
    }
    if registrar.iana_id is not None:
        entity["publicIds"] = [{"type": "IANA Registrar ID", "identifier": handle}]
    entity[cards.MEMBER[links.contact_format]] = _card(
        links.contact_format,
        CardValues(
            name=registrar.name,
            org=None,
            street=registrar.street,
            city=registrar.city,
            state=registrar.state,
            postal_code=registrar.postal_code,
            country=registrar.country,
            voice=registrar.voice,
            voice_ext=registrar.voice_ext,
            fax=registrar.fax,
            fax_ext=registrar.fax_ext,
            email=registrar.email,
        ),
    )
    entity_links = []
    if registrar.url:
        entity_links.append(links.link("about", registrar.url))
    if entity_links:
        entity["links"] = entity_links
    if registrar.abuse_email or registrar.abuse_voice:
        entity["entities"] = [
            {
                "objectClassName": "entity",
                "roles": ["abuse"],
                cards.MEMBER[links.contact_format]: _card(
                    links.contact_format,
                    CardValues(
                        name=registrar.abuse_name or f"{registrar.name} Abuse Contact",
                        org=None,
                        street=(),
                        city=None,
                        state=None,
                        postal_code=None,
                        country=None,
                        voice=registrar.abuse_voice,
                        voice_ext=None,
                        fax=None,
                        fax_ext=None,
                        email=registrar.abuse_email,
                    ),
                ),
            }
        ]
    return entity


def _name_members(ldh: str, unicode_name: str | None) -> dict[str, str]:
    members = {"ldhName": ldh}
    if unicode_name and unicode_name != ldh:
        members["unicodeName"] = unicode_name
    return members


def _ip_addresses(addresses: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for version, address in addresses:
        result.setdefault(version, []).append(address)
    return result


def nameserver_object(host: HostRecord, links: Links, *, full: bool) -> dict[str, Any]:
    obj: dict[str, Any] = {"objectClassName": "nameserver", "handle": host.roid}
    obj.update(_name_members(host.ldh_name, host.unicode_name))
    addresses = _ip_addresses(host.addresses)
    if addresses:
        obj["ipAddresses"] = addresses
    obj["status"] = rdap_statuses(host.statuses)
    if full:
        obj["events"] = _events(
            ("registration", host.created_at),
            ("last changed", host.updated_at),
            ("transfer", host.transferred_at),
        )
    obj["links"] = [links.self_link(f"nameserver/{host.ldh_name}")]
    return obj


def _delegation(ns: DelegationRecord, links: Links, shared: SharedParts | None) -> dict[str, Any]:
    host = ns.host
    if host is not None:
        if shared is None:
            return nameserver_object(host, links, full=False)
        return shared.get(
            host, ("nameserver", links), lambda: nameserver_object(host, links, full=False)
        )
    obj: dict[str, Any] = {"objectClassName": "nameserver", "ldhName": ns.ldh_name}
    addresses = _ip_addresses(ns.addresses)
    if addresses:
        obj["ipAddresses"] = addresses
    return obj


def _secure_dns(domain: DomainRecord) -> dict[str, Any]:
    signed = bool(domain.delegation_signed or domain.ds_records or domain.dns_keys)
    secure: dict[str, Any] = {"delegationSigned": signed}
    if domain.max_sig_life is not None:
        secure["maxSigLife"] = domain.max_sig_life
    if domain.ds_records:
        secure["dsData"] = [
            {
                "keyTag": ds.key_tag,
                "algorithm": ds.algorithm,
                "digestType": ds.digest_type,
                "digest": ds.digest,
            }
            for ds in domain.ds_records
        ]
    if domain.dns_keys:
        secure["keyData"] = [
            {
                "flags": k.flags,
                "protocol": k.protocol,
                "algorithm": k.algorithm,
                "publicKey": k.public_key,
            }
            for k in domain.dns_keys
        ]
    return secure


NNDN_RELATION = {
    "blocked": "registration restricted",
    "withheld": "registration restricted",
    "mirrored": "conjoined",
}


def _variants(domain: DomainRecord) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str | None], list[dict[str, str]]] = {}
    for name in domain.variants:
        relation = (
            "registered" if name.state is None else NNDN_RELATION.get(name.state, "unregistered")
        )
        groups.setdefault((relation, name.idn_table), []).append(
            _name_members(name.ldh_name, name.unicode_name)
        )
    variants = []
    for (relation, table), names in groups.items():
        variant: dict[str, Any] = {"relation": [relation]}
        if table:
            variant["idnTable"] = table
        variant["variantNames"] = names
        variants.append(variant)
    return variants


def domain_document(
    domain: DomainRecord,
    links: Links,
    *,
    verification: bool = True,
    shared: SharedParts | None = None,
) -> FullDocument:
    body: dict[str, Any] = {"objectClassName": "domain", "handle": domain.roid}
    body.update(_name_members(domain.ldh_name, domain.unicode_name))
    variants = _variants(domain)
    if variants:
        body["variants"] = variants
    body["status"] = rdap_statuses(domain.statuses)
    body["events"] = _events(
        ("registration", domain.created_at),
        ("expiration", domain.expires_at),
        ("last changed", domain.updated_at),
        ("transfer", domain.transferred_at),
    )
    body["nameservers"] = [_delegation(ns, links, shared) for ns in domain.nameservers]
    body["secureDNS"] = _secure_dns(domain)
    domain_links = [links.self_link(f"domain/{domain.ldh_name}")]
    registrar = domain.registrar
    if registrar.rdap_base_url:
        domain_links.append(
            links.link(
                "related",
                f"{registrar.rdap_base_url.rstrip('/')}/domain/{domain.ldh_name}",
                "application/rdap+json",
            )
        )
    body["links"] = domain_links
    entities = [
        registrar_entity(registrar, links)
        if shared is None
        else shared.get(registrar, ("registrar", links), lambda: registrar_entity(registrar, links))
    ]
    facts = []
    if domain.registrant is not None:
        entities.append(
            contact_entity(
                domain.registrant, "registrant", links, verification=verification, shared=shared
            )
        )
        facts.append(
            contact_facts(
                domain.registrant, "$.entities[?(@.roles[0]=='registrant')]", "registrant"
            )
        )
    for contact_type, contact in domain.contacts:
        role = CONTACT_ROLES.get(contact_type)
        if role is None or any(f.role == role for f in facts):
            continue  # one entity per role, so every redaction path is unambiguous
        entities.append(
            contact_entity(contact, role, links, verification=verification, shared=shared)
        )
        facts.append(contact_facts(contact, f"$.entities[?(@.roles[0]=='{role}')]", role))
    body["entities"] = entities
    subject = Subject(
        object_class="domain",
        key=domain.ldh_name,
        registrar_id=domain.registrar.id,
        domains=frozenset({domain.ldh_name}),
    )
    return FullDocument(
        body=body,
        subject=subject,
        entities=tuple(facts),
        contact_format=links.contact_format,
    )


def nameserver_document(
    host: HostRecord, registrar: RegistrarRecord | None, links: Links
) -> FullDocument:
    body = nameserver_object(host, links, full=True)
    if registrar is not None:
        body["entities"] = [registrar_entity(registrar, links)]
    subject = Subject(object_class="nameserver", key=host.ldh_name, registrar_id=host.registrar_id)
    return FullDocument(body=body, subject=subject, contact_format=links.contact_format)


def entity_document(
    contact: ContactRecord, links: Links, domains: list[str], *, verification: bool = True
) -> FullDocument:
    body = contact_entity(contact, None, links, verification=verification)
    subject = Subject(
        object_class="entity",
        key=contact.handle,
        registrar_id=contact.registrar_id,
        domains=frozenset(domains),
    )
    return FullDocument(
        body=body,
        subject=subject,
        entities=(contact_facts(contact, "$", "contact"),),
        contact_format=links.contact_format,
    )


def registrar_document(registrar: RegistrarRecord, links: Links) -> FullDocument:
    body = registrar_entity(registrar, links)
    body["links"] = [links.self_link(f"entity/{body['handle']}"), *body.get("links", [])]
    subject = Subject(object_class="entity", key=body["handle"], registrar_id=registrar.id)
    return FullDocument(body=body, subject=subject, contact_format=links.contact_format)


def stamp_database_update(document: FullDocument, when: dt.datetime | None) -> FullDocument:
    """Add the 'last update of RDAP database' event (ICANN profile) to the top-level object."""
    if when is None:
        return document
    body = dict(document.body)
    body["events"] = [
        *body.get("events", []),
        {"eventAction": "last update of RDAP database", "eventDate": rdap_time(when)},
    ]
    return dataclasses.replace(document, body=body)


def help_document(description: tuple[str, ...]) -> FullDocument:
    body: dict[str, Any] = {}
    if description:
        body["notices"] = [{"title": "Help", "description": list(description)}]
    return FullDocument(body=body, subject=Subject(object_class="help", key="", registrar_id=None))
