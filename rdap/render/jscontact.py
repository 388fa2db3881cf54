"""JSContact writer: a contact card as an RFC 9553 Card for RDAP (draft-ietf-regext-rdap-jscontact),
written from the format-neutral reading (rdap.render.contacts.Card) of a redacted card."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from typing import Any

from rdap.render.contacts import Card, Phone

# RDAP extension identifier: in rdapConformance of JSContact answers and in `exts_list`.
EXTENSION = "jscontact"
MEMBER = "jscontact_card"
# Where a property's value sits below the element's location, for elements that name the
# whole property (the phone number whose extension is stripped; reverse-search values).
VALUE_SUFFIX = {"phone": ".number", "fax": ".number", "email": ".address"}

# The namespace of our card uids (a fixed random UUID: uids are stable across releases).
UID_NAMESPACE = uuid.UUID("5b4f2f6e-8f52-4a51-9c43-3c1d1c9b2f7a")
# Card field → AddressComponent kind (RFC 9553 §2.5.1.1); street lines are kind "name".
_COMPONENTS = (("city", "locality"), ("state", "region"), ("postal_code", "postcode"))


def _tel(phone: Phone) -> str:
    uri = "tel:" + phone.number
    return f"{uri};ext={phone.ext}" if phone.ext else uri


def _address(card: Card, emptied: Collection[str]) -> dict[str, Any] | None:
    if card.street is None:
        return None
    components = [{"kind": "name", "value": line} for line in card.street if line]
    if not components and "street" in emptied:
        components.append({"kind": "name", "value": ""})
    for field, kind in _COMPONENTS:
        value = getattr(card, field)
        if value or (field in emptied and value is not None):
            components.append({"kind": kind, "value": value})
    address: dict[str, Any] = {}
    if components:
        address["components"] = components
    if card.country:
        address["countryCode"] = card.country
    return address


def uid(source: bytes) -> str:
    """A name-based (version 5, RFC 9562) UUID URN of `source`, as uuid.uuid5 makes it."""
    h = hashlib.sha1(UID_NAMESPACE.bytes + source, usedforsecurity=False).hexdigest()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"urn:uuid:{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def card_json(
    card: Card, *, role: str, emptied: Collection[str] = (), source: bytes | None = None
) -> dict[str, Any]:
    """The Card for one entity. `emptied`: the fields this answer declares `emptyValue` for the
    entity; they are written as "" so that their postPath resolves (RFC 9537 §4.1). `source`:
    the redacted card the values were read from (its bytes name the uid), else the values."""
    out: dict[str, Any] = {"@type": "Card", "version": "1.0", "uid": ""}
    if card.name or ("name" in emptied and card.name is not None):
        out["name"] = {"full": card.name}
    if card.org:
        out["organizations"] = {"org": {"name": card.org}}
    address = _address(card, emptied)
    if address:
        out["addresses"] = {"addr": address}
    phones: dict[str, Any] = {}
    if card.phone is not None:
        phones["voice"] = {"features": {"voice": True}, "number": _tel(card.phone)}
    if card.fax is not None:
        phones["fax"] = {"features": {"fax": True}, "number": _tel(card.fax)}
    if phones:
        out["phones"] = phones
    if card.email:
        out["emails"] = {"email": {"address": card.email}}
    if card.contact_uri:
        out["links"] = {"contact-uri": {"kind": "contact", "uri": card.contact_uri}}
    # RFC 9553 requires a uid. It is made from what the card shows (and the entity's role), so
    # it says nothing a redaction hid (a uid from the handle would link hidden registrations).
    shown = source if source is not None else repr(card).encode()
    out["uid"] = uid(role.encode() + b"\n" + shown)
    return out
