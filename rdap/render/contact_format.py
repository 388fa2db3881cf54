"""Contact formats of RDAP JSON answers as the client sees them: which one a request asks for
(jCard by default, JSContact on request, draft-ietf-regext-rdap-jscontact), what /help says of
them, and the RFC 9536 property paths of contact values in each.

The format is chosen before anything is built: the channel puts it in the answer's Links, the
document builder writes every card in it (rdap.cards) and redaction hides and declares each
element at its location in that format (policies/elements.toml `path` / `paths`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rdap import cards
from rdap.cards import FORMATS, JCARD
from rdap.redaction import Policy

RDAP_MEDIA_TYPE = "application/rdap+json"
# What /help says of the formats offered (its rdapConformance also lists "jscontact").
HELP = (
    "Contact information is given as jCard (vcardArray, RFC 7095) unless the client asks for "
    "JSContact (RFC 9553, version 2.0 of RFC 9982, draft-ietf-regext-rdap-jscontact) with the "
    "request header "
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
            if name.strip().lower() == "exts_list":
                for contact_format in FORMATS:
                    if cards.CONFORMANCE[contact_format] in named:
                        return contact_format
    return JCARD


def property_mappings(
    policy: Policy, mapping: Sequence[Mapping[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Contact format → RFC 9536 property mappings (`mapping`, written for jCard) with the
    paths of contact values (fn, email) in that format, from the element catalogue."""
    name = next(e for e in policy.elements.values() if e.field == "name")
    email = next(e for e in policy.elements.values() if e.field == "email")
    out: dict[str, list[dict[str, Any]]] = {}
    for contact_format in FORMATS:
        paths = {
            "fn": "$.entities[*]" + name.suffixes[contact_format],
            "email": "$.entities[*]"
            + email.suffixes[contact_format]
            + cards.EMAIL_VALUE[contact_format],
        }
        out[contact_format] = [
            {**entry, "propertyPath": paths[entry["property"]]}
            if entry.get("property") in paths
            else dict(entry)
            for entry in mapping
        ]
    return out
