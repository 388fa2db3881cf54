"""A full domain document as rdap.document builds it: four contacts, a registrar with abuse."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rdap.document import EntityFacts, FullDocument, Subject

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
DOMAIN = "example.post"
SPONSOR_ID = 7
OTHER_REGISTRAR_ID = 8

ROLE_LABELS = {
    "registrant": "Registrant",
    "administrative": "Admin",
    "technical": "Tech",
    "billing": "Billing",
}


def entity_path(role: str) -> str:
    return f"$.entities[?(@.roles[0]=='{role}')]"


def contact(role: str, n: int, *, org: bool = True, ext: bool = True) -> dict[str, Any]:
    """A contact entity whose every personal value is unique (so leaks can be searched for)."""
    props: list[Any] = [
        ["version", {}, "text", "4.0"],
        ["fn", {}, "text", f"Person{n} Name{role}"],
    ]
    if org:
        props.append(["org", {}, "text", f"Org{n} {role} Post"])
    props += [
        [
            "adr",
            {"cc": "CH"},
            "text",
            [
                "",
                "",
                [f"Street{n}a {role}", f"Street{n}b {role}"],
                f"City{n}{role}",
                "BE",
                f"30{n}0",
                "",
            ],
        ],
        ["tel", {"type": "voice"}, "uri", f"tel:+41.3112345{n}{f';ext=8{n}8{n}' if ext else ''}"],
        ["tel", {"type": "fax"}, "uri", f"tel:+41.3176543{n};ext=9{n}9{n}"],
        ["email", {}, "text", f"person{n}@{role}.example"],
    ]
    return {
        "objectClassName": "entity",
        "handle": f"C{n}00{n}-POST",
        "roles": [role],
        "vcardArray": ["vcard", props],
        "remarks": [
            {"title": "Contact verification", "description": [f"email verified by token{n}x"]},
        ],
        "events": [{"eventAction": "registration", "eventDate": "2024-01-01T00:00:00Z"}],
        "status": ["validated"],
    }


REGISTRAR_ENTITY: dict[str, Any] = {
    "objectClassName": "entity",
    "handle": "9999",
    "roles": ["registrar"],
    "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}],
    "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Good Registrar"]]],
    "links": [
        {"rel": "about", "href": "https://registrar.example", "value": "https://registrar.example"}
    ],
    "entities": [
        {
            "objectClassName": "entity",
            "roles": ["abuse"],
            "vcardArray": [
                "vcard",
                [
                    ["version", {}, "text", "4.0"],
                    ["fn", {}, "text", "Abuse Desk"],
                    ["tel", {"type": "voice"}, "uri", "tel:+41.310000000"],
                    ["email", {}, "text", "abuse@registrar.example"],
                ],
            ],
        }
    ],
}

CONTACT_ROLES = ("registrant", "administrative", "technical", "billing")


def domain_document(
    *,
    person_kind: str = "natural",
    consent: frozenset[str] = frozenset(),
    registrar_id: int = SPONSOR_ID,
    kinds: dict[str, str] | None = None,
) -> FullDocument:
    """The sample domain. `kinds` overrides the person kind per contact role."""
    kinds = kinds or {}
    contacts = [contact(role, n) for n, role in enumerate(CONTACT_ROLES, start=1)]
    body: dict[str, Any] = {
        "objectClassName": "domain",
        "handle": "D1234-POST",
        "ldhName": DOMAIN,
        "status": ["active"],
        "events": [
            {"eventAction": "registration", "eventDate": "2024-01-01T00:00:00Z"},
            {"eventAction": "expiration", "eventDate": "2027-01-01T00:00:00Z"},
        ],
        "nameservers": [{"objectClassName": "nameserver", "ldhName": "ns1.example.post"}],
        "secureDNS": {
            "delegationSigned": True,
            "dsData": [{"keyTag": 1, "algorithm": 13, "digestType": 2, "digest": "AB" * 32}],
        },
        "links": [
            {
                "rel": "self",
                "href": "https://rdap.example/domain/example.post",
                "value": "https://rdap.example/domain/example.post",
            }
        ],
        "entities": [REGISTRAR_ENTITY, *contacts],
    }
    facts = tuple(
        EntityFacts(
            path=entity_path(role),
            role=role,
            handle=f"C{n}00{n}-POST",
            person_kind=kinds.get(role, person_kind),
            publish_consent=consent,
            registrar_id=registrar_id,
        )
        for n, role in enumerate(CONTACT_ROLES, start=1)
    )
    subject = Subject("domain", DOMAIN, registrar_id, frozenset({DOMAIN}))
    return FullDocument(body=body, subject=subject, entities=facts)


def entity_document(
    *, person_kind: str = "natural", consent: frozenset[str] = frozenset()
) -> FullDocument:
    """A top-level entity lookup: the contact entity is the whole body."""
    body = contact("registrant", 5)
    body["roles"] = ["registrant"]
    facts = EntityFacts("$", "contact", "C5005-POST", person_kind, consent, SPONSOR_ID)
    subject = Subject("entity", "C5005-POST", SPONSOR_ID, frozenset({DOMAIN}))
    return FullDocument(body=body, subject=subject, entities=(facts,))


def personal_values(entity: dict[str, Any]) -> dict[str, list[str]]:
    """field → the literal strings that must not appear when that field is redacted."""
    props = {p[0] if p[0] != "tel" else p[1]["type"]: p for p in entity["vcardArray"][1]}
    adr = props["adr"][3]
    values: dict[str, list[str]] = {
        "handle": [entity["handle"]],
        "name": [props["fn"][3]],
        "street": list(adr[2]) if isinstance(adr[2], list) else [adr[2]],
        "city": [adr[3]],
        "postal_code": [adr[5]],
        "phone": [props["voice"][3].split(";")[0]],
        "fax": [props["fax"][3].split(";")[0]],
        "email": [props["email"][3]],
        "verification": [entity["remarks"][0]["description"][0]],
    }
    if "org" in props:
        values["org"] = [props["org"][3]]
    for field, kind in (("phone_ext", "voice"), ("fax_ext", "fax")):
        uri = props[kind][3]
        if ";ext=" in uri:
            values[field] = [uri.split(";ext=")[1]]
    return values
