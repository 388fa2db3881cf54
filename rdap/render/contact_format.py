"""Contact formats of RDAP JSON answers: which one a request asks for (jCard by default, JSContact
on request, draft-ietf-regext-rdap-jscontact), and the JSContact form of a redacted answer.

Redaction decides once, on the jCard the pipeline builds. An answer in another format is
written from that redacted document: each card through the format-neutral reader
(rdap.render.contacts), each redacted[] declaration moved to the element's location in the
format, as the element catalogue (policies/elements.toml, `paths`) names it. So both formats
hide exactly the same elements, and a further format is a catalogue column and a card writer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from rdap.redaction import Policy, json_bytes
from rdap.render import jscontact
from rdap.render.contacts import (
    LOOKED_UP,
    REGISTRAR_ROLE,
    declared_name,
    is_array,
    read_card,
)

JCARD = "jcard"
JSCONTACT = "jscontact"
FORMATS = (JCARD, JSCONTACT)
RDAP_MEDIA_TYPE = "application/rdap+json"
_PATH_KEYS = ("prePath", "postPath", "replacementPath")
# What /help says of the formats offered (its rdapConformance also lists "jscontact").
HELP = (
    "Contact information is given as jCard (vcardArray, RFC 7095) unless the client asks for "
    "JSContact (RFC 9553, draft-ietf-regext-rdap-jscontact) with the request header "
    'Accept: application/rdap+json;exts_list="jscontact". Entities then carry '
    "jscontact_card in place of vcardArray, and each redaction is declared at its place in "
    "the JSContact card."
)


def requested(accept: str | None) -> str:
    """The contact format an Accept header asks for. JSContact when an application/rdap+json
    media range carries an `exts_list` parameter naming "jscontact" (RDAP extensions
    signalling, as the draft's implementations read it); jCard otherwise. Identifiers we do not
    offer are ignored, as RDAP clients expect of extensions (the answer says in rdapConformance
    what it uses)."""
    if not accept or "exts_list" not in accept.lower():
        return JCARD
    for media_range in accept.split(","):
        media_type, *params = media_range.split(";")
        if media_type.strip().lower() != RDAP_MEDIA_TYPE:
            continue
        for param in params:
            name, _, value = param.partition("=")
            named = value.strip().strip('"').split()
            if name.strip().lower() == "exts_list" and jscontact.EXTENSION in named:
                return JSCONTACT
    return JCARD


def _roles(entity: Mapping[str, Any]) -> Sequence[Any]:
    roles = entity.get("roles")
    return roles if is_array(roles) else ()


@dataclasses.dataclass(frozen=True, slots=True)
class _Known:
    """A declaration, its JSContact form, and (role, field) if it empties a value."""

    entry: Mapping[str, Any]
    moved: Mapping[str, Any]
    emptied: tuple[str, str] | None


class JsContactForm:
    """Writes redacted answers made under one policy with JSContact cards (`jscontact_card`
    in place of `vcardArray`) and their redacted[] paths pointing into those cards."""

    conformance = jscontact.EXTENSION

    def __init__(self, policy: Policy, memo_limit: int = 8192) -> None:
        moves: dict[str, list[tuple[str, str]]] = {}
        fields: dict[str, tuple[str, str, str]] = {}
        for element in policy.elements.values():
            old, new = element.paths[JCARD][1:], element.paths[JSCONTACT][1:]
            pairs = []
            if element.part == "tel-ext" and element.within:
                within = element.within.partition(".")[2]
                pairs.append((old + "[3]", new + jscontact.VALUE_SUFFIX[within]))
            pairs.append((old, new))
            moves[element.name] = pairs
            fields[element.name] = (element.role, element.field, element.method)
        self._moves = moves
        self._fields = fields
        name = next(e for e in policy.elements.values() if e.field == "name")
        email = next(e for e in policy.elements.values() if e.field == "email")
        # Reverse search (RFC 9536) property → its JSONPath in a JSContact domain answer.
        self.property_paths = {
            "fn": "$.entities[*]" + name.paths[JSCONTACT][1:],
            "email": "$.entities[*]" + email.paths[JSCONTACT][1:] + jscontact.VALUE_SUFFIX["email"],
        }
        # Declarations are shared between answers (one per redaction outcome): each is moved
        # once and kept while it lives (it is held here, so its id is not reused meanwhile).
        self._memo: dict[int, _Known] = {}
        self._memo_limit = memo_limit
        # Cards written, by what they were written from (see `_card`); never changed once
        # written (the answers that hold one only serialize it). At most memo_limit of them.
        self._cards: dict[tuple[bytes, str, frozenset[tuple[str, str]]], Mapping[str, Any]] = {}

    def write(
        self, body: Mapping[str, Any], object_class: str, redacted: Sequence[Mapping[str, Any]]
    ) -> tuple[dict[str, Any], list[Mapping[str, Any]]]:
        """The top-level object (or one search result) with every card in JSContact, and its
        redacted[] declarations with their paths in those cards. The object is a plain copy
        (one C round trip through JSON), cheaper to rewrite than the read-only views."""
        known = [self._known(entry) for entry in redacted]
        emptied = frozenset(k.emptied for k in known if k.emptied is not None)
        declarations = [k.moved for k in known]
        out: dict[str, Any] = orjson.loads(json_bytes(body))
        if object_class == "entity":
            role = REGISTRAR_ROLE if REGISTRAR_ROLE in _roles(out) else LOOKED_UP
            return self._entity(out, role, emptied), declarations
        self._entities(out, emptied)
        return out, declarations

    def _entities(self, holder: dict[str, Any], emptied: frozenset[tuple[str, str]]) -> None:
        """Rewrites the entities `holder` holds, in place (they are its plain copy's)."""
        entities = holder.get("entities")
        if type(entities) is not list:
            return
        for index, entity in enumerate(entities):
            if type(entity) is dict:
                roles = _roles(entity)
                role = roles[0] if roles and type(roles[0]) is str else ""
                entities[index] = self._entity(entity, role, emptied)

    def _entity(
        self, entity: dict[str, Any], role: str, emptied: frozenset[tuple[str, str]]
    ) -> dict[str, Any]:
        self._entities(entity, emptied)
        if "vcardArray" not in entity:
            return entity
        card = self._card(entity["vcardArray"], role, emptied)
        return {
            (jscontact.MEMBER if key == "vcardArray" else key): (
                card if key == "vcardArray" else value
            )
            for key, value in entity.items()
        }

    def _card(
        self, vcard: Any, role: str, emptied: frozenset[tuple[str, str]]
    ) -> Mapping[str, Any]:
        """The JSContact card for a redacted jCard, written once per (jCard, role, emptied
        elements): the same registrar, abuse desk or contact recurs in many answers."""
        text = orjson.dumps(vcard)
        key = (text, role, emptied)
        card = self._cards.get(key)
        if card is None:
            if len(self._cards) >= self._memo_limit:
                self._cards.clear()
            card = self._cards[key] = jscontact.card_json(
                read_card({"vcardArray": vcard}),
                role=role,
                emptied={field for of, field in emptied if of == role},
                source=text,
            )
        return card

    def _known(self, entry: Mapping[str, Any]) -> _Known:
        known = self._memo.get(id(entry))
        if known is None or known.entry is not entry:
            if len(self._memo) >= self._memo_limit:
                self._memo.clear()
            place = self._fields.get(declared_name(entry))
            emptied = place[:2] if place is not None and place[2] == "emptyValue" else None
            known = self._memo[id(entry)] = _Known(entry, self._moved(entry), emptied)
        return known

    def _moved(self, entry: Mapping[str, Any]) -> Mapping[str, Any]:
        pairs = self._moves.get(declared_name(entry))
        if pairs is None:
            return entry
        moved = dict(entry)  # its values are immutable (strings, frozen objects)
        for key in _PATH_KEYS:
            path = moved.get(key)
            if type(path) is not str:
                continue
            for old, new in pairs:
                if path.endswith(old):
                    moved[key] = path[: len(path) - len(old)] + new
                    break
        return moved

    def reverse_search_properties(
        self, mapping: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """RFC 9536 property mappings with the JSContact paths of contact properties."""
        return [
            {**entry, "propertyPath": self.property_paths[entry["property"]]}
            if entry.get("property") in self.property_paths
            else dict(entry)
            for entry in mapping
        ]
