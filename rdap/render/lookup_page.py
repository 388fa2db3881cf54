"""The web lookup page: one redacted document as HTML — domain, name server, registrar or
contact — with every hidden field marked hidden and why, read through the one contact reader."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from rdap.document import EPP_TO_RDAP_STATUS
from rdap.errors import RdapError
from rdap.redaction import RedactedDocument
from rdap.render import require_redacted
from rdap.render.contacts import (
    Card,
    Contact,
    ContactReader,
    Phone,
    Reading,
    declared_name,
    is_object,
)
from rdap.render.html import MEDIA_TYPE, NavItem, Pages

# What each RDAP status (RFC 8056's mapping of EPP statuses) means, in a line for people.
STATUS_MEANINGS = {
    "active": "The domain is registered and has no pending operation or restriction.",
    "inactive": "The domain has no name servers, so it does not resolve.",
    "associated": "The object is linked to another object (e.g. a host to a domain).",
    "add period": "Recently registered; the registration may still be cancelled for a refund.",
    "auto renew period": "Recently renewed automatically; the renewal may still be cancelled.",
    "renew period": "Recently renewed; the renewal may still be cancelled.",
    "transfer period": "Recently transferred to another registrar.",
    "redemption period": "Deleted; the registrant may still restore it for a limited time.",
    "pending create": "A request to create the domain is being processed.",
    "pending delete": "The domain will be deleted and then become available again.",
    "pending renew": "A request to renew the domain is being processed.",
    "pending restore": "A request to restore the deleted domain is being processed.",
    "pending transfer": "A transfer to another registrar has been requested.",
    "pending update": "A request to change the domain is being processed.",
    "client delete prohibited": "The registrar does not allow the domain to be deleted.",
    "client hold": "The registrar has taken the domain out of the DNS: it does not resolve.",
    "client renew prohibited": "The registrar does not allow the domain to be renewed.",
    "client transfer prohibited": "The registrar does not allow a transfer to another registrar.",
    "client update prohibited": "The registrar does not allow changes to the domain.",
    "server delete prohibited": "The registry does not allow the domain to be deleted.",
    "server hold": "The registry has taken the domain out of the DNS: it does not resolve.",
    "server renew prohibited": "The registry does not allow the domain to be renewed.",
    "server transfer prohibited": "The registry does not allow a transfer to another registrar.",
    "server update prohibited": "The registry does not allow changes to the domain.",
}
RDAP_TO_EPP_STATUS = {rdap: epp for epp, rdap in EPP_TO_RDAP_STATUS.items()}
ROLE_LABELS = {
    "registrant": "Registrant",
    "administrative": "Administrative contact",
    "technical": "Technical contact",
    "billing": "Billing contact",
    "contact": "Contact",
}
# The rows of a contact, in order: (field, label).
CONTACT_ROWS = (
    ("handle", "Handle"),
    ("name", "Name"),
    ("org", "Organisation"),
    ("street", "Street"),
    ("city", "City"),
    ("state", "State or province"),
    ("postal_code", "Postal code"),
    ("country", "Country"),
    ("phone", "Phone"),
    ("phone_ext", "Phone extension"),
    ("fax", "Fax"),
    ("fax_ext", "Fax extension"),
    ("email", "Email"),
)
EVENT_LABELS = (
    ("registration", "Registered"),
    ("expiration", "Expires"),
    ("last changed", "Last changed"),
    ("transfer", "Last transferred"),
    ("last update of RDAP database", "Data as of"),
)


@dataclasses.dataclass(frozen=True)
class Row:
    """One field as the page shows it: a value, or hidden with the policy's reason."""

    label: str
    value: str | None
    hidden: bool = False
    reason: str = ""
    # A hidden email's replacement: the contact form (vCard contact-uri, RFC 8605).
    contact_uri: str | None = None


@dataclasses.dataclass(frozen=True)
class ContactView:
    role: str
    label: str
    rows: tuple[Row, ...]
    remarks: tuple[tuple[str, tuple[str, ...]], ...]


@dataclasses.dataclass(frozen=True)
class Chrome:
    """What the channel supplies around a page: where links point, who is signed in."""

    base_url: str
    nav: Sequence[NavItem] = ()
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def _phone(phone: Phone | None) -> str | None:
    return phone.number if phone else None


def _ext(phone: Phone | None) -> str | None:
    return phone.ext if phone else None


def _card_value(card: Card, field: str) -> str | None:
    if field == "street":
        return ", ".join(line for line in card.street or () if line) or None
    if field == "phone":
        return _phone(card.phone)
    if field == "phone_ext":
        return _ext(card.phone)
    if field == "fax":
        return _phone(card.fax)
    if field == "fax_ext":
        return _ext(card.fax)
    value = getattr(card, field, None)
    return value if isinstance(value, str) else None


def reasons_of(document: RedactedDocument) -> dict[str, str]:
    """Declared name → the reason the document gives for hiding it (RFC 9537 `reason`)."""
    found: dict[str, str] = {}
    for entry in document.redacted:
        reason = entry.get("reason")
        text = ""
        if is_object(reason):
            text = str(reason.get("description") or reason.get("type") or "")
        found.setdefault(declared_name(entry), text)
    return found


def contact_view(contact: Contact, reasons: Mapping[str, str]) -> ContactView:
    rows: list[Row] = []
    for field, label in CONTACT_ROWS:
        declared = contact.hidden.get(field)
        if declared is not None:
            rows.append(
                Row(
                    label,
                    None,
                    hidden=True,
                    reason=reasons.get(declared, ""),
                    contact_uri=contact.card.contact_uri if field == "email" else None,
                )
            )
            continue
        value = contact.handle if field == "handle" else _card_value(contact.card, field)
        if value:
            rows.append(Row(label, value))
    known = {field for field, _ in CONTACT_ROWS}
    for field, declared in contact.hidden.items():
        if field not in known:
            rows.append(Row(declared, None, hidden=True, reason=reasons.get(declared, "")))
    return ContactView(
        role=contact.role,
        label=ROLE_LABELS.get(contact.role, contact.role.capitalize()),
        rows=tuple(rows),
        remarks=tuple((r.title, r.description) for r in contact.remarks),
    )


def _events(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    dates: dict[str, str] = {}
    for event in body.get("events") or ():
        if is_object(event) and type(event.get("eventDate")) is str:
            dates.setdefault(str(event.get("eventAction")), event["eventDate"])
    return [(label, dates[action]) for action, label in EVENT_LABELS if action in dates]


def _statuses(body: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(RDAP status, EPP code, meaning) for each status."""
    return [
        (str(s), RDAP_TO_EPP_STATUS.get(str(s), str(s)), STATUS_MEANINGS.get(str(s), ""))
        for s in body.get("status") or ()
    ]


def _nameservers(body: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (str(ns.get("ldhName") or ""), ns.get("unicodeName"))
        for ns in body.get("nameservers") or ()
        if is_object(ns)
    ]


def _dnssec(body: Mapping[str, Any]) -> dict[str, Any]:
    secure = body.get("secureDNS")
    if not is_object(secure):
        return {"signed": False, "ds": []}
    ds = [
        {
            "key_tag": d.get("keyTag"),
            "algorithm": d.get("algorithm"),
            "digest_type": d.get("digestType"),
            "digest": d.get("digest"),
        }
        for d in secure.get("dsData") or ()
        if is_object(d)
    ]
    return {"signed": secure.get("delegationSigned") is True, "ds": ds}


def _addresses(body: Mapping[str, Any]) -> list[str]:
    addresses = body.get("ipAddresses")
    if not is_object(addresses):
        return []
    return [str(a) for version in ("v4", "v6") for a in addresses.get(version) or ()]


@dataclasses.dataclass(frozen=True)
class LookupPage:
    """The web channel's renderer of lookups (a Renderer): built per request by the channel,
    with the page chrome and the URL of the same answer as RDAP JSON."""

    pages: Pages
    reader: ContactReader
    chrome: Chrome
    rdap_url: str
    media_type: str = MEDIA_TYPE

    def render(self, document: RedactedDocument) -> bytes:
        document = require_redacted(document)
        reading = self.reader.read(document)
        body = document.body
        kind = document.subject.object_class
        reasons = reasons_of(document)
        context: dict[str, Any] = {
            **self.chrome.context,
            "kind": kind,
            "rdap_url": self.rdap_url,
            "registrar": reading.registrar,
            "contacts": [contact_view(c, reasons) for c in reading.contacts],
            "other_hidden": [(n, reasons.get(n, "")) for n in reading.other_hidden],
            "events": _events(body),
            "handle": body.get("handle") if type(body.get("handle")) is str else None,
        }
        if kind == "domain":
            context |= {
                "ldh_name": str(body.get("ldhName") or ""),
                "unicode_name": body.get("unicodeName"),
                "statuses": _statuses(body),
                "nameservers": _nameservers(body),
                "dnssec": _dnssec(body),
            }
            title = str(body.get("unicodeName") or body.get("ldhName") or "Domain")
        elif kind == "nameserver":
            context |= {
                "ldh_name": str(body.get("ldhName") or ""),
                "unicode_name": body.get("unicodeName"),
                "statuses": _statuses(body),
                "addresses": _addresses(body),
            }
            title = str(body.get("unicodeName") or body.get("ldhName") or "Name server")
        else:
            title = self._entity_title(reading)
        return self.pages.render(
            f"web/{kind}.html",
            base_url=self.chrome.base_url,
            title=title,
            nav=self.chrome.nav,
            context=context,
        )

    def render_error(self, error: RdapError) -> bytes:
        return self.pages.render(
            "web/error.html",
            base_url=self.chrome.base_url,
            title=error.title,
            nav=self.chrome.nav,
            context={
                **self.chrome.context,
                "message": error.description,
                "show_search": False,
            },
        )

    @staticmethod
    def _entity_title(reading: Reading) -> str:
        if reading.registrar is not None and not reading.contacts:
            return reading.registrar.name or "Registrar"
        return "Contact"


def search_rows(
    reader: ContactReader, results: Sequence[RedactedDocument]
) -> list[tuple[str, str, str | None]]:
    """(path below the base URL, name, name in its own script) for each search result."""
    rows: list[tuple[str, str, str | None]] = []
    for result in results:
        document = require_redacted(result)
        body = document.body
        kind = document.subject.object_class
        if kind in ("domain", "nameserver"):
            ldh = str(body.get("ldhName") or "")
            unicode = body.get("unicodeName")
            rows.append((f"/{kind}/{ldh}", ldh, unicode if type(unicode) is str else None))
        else:
            reading = reader.read(document)
            handle = body.get("handle")
            if reading.registrar is not None and not reading.contacts:
                iana = reading.registrar.iana_id or (handle if type(handle) is str else "")
                rows.append((f"/entity/{iana}", reading.registrar.name or str(iana), None))
            elif type(handle) is str:
                card = reading.contacts[0].card if reading.contacts else None
                label = (card.name or card.org) if card is not None else None
                rows.append((f"/entity/{handle}", label or handle, None))
    return rows
