"""Contact cards: an entity's contact data in each contact format an answer can carry, jCard
(RFC 7095, the default) or JSContact (RFC 9553 in RDAP, draft-ietf-regext-rdap-jscontact).

The document builder writes every card in the format the channel asked for (`write`), so an
answer is built, redacted and rendered in one format: redaction hides values at the element
catalogue's locations for that format (policies/elements.toml `path` / `paths`) and finishes
the card with the steps of rdap.redaction.formats. A further format is a writer here, its
constants, a column of the catalogue and its finishing steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

JCARD = "jcard"
JSCONTACT = "jscontact"
FORMATS = (JCARD, JSCONTACT)
# The entity member that holds the card.
MEMBER = {JCARD: "vcardArray", JSCONTACT: "jscontact_card"}
# The RDAP extension identifier an answer in the format declares in rdapConformance (jCard is
# RFC 9083's own), and that a client names in `exts_list` to ask for the format.
CONFORMANCE: dict[str, str | None] = {JCARD: None, JSCONTACT: "jscontact"}
# Where a phone's tel URI sits below the phone element's location (a jCard tel property, a
# JSContact Phone): a stripped extension is declared there (RFC 9537 partialValue).
TEL_VALUE = {JCARD: "[3]", JSCONTACT: ".number"}
# Where an email address sits below the email element's location (RFC 9536 property paths).
EMAIL_VALUE = {JCARD: "[3]", JSCONTACT: ".address"}

# A JSContact address: its street lines (AddressComponent kind "name", one per line, one ""
# when there is none), then these parts, each "" when the registry holds none (RFC 9553
# §2.5.1.1 kinds) — the parts a jCard adr always carries.
ADDRESS_PARTS = (("city", "locality"), ("state", "region"), ("postal_code", "postcode"))
# How many components an address has whose street has one line or none.
ONE_LINE_ADDRESS = 1 + len(ADDRESS_PARTS)

# The JSContact version written: 2.0 (RFC 9982: version 2.0 over RFC 9553), as the draft's examples
# and ICANN's reference implementation write RDAP cards. Its `uid` is optional and cards carry
# none: a uid would have to be made per answer from what redaction leaves (one from the handle
# would link a person's registrations), and would identify nothing a client can use.
JSCONTACT_VERSION = "2.0"


@dataclasses.dataclass(frozen=True, slots=True)
class CardValues:
    """What a card says of a contact, registrar or abuse desk; None: the registry holds none."""

    name: str
    org: str | None
    street: tuple[str, ...]
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None
    voice: str | None
    voice_ext: str | None
    fax: str | None
    fax_ext: str | None
    email: str | None

    @property
    def has_address(self) -> bool:
        return bool(self.street or self.city or self.state or self.postal_code or self.country)


def tel_uri(number: str, ext: str | None) -> str:
    """EPP phone (+CC.NNNN) → tel URI (RFC 3966); the extension as ;ext=."""
    uri = "tel:" + number
    return f"{uri};ext={ext}" if ext else uri


def write(contact_format: str, values: CardValues) -> Any:
    """The card in `contact_format` (FORMATS), everything shown: redaction comes after."""
    return _WRITERS[contact_format](values)


def _jcard(v: CardValues) -> list[Any]:
    props: list[Any] = [["version", {}, "text", "4.0"], ["fn", {}, "text", v.name]]
    if v.org:
        props.append(["org", {}, "text", v.org])
    if v.has_address:
        street: str | list[str] = (
            list(v.street) if len(v.street) > 1 else (v.street[0] if v.street else "")
        )
        params = {"cc": v.country.upper()} if v.country else {}
        parts = ["", "", street, v.city or "", v.state or "", v.postal_code or "", ""]
        props.append(["adr", params, "text", parts])
    if v.voice:
        props.append(["tel", {"type": "voice"}, "uri", tel_uri(v.voice, v.voice_ext)])
    if v.fax:
        props.append(["tel", {"type": "fax"}, "uri", tel_uri(v.fax, v.fax_ext)])
    if v.email:
        props.append(["email", {}, "text", v.email])
    return ["vcard", props]


def _jscontact(v: CardValues) -> dict[str, Any]:
    """A Card (RFC 9553, version 2.0 of RFC 9982). Its address, when it has one, carries every
    component jCard's adr always carries (street, locality, region, postcode; "" where the
    registry holds none), so that an element emptied by redaction is emptied, and declared,
    alike in both formats."""
    card: dict[str, Any] = {"@type": "Card", "version": JSCONTACT_VERSION, "name": {"full": v.name}}
    if v.org:
        card["organizations"] = {"org": {"name": v.org}}
    if v.has_address:
        components = [{"kind": "name", "value": line} for line in v.street if line] or [
            {"kind": "name", "value": ""}
        ]
        for field, kind in ADDRESS_PARTS:
            components.append({"kind": kind, "value": getattr(v, field) or ""})
        address: dict[str, Any] = {"components": components}
        if v.country:
            address["countryCode"] = v.country.upper()
        card["addresses"] = {"addr": address}
    phones: dict[str, Any] = {}
    if v.voice:
        phones["voice"] = {"features": {"voice": True}, "number": tel_uri(v.voice, v.voice_ext)}
    if v.fax:
        phones["fax"] = {"features": {"fax": True}, "number": tel_uri(v.fax, v.fax_ext)}
    if phones:
        card["phones"] = phones
    if v.email:
        card["emails"] = {"email": {"address": v.email}}
    return card


_WRITERS: dict[str, Callable[[CardValues], Any]] = {JCARD: _jcard, JSCONTACT: _jscontact}


def jscontact_link(uri: str) -> dict[str, Any]:
    """A JSContact `links` map with the URI through which to reach the contact (RFC 8605's
    contact-uri, RFC 9553 Link kind "contact")."""
    return {"contact-uri": {"kind": "contact", "uri": uri}}
