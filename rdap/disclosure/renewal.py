"""Renewal reminders: before an active accreditation's valid_until, tell its requesters and
the reviewers that it must be renewed, once per threshold (60, 30 and 7 days by default).

`rdapd notify` queues them into the outbox on each pass, after the sweep and in its
transaction. Which thresholds were queued is recorded per accreditation and validity period
(`disclosure_renewal_reminders`, keyed by accreditation, valid_until and days), so a pass
queues nothing twice, whichever notify process runs it, and a renewal (which moves
valid_until) starts a new set. Where several thresholds are crossed at once (a short
accreditation, or no pass for weeks) one message goes, for the nearest, and all are recorded:
a 60-day reminder 20 days before expiry would only mislead.

A reminder names the organisation, the accreditation id and the expiry date, nothing more.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from rdap import audit
from rdap.disclosure import notify
from rdap.document import rdap_time
from rdap.models import (
    Accreditation,
    DisclosureClient,
    Notification,
    OAuthClient,
    Organisation,
    RenewalReminder,
)
from rdap.models.client import ACTIVE as CLIENT_ACTIVE
from rdap.principal import ACCREDITATION_ACTIVE

RENEWAL_DUE = "renewal_due"  # the outbox event


def remind(session: Session, now: dt.datetime, thresholds: Iterable[int]) -> int:
    """Queue the reminders due at `now`, in the caller's transaction (opened with
    `audit.writing`: writers queue one after another, so two passes never both see a
    threshold unsent). Returns the number of accreditations reminded."""
    days = sorted({d for d in thresholds if d > 0}, reverse=True)
    if not days:
        return 0
    audit.lock(session)
    horizon = now + dt.timedelta(days=days[0])
    due = session.execute(
        select(Accreditation, Organisation.name)
        .join(Organisation, Organisation.id == Accreditation.organisation_id)
        .where(
            Accreditation.status == ACCREDITATION_ACTIVE,
            Accreditation.valid_until > now,
            Accreditation.valid_until <= horizon,
        )
        .order_by(Accreditation.valid_until, Accreditation.id)
    ).all()
    reminded = 0
    for accreditation, organisation in due:
        crossed = [d for d in days if now >= accreditation.valid_until - dt.timedelta(days=d)]
        done = set(
            session.scalars(
                select(RenewalReminder.days).where(
                    RenewalReminder.accreditation_id == accreditation.id,
                    RenewalReminder.valid_until == accreditation.valid_until,
                )
            )
        )
        new = [d for d in crossed if d not in done]
        if not new:
            continue
        session.add_all(
            RenewalReminder(
                accreditation_id=accreditation.id,
                valid_until=accreditation.valid_until,
                days=d,
                queued_at=now,
            )
            for d in new
        )
        # A threshold added to the settings after a nearer one was sent is recorded only.
        if min(new) < min(done, default=math.inf):
            session.add_all(_messages(session, accreditation, organisation, now))
            reminded += 1
    session.flush()
    return reminded


def _messages(
    session: Session, accreditation: Accreditation, organisation: str, now: dt.datetime
) -> list[Notification]:
    requesters = session.scalars(
        select(DisclosureClient.email)
        .join(OAuthClient, OAuthClient.client_id == DisclosureClient.client_id)
        .where(
            DisclosureClient.accreditation_id == accreditation.id,
            OAuthClient.status == CLIENT_ACTIVE,
            DisclosureClient.email.is_not(None),
        )
        .order_by(DisclosureClient.client_id)
    ).all()
    reviewers = notify.reviewer_addresses(session, accreditation.organisation_id)
    left = math.ceil((accreditation.valid_until - now) / dt.timedelta(days=1))
    expires = rdap_time(accreditation.valid_until)
    subject = f"Accreditation {accreditation.id}: renewal due, expires {expires}"
    body = "\n".join(
        [
            f"The accreditation {accreditation.id} of {organisation} expires on {expires}, "
            f"in {left} day{'s' if left != 1 else ''}.",
            "",
            "Unless it is renewed before then, its clients can no longer submit disclosure",
            "requests (403 accreditation_expired), its open requests are closed and its",
            "grants end. Renewal is arranged with the registry.",
            "",
            "This message holds no other data.",
        ]
    )
    audiences = [(notify.REQUESTER_AUDIENCE, a) for a in dict.fromkeys(a for a in requesters if a)]
    audiences += [(notify.REVIEWER_AUDIENCE, a) for a in reviewers]
    return [
        Notification(
            created_at=now,
            event=RENEWAL_DUE,
            audience=audience,
            recipient=address,
            request_id=None,
            subject=subject[:255],
            body=body + "\n",
            status=notify.PENDING,
            attempts=0,
            next_attempt_at=now,
        )
        for audience, address in audiences
    ]
