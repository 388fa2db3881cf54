"""Document: model rows → the full RDAP object (RFC 9083), nothing hidden yet, plus the facts
that redaction policies decide on (person kind, consent, sponsor) — facts no renderer sees."""

from __future__ import annotations

import dataclasses
from typing import Any

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
