"""Contacts of a redacted document as plain values: the one reader of contact cards, jCard
(RFC 7095) or JSContact (RFC 9553), and of which contact fields the document declares hidden.

Everything that is not RDAP JSON (text and HTML renderers, search matching) reads contacts,
registrars and abuse contacts here and nowhere else, so a new card form is a reader here and a
writer in rdap/cards.py. Which fields are hidden is read
from the document's own RFC 9537 declarations (`redacted`), matched to contact fields through
the element catalogue of the policy that made them: never decided again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeGuard

from rdap import cards
from rdap.redaction import Policy, RedactedDocument

# The top-level entity of an entity lookup is the contact role "contact" (policies/README.md).
LOOKED_UP = "contact"
# The member holding an entity's JSContact card (draft-ietf-regext-rdap-jscontact).
JSCONTACT_MEMBER = cards.MEMBER[cards.JSCONTACT]
REGISTRAR_ROLE = "registrar"
ABUSE_ROLE = "abuse"


@dataclasses.dataclass(frozen=True)
class Phone:
    """A tel URI (RFC 3966) in the EPP form registries print: "+1.5555551234", extension apart."""

    number: str
    ext: str | None = None


@dataclasses.dataclass(frozen=True)
class Card:
    """What a card says, jCard or JSContact. None: the card has no such property; "": it has
    one, emptied."""

    name: str | None = None
    org: str | None = None
    street: tuple[str, ...] | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None  # ISO 3166 code (the adr `cc` parameter)
    phone: Phone | None = None
    fax: Phone | None = None
    email: str | None = None
    contact_uri: str | None = None  # RFC 8605: a form or relay to write to the contact


@dataclasses.dataclass(frozen=True)
class Remark:
    title: str
    description: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Contact:
    """One contact entity: its role in the answer, its card, and its declared-hidden fields."""

    role: str  # registrant, administrative, technical, billing; "contact" for an entity lookup
    handle: str | None
    card: Card
    # Field (policies/elements.toml: name, email, ...) → the name its redaction is declared by.
    hidden: Mapping[str, str]
    remarks: tuple[Remark, ...] = ()


@dataclasses.dataclass(frozen=True)
class Registrar:
    """A registrar entity: the sponsor in domain and nameserver answers, or the answer itself."""

    name: str | None
    handle: str | None
    iana_id: str | None
    url: str | None  # the registrar's web site (link rel "about")
    card: Card
    abuse: Card | None


@dataclasses.dataclass(frozen=True)
class Reading:
    """Everything about people and organisations in one redacted document."""

    contacts: tuple[Contact, ...]
    registrar: Registrar | None
    # Declared names that no contact field carries (e.g. a redacted "Registry Domain ID").
    other_hidden: tuple[str, ...]

    def contact(self, role: str) -> Contact | None:
        return next((c for c in self.contacts if c.role == role), None)


def is_object(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """A JSON object of a redacted body: a read-only Mapping (rdap.redaction.readonly), not a
    dict; or a dict of a plain copy."""
    return type(value) is dict or isinstance(value, Mapping)


def is_array(value: Any) -> TypeGuard[Sequence[Any]]:
    """A JSON array of a redacted body: a read-only Sequence (a view or a tuple), not a list;
    or a list of a plain copy."""
    kind = type(value)
    return kind is list or kind is tuple or (isinstance(value, Sequence) and kind is not str)


def declared_name(entry: Mapping[str, Any]) -> str:
    """The name of an RFC 9537 redaction: its registered `type`, else its `description`."""
    name = entry.get("name")
    if not is_object(name):
        return ""
    value = name.get("type") or name.get("description") or ""
    return value if type(value) is str else str(value)


def _text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if is_array(value) and all(type(v) is str for v in value):
        return ", ".join(value)
    return None


def _types(params: Any) -> tuple[str, ...]:
    kind = params.get("type") if is_object(params) else None
    if type(kind) is str:
        return (kind.lower(),)
    if is_array(kind):
        return tuple(k.lower() for k in kind if type(k) is str)
    return ()


def phone(uri: str) -> Phone:
    """tel:+1.5555551234;ext=12 → Phone("+1.5555551234", "12")."""
    number, *params = uri.removeprefix("tel:").split(";")
    ext = next((p[4:] for p in params if p.lower().startswith("ext=")), None)
    return Phone(number=number, ext=ext)


def read_card(entity: Mapping[str, Any]) -> Card:
    """The values of an entity's card, jCard or JSContact; properties it lacks are None. (This
    runs for every contact of every answer: one pass, one Card.)"""
    jscard = entity.get(JSCONTACT_MEMBER)
    if is_object(jscard):
        return _read_jscontact(jscard)
    vcard = entity.get(cards.MEMBER[cards.JCARD])
    properties = vcard[1] if is_array(vcard) and len(vcard) > 1 else ()
    values: dict[str, Any] = {}
    for prop in properties if is_array(properties) else ():
        if not is_array(prop) or len(prop) < 4 or type(prop[0]) is not str:
            continue
        name, params, value = prop[0].lower(), prop[1], prop[3]
        if name in _TEXT_PROPERTIES:
            values.setdefault(_TEXT_PROPERTIES[name], _text(value))
        elif name == "adr":
            if "street" not in values:
                values.update(_address(params, value))
        elif name == "tel" and type(value) is str:
            kinds = _types(params)
            key = "fax" if "fax" in kinds else "phone" if "voice" in kinds or not kinds else None
            if key is not None and key not in values:
                values[key] = phone(value)
    return Card(**values)


def _members(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a JSContact map (Id → object), in order."""
    return [v for v in value.values() if is_object(v)] if is_object(value) else []


def _string(value: Any) -> str | None:
    return value if type(value) is str else None


def _read_jscontact(card: Mapping[str, Any]) -> Card:
    """A JSContact Card (RFC 9553) read as a jCard is: an address, when present, has every
    component ("" for those it lacks), as the jCard adr property does."""
    values: dict[str, Any] = {}
    name = card.get("name")
    if is_object(name):
        values["name"] = _string(name.get("full"))
    org = next(iter(_members(card.get("organizations"))), None)
    if org is not None:
        values["org"] = _string(org.get("name"))
    address = next(iter(_members(card.get("addresses"))), None)
    if address is not None:
        parts: dict[str, list[str]] = {}
        for component in address.get("components") or ():
            if is_object(component) and type(component.get("value")) is str:
                parts.setdefault(str(component.get("kind")), []).append(component["value"])
        values["street"] = tuple(parts.get("name") or ("",))
        for field, kind in cards.ADDRESS_PARTS:
            values[field] = (parts.get(kind) or [""])[0]
        values["country"] = _string(address.get("countryCode"))
    for entry in _members(card.get("phones")):
        features = entry.get("features")
        key = "fax" if is_object(features) and features.get("fax") else "phone"
        number = entry.get("number")
        if key not in values and type(number) is str:
            values[key] = phone(number)
    email = next(iter(_members(card.get("emails"))), None)
    if email is not None:
        values["email"] = _string(email.get("address"))
    for link in _members(card.get("links")):
        if link.get("kind") == "contact" and "contact_uri" not in values:
            values["contact_uri"] = _string(link.get("uri"))
    return Card(**values)


_TEXT_PROPERTIES = {"fn": "name", "org": "org", "email": "email", "contact-uri": "contact_uri"}


def _address(params: Any, value: Any) -> dict[str, Any]:
    parts = list(value) if is_array(value) else []
    parts += [""] * (7 - len(parts))
    street = parts[2]
    if is_array(street):
        lines = tuple(line for line in street if type(line) is str)
    else:
        lines = (street,) if type(street) is str else ()
    country = params.get("cc") if is_object(params) else None
    return {
        "street": lines,
        "city": _text(parts[3]),
        "state": _text(parts[4]),
        "postal_code": _text(parts[5]),
        "country": country if type(country) is str else None,
    }


def _remarks(entity: Mapping[str, Any]) -> tuple[Remark, ...]:
    found = []
    for remark in entity.get("remarks") or ():
        if is_object(remark):
            lines = remark.get("description") or []
            found.append(
                Remark(
                    title=str(remark.get("title") or ""),
                    description=tuple(line for line in lines if type(line) is str),
                )
            )
    return tuple(found)


def _roles(entity: Mapping[str, Any]) -> list[str]:
    roles = entity.get("roles")
    return [r for r in roles if type(r) is str] if is_array(roles) else []


def read_registrar(entity: Mapping[str, Any]) -> Registrar:
    iana_id = next(
        (
            str(public_id.get("identifier"))
            for public_id in entity.get("publicIds") or ()
            if is_object(public_id) and public_id.get("type") == "IANA Registrar ID"
        ),
        None,
    )
    url = next(
        (
            str(link.get("href"))
            for link in entity.get("links") or ()
            if is_object(link) and link.get("rel") == "about" and link.get("href")
        ),
        None,
    )
    abuse = next(
        (
            read_card(inner)
            for inner in entity.get("entities") or ()
            if is_object(inner) and ABUSE_ROLE in _roles(inner)
        ),
        None,
    )
    card = read_card(entity)
    handle = entity.get("handle")
    return Registrar(
        name=card.name,
        handle=handle if type(handle) is str else None,
        iana_id=iana_id,
        url=url,
        card=card,
        abuse=abuse,
    )


_NOTHING: Mapping[str, str] = MappingProxyType({})


class ContactReader:
    """Reads documents made under one policy: its element catalogue names every redaction."""

    def __init__(self, elements: Iterable[tuple[str, str, str]]) -> None:
        """`elements`: (declared name, contact role, field) for every catalogue element."""
        self._fields = {name: (role, field) for name, role, field in elements}
        self._roles = frozenset(role for role, _ in self._fields.values())

    @classmethod
    def for_policy(cls, policy: Policy) -> ContactReader:
        return cls((e.name, e.role, e.field) for e in policy.elements.values())

    def read(self, document: RedactedDocument) -> Reading:
        hidden: dict[str, dict[str, str]] = {}
        other: list[str] = []
        for entry in document.redacted:
            name = declared_name(entry)
            place = self._fields.get(name)
            if place is None:
                other.append(name)
            else:
                hidden.setdefault(place[0], {})[place[1]] = name
        body = document.body
        contacts: list[Contact] = []
        registrar: Registrar | None = None
        if document.subject.object_class == "entity":
            if REGISTRAR_ROLE in _roles(body):
                registrar = read_registrar(body)
            else:
                contacts.append(self._contact(body, LOOKED_UP, hidden))
        for entity in body.get("entities") or ():
            if not is_object(entity):
                continue
            roles = _roles(entity)
            if REGISTRAR_ROLE in roles and registrar is None:
                registrar = read_registrar(entity)
            elif roles and roles[0] in self._roles:
                contacts.append(self._contact(entity, roles[0], hidden))
        return Reading(contacts=tuple(contacts), registrar=registrar, other_hidden=tuple(other))

    def _contact(
        self, entity: Mapping[str, Any], role: str, hidden: Mapping[str, dict[str, str]]
    ) -> Contact:
        handle = entity.get("handle")
        return Contact(
            role=role,
            handle=handle if type(handle) is str else None,
            card=read_card(entity),
            hidden=hidden.get(role, _NOTHING),
            remarks=_remarks(entity),
        )
