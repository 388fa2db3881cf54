"""Disclosure at query time: the grants one domain lookup needs, and for each answer that
discloses, its audit entry (written before the answer leaves) and its `Disclosure` notice."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import bindparam, select

from rdap import audit
from rdap.db import Database
from rdap.document import rdap_time
from rdap.lookup import LookupContext
from rdap.models import Accreditation, DisclosureGrant
from rdap.prepared import Prepared
from rdap.principal import ACCREDITATION_ACTIVE, LAW_ENFORCEMENT, REQUESTER, Grant, Principal
from rdap.redaction import RedactedDocument, with_notices

DISCLOSURE_NOTICE = "Disclosure"
ANSWER_EVENT = "disclosure.answer"

# The one read a disclosing lookup makes: this client's open grants for this domain and purpose
# (index ix_disclosure_grants_lookup). Times are compared in Python: there are few rows, and
# prepared statements take no converted parameters.
_GRANTS = Prepared(
    select(
        DisclosureGrant.id,
        DisclosureGrant.request_id,
        DisclosureGrant.accreditation_id,
        DisclosureGrant.domain_roid,
        DisclosureGrant.elements,
        DisclosureGrant.valid_from,
        DisclosureGrant.valid_until,
        Accreditation.status,
        Accreditation.valid_until.label("accreditation_until"),
    )
    .join(Accreditation, Accreditation.id == DisclosureGrant.accreditation_id)
    .where(
        DisclosureGrant.client_id == bindparam("client_id"),
        DisclosureGrant.domain == bindparam("domain"),
        DisclosureGrant.purpose == bindparam("purpose"),
        DisclosureGrant.ended_at.is_(None),
    )
)


@dataclasses.dataclass(frozen=True)
class DisclosureAccess:
    """What `rdap.lookup` asks of the disclosure workflow. Grants are read from the primary
    database, never a replica: a revoked grant must not live on in a lagging copy."""

    db: Database

    def grants(
        self, principal: Principal, domain: str, roid: str, now: dt.datetime
    ) -> tuple[Grant, ...]:
        """The caller's grants in force for this domain (name and ROID: a name deleted and
        registered again is another domain) and the purpose the query states. Only an
        accredited requester or law-enforcement client stating a purpose can have any."""
        affiliation = principal.affiliation
        if (
            principal.role not in (REQUESTER, LAW_ENFORCEMENT)
            or principal.purpose is None
            or principal.client_id is None
            or affiliation is None
            or affiliation.accreditation_id is None
            or affiliation.suspended
        ):
            return ()
        with self.db.primary_connection() as connection:  # a revoked grant must not lag
            rows = _GRANTS.rows(
                connection,
                client_id=principal.client_id,
                domain=domain,
                purpose=principal.purpose,
            )
        return tuple(
            Grant(
                grant_id=row["id"],
                domain=domain,
                elements=frozenset(row["elements"]),
                purpose=principal.purpose,
                expires_at=row["valid_until"],
                request_id=row["request_id"],
            )
            for row in rows
            if _in_force(row, roid, affiliation.accreditation_id, now)
        )

    def disclosed(
        self, document: RedactedDocument, principal: Principal, ctx: LookupContext
    ) -> RedactedDocument:
        """Record the disclosure (one entry per grant that showed something) and name it in a
        `Disclosure` notice. The entry is committed before the answer is returned: an answer
        whose disclosure could not be recorded is never sent."""
        used = [g for g in principal.grants if g.elements & document.disclosed]
        if not used:
            return document
        affiliation = principal.affiliation
        with audit.appending(self.db) as connection:
            for grant in used:
                audit.append(
                    connection,
                    audit.Event(
                        event=ANSWER_EVENT,
                        actor=principal.subject or principal.client_id or "",
                        actor_role=principal.role,
                        client_id=principal.client_id,
                        token_id=principal.token_id,
                        accreditation_id=affiliation.accreditation_id if affiliation else None,
                        request_id=grant.request_id,
                        grant_id=grant.grant_id,
                        domain=document.subject.key,
                        purpose=grant.purpose,
                        elements=tuple(sorted(grant.elements & document.disclosed)),
                        policy_revision=document.policy_revision,
                        detail={"channel": "rdap", "object": document.subject.object_class},
                    ),
                    now=ctx.now,
                )
        notices = [_notice(grant, document.disclosed, ctx) for grant in used]
        return with_notices(document, notices)


def _in_force(row: dict[str, Any], roid: str, accreditation_id: str, now: dt.datetime) -> bool:
    return bool(
        row["domain_roid"] == roid
        and row["accreditation_id"] == accreditation_id
        and row["valid_from"] <= now < row["valid_until"]
        and row["status"] == ACCREDITATION_ACTIVE
        and now < row["accreditation_until"]
    )


def _notice(grant: Grant, disclosed: frozenset[str], ctx: LookupContext) -> dict[str, Any]:
    elements = ", ".join(sorted(grant.elements & disclosed))
    return {
        "title": DISCLOSURE_NOTICE,
        "description": [
            f"This answer discloses {elements} to you under disclosure request "
            f"{grant.request_id} (grant {grant.grant_id}), for the purpose {grant.purpose}, "
            f"until {rdap_time(grant.expires_at)}.",
            "Use the disclosed data only for that purpose. This disclosure is recorded.",
        ],
        "links": [
            {
                "value": ctx.links.request_url,
                "rel": "related",
                "href": f"{ctx.links.base_url}/disclosure/requests/{grant.request_id}",
                "type": "application/json",
            }
        ],
    }
