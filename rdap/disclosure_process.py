"""The published disclosure-request process (ICANN Registration Data Policy §10.1, NIS2 Art.
28(5)): what a request must contain, how answers are delivered, the timelines — all taken from
configuration (the policy files, the service profile and the SLA settings), never typed twice."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from rdap.principal import PURPOSES
from rdap.profile import Profile
from rdap.redaction import Policy

# Contact roles whose elements a request can name (the reporter of a complaint is not one).
REQUESTABLE_ROLES = ("registrant", "administrative", "technical", "billing")

# The request fields of the disclosure API (shared/disclosure-api.md), in the words of the page.
REQUEST_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("domain", "The domain name, registered in this registry (A-label or U-label).", True),
    ("purpose", "The purpose of the request: one of your accreditation's purposes.", True),
    (
        "legal_basis",
        "The legal basis, e.g. \u201cGDPR 6(1)(f)\u201d or a statute or warrant reference.",
        True,
    ),
    (
        "rationale",
        "Why each data element is necessary for the purpose (at least 30 characters).",
        True,
    ),
    ("data_elements", "The data elements requested, each named (no wildcard).", True),
    (
        "priority",
        "Standard, or urgent: only law enforcement, only for an imminent threat to life, serious"
        " bodily injury, critical infrastructure or child exploitation, with a justification.",
        False,
    ),
    (
        "confidential",
        "Whether the registrant must not be told of the request (law enforcement).",
        False,
    ),
    (
        "tlp",
        "A Traffic Light Protocol 2.0 label for the request (default TLP:AMBER+STRICT).",
        False,
    ),
    (
        "good_faith_affirmation",
        "Your affirmation that the request is made in good faith and the data will be used only"
        " for the stated purpose.",
        True,
    ),
)


@dataclasses.dataclass(frozen=True)
class Timelines:
    """How long each step may take: the disclosure SLA settings (rdap.disclosure.sla)."""

    standard_hours: int
    urgent_hours: int
    # Days a request waits for information the reviewer asked for before it is closed (0: never).
    information_days: int


@dataclasses.dataclass(frozen=True)
class RequestableElement:
    id: str
    name: str
    reason: str


@dataclasses.dataclass(frozen=True)
class DisclosureProcess:
    operator_name: str
    fields: tuple[tuple[str, str, bool], ...]
    elements: tuple[RequestableElement, ...]
    purposes: tuple[str, ...]
    delivery: tuple[str, ...]
    contact: tuple[str, ...]
    timelines: Timelines


def requestable_elements(
    policy: Policy, roles: Iterable[str] = REQUESTABLE_ROLES
) -> tuple[RequestableElement, ...]:
    """The personal elements of the contact roles: what the policy hides and a grant can show."""
    wanted = tuple(roles)
    found = [
        RequestableElement(element.id, element.name, element.reason)
        for element in policy.elements.values()
        if element.personal and element.role in wanted and element.part is None
    ]
    return tuple(sorted(found, key=lambda e: (wanted.index(e.id.split(".")[0]), e.id)))


def describe(profile: Profile, policy: Policy, timelines: Timelines) -> DisclosureProcess:
    return DisclosureProcess(
        operator_name=profile.operator_name,
        fields=REQUEST_FIELDS,
        elements=requestable_elements(policy),
        purposes=tuple(sorted(PURPOSES)),
        delivery=profile.disclosure_delivery,
        contact=profile.disclosure_contact,
        timelines=timelines,
    )
