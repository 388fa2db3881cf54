"""WHOIS text renderer (RFC 3912): the ICANN registration data directory format ("Key: value"
lines, Registry Agreement Specification 4), hidden fields showing the configured placeholder.

What is hidden is what the document declares in `redacted` (read by rdap.render.contacts); a
hidden email shows the contact method RDAP shows in its place (the contact form), if any.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Mapping
from typing import Any

from rdap.document import EPP_TO_RDAP_STATUS
from rdap.errors import RdapError
from rdap.profile import WhoisProfile
from rdap.redaction import RedactedDocument
from rdap.render import require_redacted
from rdap.render.contacts import (
    Card,
    Contact,
    ContactReader,
    Phone,
    Reading,
    Registrar,
    is_object,
)

MEDIA_TYPE = "text/plain; charset=utf-8"
CRLF = "\r\n"
# Contact roles in the order and with the labels of Specification 4's domain answer.
CONTACT_LABELS = {
    "registrant": "Registrant",
    "administrative": "Admin",
    "technical": "Tech",
    "billing": "Billing",
}
# The fields of a contact block; any other declared-hidden field follows under its own name.
CONTACT_FIELDS = frozenset(
    {
        "handle",
        "name",
        "org",
        "street",
        "city",
        "state",
        "postal_code",
        "country",
        "phone",
        "phone_ext",
        "fax",
        "fax_ext",
        "email",
    }
)
RDAP_TO_EPP_STATUS = {rdap: epp for epp, rdap in EPP_TO_RDAP_STATUS.items()}
DATABASE_UPDATE = "last update of RDAP database"


def clean(value: str) -> str:
    """One line of text: control characters (CR, LF, ESC, ...) become spaces, so no value can
    forge lines or drive a terminal."""
    if value.isprintable():
        return value
    return "".join(
        " " if unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029\u0085" else ch
        for ch in value
    )


class _Lines:
    """The answer being written: "Key: value" lines, hidden values shown as the placeholder."""

    def __init__(self, placeholder: str) -> None:
        self.placeholder = placeholder
        self.lines: list[str] = []

    def field(self, key: str, value: str | None, *, hidden: bool = False) -> None:
        shown = self.placeholder if hidden else clean(value or "")
        self.lines.append(f"{key}: {shown}" if shown else f"{key}:")

    def raw(self, line: str = "") -> None:
        self.lines.append(clean(line))

    def encode(self) -> bytes:
        return (CRLF.join(self.lines) + CRLF).encode("utf-8")


def _events(body: Mapping[str, Any]) -> dict[str, str]:
    dates: dict[str, str] = {}
    for event in body.get("events") or ():
        if is_object(event) and type(event.get("eventDate")) is str:
            dates.setdefault(str(event.get("eventAction")), event["eventDate"])
    return dates


def _phone_number(phone: Phone | None) -> str | None:
    return phone.number if phone else None


def _phone_ext(phone: Phone | None) -> str | None:
    return phone.ext if phone else None


@dataclasses.dataclass(frozen=True)
class WhoisText:
    """The port-43 renderer: domains, nameservers and registrars."""

    reader: ContactReader
    profile: WhoisProfile
    media_type: str = MEDIA_TYPE

    def render(self, document: RedactedDocument) -> bytes:
        document = require_redacted(document)
        reading = self.reader.read(document)
        out = _Lines(self.profile.placeholder)
        body = document.body
        kind = document.subject.object_class
        if kind == "domain":
            self._domain(body, reading, out)
        elif kind == "nameserver":
            self._nameserver(body, reading, out)
        elif kind == "entity" and reading.registrar is not None and not reading.contacts:
            self._registrar(reading.registrar, out)
        else:
            raise ValueError(f"port 43 does not answer {kind} documents of this kind")
        for name in reading.other_hidden:
            if not (kind == "domain" and name == "Registry Domain ID" and "handle" not in body):
                out.field(name, None, hidden=True)  # declared, with no line of its own above
        self._footer(body, out, domain=kind == "domain")
        return out.encode()

    def render_error(self, error: RdapError) -> bytes:
        """One line: what went wrong, never the caller's input."""
        return (clean(f"{error.title}: {error.description}") + CRLF).encode("utf-8")

    # --- objects --------------------------------------------------------------------------
    def _domain(self, body: Mapping[str, Any], reading: Reading, out: _Lines) -> None:
        events = _events(body)
        hidden_top = set(reading.other_hidden)
        out.field("Domain Name", body.get("ldhName"))
        if body.get("unicodeName"):
            out.field("Internationalized Domain Name", body.get("unicodeName"))
        out.field(
            "Registry Domain ID",
            body.get("handle"),
            hidden="handle" not in body and "Registry Domain ID" in hidden_top,
        )
        registrar = reading.registrar
        out.field("Registrar WHOIS Server", None)
        out.field("Registrar URL", registrar.url if registrar else None)
        out.field("Updated Date", events.get("last changed"))
        out.field("Creation Date", events.get("registration"))
        out.field("Registry Expiry Date", events.get("expiration"))
        out.field("Registrar", registrar.name if registrar else None)
        out.field("Registrar IANA ID", registrar.iana_id if registrar else None)
        abuse = registrar.abuse if registrar else None
        out.field("Registrar Abuse Contact Email", abuse.email if abuse else None)
        out.field("Registrar Abuse Contact Phone", _phone_number(abuse.phone) if abuse else None)
        for status in body.get("status") or ():
            out.field("Domain Status", self._status(str(status)))
        for role, label in CONTACT_LABELS.items():
            contact = reading.contact(role)
            if contact is not None:
                self._contact(contact, label, out)
        for nameserver in body.get("nameservers") or ():
            if is_object(nameserver):
                out.field("Name Server", nameserver.get("ldhName"))
        secure = body.get("secureDNS")
        signed = is_object(secure) and secure.get("delegationSigned") is True
        out.field("DNSSEC", "signedDelegation" if signed else "unsigned")
        if self.profile.inaccuracy_form_url:
            out.field(
                "URL of the ICANN Whois Inaccuracy Complaint Form",
                self.profile.inaccuracy_form_url,
            )

    def _status(self, rdap_status: str) -> str:
        epp = RDAP_TO_EPP_STATUS.get(rdap_status, rdap_status)
        if not self.profile.status_url:
            return epp
        return f"{epp} {self.profile.status_url.replace('{status}', epp)}"

    def _contact(self, contact: Contact, label: str, out: _Lines) -> None:
        card, hidden = contact.card, contact.hidden
        out.field(f"Registry {label} ID", contact.handle, hidden="handle" in hidden)
        out.field(f"{label} Name", card.name, hidden="name" in hidden)
        out.field(f"{label} Organization", card.org, hidden="org" in hidden)
        streets = [line for line in card.street or () if line] or [""]
        for line in streets if "street" not in hidden else [""]:
            out.field(f"{label} Street", line, hidden="street" in hidden)
        out.field(f"{label} City", card.city, hidden="city" in hidden)
        out.field(f"{label} State/Province", card.state, hidden="state" in hidden)
        out.field(f"{label} Postal Code", card.postal_code, hidden="postal_code" in hidden)
        out.field(f"{label} Country", card.country, hidden="country" in hidden)
        out.field(f"{label} Phone", _phone_number(card.phone), hidden="phone" in hidden)
        out.field(f"{label} Phone Ext", _phone_ext(card.phone), hidden="phone_ext" in hidden)
        out.field(f"{label} Fax", _phone_number(card.fax), hidden="fax" in hidden)
        out.field(f"{label} Fax Ext", _phone_ext(card.fax), hidden="fax_ext" in hidden)
        self._email(f"{label} Email", card, "email" in hidden, out)
        for field, name in hidden.items():
            if field not in CONTACT_FIELDS:
                out.field(name, None, hidden=True)

    def _email(self, key: str, card: Card, hidden: bool, out: _Lines) -> None:
        """A hidden email shows the contact form RDAP offers in its place (RFC 8605)."""
        if hidden and card.contact_uri:
            out.field(key, card.contact_uri)
        else:
            out.field(key, card.email, hidden=hidden)

    def _nameserver(self, body: Mapping[str, Any], reading: Reading, out: _Lines) -> None:
        out.field("Server Name", body.get("ldhName"))
        addresses = body.get("ipAddresses")
        if is_object(addresses):
            for version in ("v4", "v6"):
                for address in addresses.get(version) or ():
                    out.field("IP Address", str(address))
        registrar = reading.registrar
        out.field("Registrar", registrar.name if registrar else None)
        out.field("Registrar WHOIS Server", None)
        out.field("Registrar URL", registrar.url if registrar else None)

    def _registrar(self, registrar: Registrar, out: _Lines) -> None:
        card = registrar.card
        out.field("Registrar", registrar.name)
        for line in [line for line in card.street or () if line] or [""]:
            out.field("Street", line)
        out.field("City", card.city)
        out.field("State/Province", card.state)
        out.field("Postal Code", card.postal_code)
        out.field("Country", card.country)
        out.field("Phone Number", _phone_number(card.phone))
        if card.phone and card.phone.ext:
            out.field("Phone Ext", card.phone.ext)
        out.field("Fax Number", _phone_number(card.fax))
        if card.fax and card.fax.ext:
            out.field("Fax Ext", card.fax.ext)
        out.field("Email", card.email)
        out.field("Registrar WHOIS Server", None)
        out.field("Registrar URL", registrar.url)
        out.field("Registrar IANA ID", registrar.iana_id)
        abuse = registrar.abuse
        out.field("Registrar Abuse Contact Email", abuse.email if abuse else None)
        out.field("Registrar Abuse Contact Phone", _phone_number(abuse.phone) if abuse else None)

    # --- around the objects ---------------------------------------------------------------
    def _footer(self, body: Mapping[str, Any], out: _Lines, *, domain: bool) -> None:
        updated = _events(body).get(DATABASE_UPDATE)
        if updated:
            out.raw(f">>> Last update of WHOIS database: {updated} <<<")
        if domain and self.profile.domain_notice:
            out.raw()
            for line in self.profile.domain_notice:
                out.raw(line)
        if self.profile.terms_of_use:
            out.raw()
            for line in self.profile.terms_of_use:
                out.raw(line)
