"""What redaction does to a contact card beyond hiding values, per contact format (rdap.cards):
where a phone's tel URI sits below its element (a stripped extension is declared there), how the
contact form's URI is added when a hidden element asks for one (RFC 8605), and how a card is
finished (a JSContact card: no empty maps, one empty street line).

Each step gets the redacted entity (a copy) and the ids of the containers already copied for
this answer: anything else may be shared with the full document and other answers, so it is
replaced by a copy (jsonpath.writable) before it changes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from rdap import cards
from rdap.redaction import jsonpath


@dataclasses.dataclass(frozen=True)
class CardSteps:
    tel_value: jsonpath.JsonPath  # the tel URI, relative to a phone element's location
    tel_suffix: str  # the same, as text after `$`
    add_contact_uri: Callable[[dict[str, Any], str, set[int]], None]
    finish: Callable[[dict[str, Any], set[int]], None]


def _jcard_contact_uri(entity: dict[str, Any], uri: str, copied: set[int]) -> None:
    vcard = entity.get(cards.MEMBER[cards.JCARD])
    if type(vcard) is list and len(vcard) > 1 and type(vcard[1]) is list:
        vcard = jsonpath.writable(entity, cards.MEMBER[cards.JCARD], copied)
        jsonpath.writable(vcard, 1, copied).append(["contact-uri", {}, "uri", uri])


def _jcard_finish(entity: dict[str, Any], copied: set[int]) -> None:
    """A jCard needs nothing more: every value stays where it was."""


_JSCARD = cards.MEMBER[cards.JSCONTACT]


def _jscontact_contact_uri(entity: dict[str, Any], uri: str, copied: set[int]) -> None:
    if type(entity.get(_JSCARD)) is dict:
        card = jsonpath.writable(entity, _JSCARD, copied)
        links = card.get("links")
        card["links"] = {**(links if type(links) is dict else {}), **cards.jscontact_link(uri)}


# The Id maps of a card that removals can leave empty (RFC 9553: a map is never empty).
_MAPS = ("organizations", "addresses", "phones", "emails")


def _jscontact_finish(entity: dict[str, Any], copied: set[int]) -> None:
    """A card redaction changed (copied on the way) loses the maps whose every entry was
    removed, and an emptied street of several lines becomes one empty component (the number
    of lines is not shown; jCard empties the whole street to one "")."""
    card = entity.get(_JSCARD)
    if type(card) is not dict or id(card) not in copied:
        return
    for name in _MAPS:
        if card.get(name) == {}:
            del card[name]
    addresses = card.get("addresses")
    if type(addresses) is dict and id(addresses) in copied:
        for address in addresses.values():
            components = address.get("components") if type(address) is dict else None
            if (
                type(components) is list
                and len(components) > cards.ONE_LINE_ADDRESS
                and id(components) in copied
            ):
                _one_empty_street(address, components)


def _one_empty_street(address: dict[str, Any], components: list[Any]) -> None:
    kept: list[Any] = []
    seen = False
    for component in components:
        empty = (
            type(component) is dict
            and component.get("kind") == "name"
            and component.get("value") == ""
        )
        if not (empty and seen):
            kept.append(component)
        seen = seen or empty
    if len(kept) < len(components):
        address["components"] = kept


def _steps(
    contact_format: str,
    add_contact_uri: Callable[[dict[str, Any], str, set[int]], None],
    finish: Callable[[dict[str, Any], set[int]], None],
) -> CardSteps:
    tel = cards.TEL_VALUE[contact_format]
    return CardSteps(jsonpath.parse("$" + tel), tel, add_contact_uri, finish)


STEPS = {
    cards.JCARD: _steps(cards.JCARD, _jcard_contact_uri, _jcard_finish),
    cards.JSCONTACT: _steps(cards.JSCONTACT, _jscontact_contact_uri, _jscontact_finish),
}
