"""Disclosure workflow: the request states and every allowed transition, as one table.

A transition not in TRANSITIONS does not happen: `transition()` refuses it with 409 (the
state does not allow it) or 403 (this kind of actor may never do it), before anything changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from rdap.errors import Conflict, Forbidden

# --- states (the API's `status` values) ---------------------------------------------------------
ACKNOWLEDGED = "acknowledged"  # valid, complete and queued for review
INFORMATION_REQUESTED = "information_requested"  # waiting for the requester; SLA clock paused
APPROVED = "approved"  # every requested element granted
PARTIALLY_APPROVED = "partially_approved"  # some requested elements granted
DENIED = "denied"
CANCELLED = "cancelled"
EXPIRED = "expired"  # the grant ran out
REVOKED = "revoked"  # the grant was ended early
STATUSES = (
    ACKNOWLEDGED,
    INFORMATION_REQUESTED,
    APPROVED,
    PARTIALLY_APPROVED,
    DENIED,
    CANCELLED,
    EXPIRED,
    REVOKED,
)
OPEN = frozenset({ACKNOWLEDGED, INFORMATION_REQUESTED})  # awaiting a decision
GRANTED = frozenset({APPROVED, PARTIALLY_APPROVED})  # a grant is in force
DECIDED = frozenset({APPROVED, PARTIALLY_APPROVED, DENIED, EXPIRED, REVOKED})

# --- who acts ----------------------------------------------------------------------------------
OWNER = "requester"  # the client that submitted the request (requester or law enforcement)
STAFF = "staff"  # a reviewer
SYSTEM = "system"  # the service itself: clocks, cascades
ACTORS = (OWNER, STAFF, SYSTEM)

# --- actions -----------------------------------------------------------------------------------
SUBMIT = "submit"
REQUEST_INFORMATION = "request_information"
PROVIDE_INFORMATION = "provide_information"
APPROVE = "approve"
APPROVE_PARTIALLY = "approve_partially"
DENY = "deny"
RECLASSIFY = "reclassify"
CANCEL = "cancel"
INFORMATION_TIMEOUT = "information_timeout"
GRANT_EXPIRY = "grant_expiry"
REVOKE_GRANT = "revoke_grant"
ACCREDITATION_ENDED = "accreditation_ended"


@dataclasses.dataclass(frozen=True)
class Transition:
    action: str
    source: str | None  # None: the request does not exist yet
    target: str
    actor: str
    note: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition(SUBMIT, None, ACKNOWLEDGED, OWNER, "validated in full, then acknowledged at once"),
    Transition(REQUEST_INFORMATION, ACKNOWLEDGED, INFORMATION_REQUESTED, STAFF, "clock pauses"),
    Transition(PROVIDE_INFORMATION, INFORMATION_REQUESTED, ACKNOWLEDGED, OWNER, "clock resumes"),
    Transition(APPROVE, ACKNOWLEDGED, APPROVED, STAFF, "all requested elements, 1-90 days"),
    Transition(APPROVE_PARTIALLY, ACKNOWLEDGED, PARTIALLY_APPROVED, STAFF, "with rationale"),
    Transition(DENY, ACKNOWLEDGED, DENIED, STAFF, "reason codes and rationale"),
    Transition(DENY, INFORMATION_REQUESTED, DENIED, STAFF, "e.g. incomplete_request"),
    Transition(RECLASSIFY, ACKNOWLEDGED, ACKNOWLEDGED, STAFF, "priority and due time change"),
    Transition(RECLASSIFY, INFORMATION_REQUESTED, INFORMATION_REQUESTED, STAFF, "as above"),
    Transition(CANCEL, ACKNOWLEDGED, CANCELLED, OWNER, "withdrawn while open"),
    Transition(CANCEL, INFORMATION_REQUESTED, CANCELLED, OWNER, "withdrawn while open"),
    Transition(INFORMATION_TIMEOUT, INFORMATION_REQUESTED, CANCELLED, SYSTEM, "no answer"),
    Transition(ACCREDITATION_ENDED, ACKNOWLEDGED, CANCELLED, SYSTEM, "revoked or expired"),
    Transition(ACCREDITATION_ENDED, INFORMATION_REQUESTED, CANCELLED, SYSTEM, "as above"),
    Transition(ACCREDITATION_ENDED, APPROVED, REVOKED, SYSTEM, "the grant ends with it"),
    Transition(ACCREDITATION_ENDED, PARTIALLY_APPROVED, REVOKED, SYSTEM, "as above"),
    Transition(GRANT_EXPIRY, APPROVED, EXPIRED, SYSTEM, "valid_until passed"),
    Transition(GRANT_EXPIRY, PARTIALLY_APPROVED, EXPIRED, SYSTEM, "valid_until passed"),
    Transition(REVOKE_GRANT, APPROVED, REVOKED, STAFF, "ended early, reason recorded"),
    Transition(REVOKE_GRANT, PARTIALLY_APPROVED, REVOKED, STAFF, "ended early, reason recorded"),
)
ACTIONS = tuple(dict.fromkeys(t.action for t in TRANSITIONS))

_TABLE: Mapping[tuple[str | None, str], Transition] = {(t.source, t.action): t for t in TRANSITIONS}
_ACTOR_OF = {t.action: t.actor for t in TRANSITIONS}
# What a refused transition tells the caller (the request's state is theirs to know).
_WHY = {
    ACKNOWLEDGED: "the request is awaiting a decision",
    INFORMATION_REQUESTED: "the request is waiting for information from the requester",
    APPROVED: "the request has been approved",
    PARTIALLY_APPROVED: "the request has been partially approved",
    DENIED: "the request has been denied",
    CANCELLED: "the request has been cancelled",
    EXPIRED: "the request's grant has expired",
    REVOKED: "the request's grant has been revoked",
}


def allowed(status: str | None, action: str) -> bool:
    return (status, action) in _TABLE


def transition(status: str | None, action: str, actor: str) -> str:
    """The state after `action` by `actor` from `status`; refuses anything not in the table."""
    if action not in _ACTOR_OF or actor not in ACTORS:
        raise ValueError(f"unknown action {action!r} or actor {actor!r}")
    if _ACTOR_OF[action] != actor:
        raise Forbidden(f"a {actor} may not {action.replace('_', ' ')} a disclosure request")
    found = _TABLE.get((status, action))
    if found is None:
        why = _WHY.get(status or "", "the request does not exist")
        raise Conflict(f"cannot {action.replace('_', ' ')}: {why}")
    return found.target
