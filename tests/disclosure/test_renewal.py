"""Renewal reminders (acceptance criterion 27): `rdapd notify` queues one per threshold (60, 30
and 7 days before valid_until) on a frozen clock, never twice, none for an accreditation that
expired or was revoked, and a new set after a renewal."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import select

from rdap.db import Database
from rdap.disclosure import renewal, service
from rdap.document import rdap_time
from rdap.models import Accreditation, Notification, RenewalReminder
from rdap.settings import Settings, SettingsError
from tests.disclosure_fixtures import (
    OPERATOR,
    START,
    Accredit,
    Caller,
    FrozenClock,
    MakeCaller,
    context,
)

DAY = dt.timedelta(days=1)


@pytest.fixture
def org(accredit: Accredit, caller: MakeCaller) -> dict[str, Any]:
    """An accreditation running out in 100 days, with an addressed requester, one without an
    address, two reviewers, and a reviewer of the organisation itself."""
    accreditation = accredit("CERT A", valid_until=START + 100 * DAY)
    people: dict[str, Caller] = {
        "requester": caller(accreditation=accreditation, email="requests@cert-a.example"),
        "quiet": caller(accreditation=accreditation),
        "staff": caller("staff", org="Registry", email="review@registry.example"),
        "other_staff": caller("staff", email="duty@registry.example"),
        "conflicted": caller("staff", org="CERT A", email="insider@cert-a.example"),
    }
    return {"id": accreditation, "people": people}


RECIPIENTS = {"requests@cert-a.example", "review@registry.example", "duty@registry.example"}


def _reminders(db: Database) -> list[Notification]:
    with db.read_scope() as session:
        rows = list(
            session.scalars(
                select(Notification)
                .where(Notification.event == renewal.RENEWAL_DUE)
                .order_by(Notification.id)
            )
        )
        session.expunge_all()
        return rows


def _notify(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["notify"])
    assert result.exit_code == 0, result.output


def _pass_at(app: Any, clock: FrozenClock, at: dt.timedelta) -> list[Notification]:
    """Run `rdapd notify` at START + at: the reminders it queued."""
    clock.now = START + at
    before = {m.id for m in _reminders(app.extensions["rdapd"].db)}
    _notify(app)
    return [m for m in _reminders(app.extensions["rdapd"].db) if m.id not in before]


def test_each_threshold_sends_once(
    app: Any, db: Database, clock: FrozenClock, org: dict[str, Any]
) -> None:
    assert _pass_at(app, clock, DAY) == []  # 99 days left
    assert _pass_at(app, clock, 39 * DAY) == []  # 61 days left
    sixty = _pass_at(app, clock, 40 * DAY)
    assert {m.recipient for m in sixty} == RECIPIENTS
    assert {(m.recipient, m.audience) for m in sixty} >= {("requests@cert-a.example", "requester")}
    expiry = rdap_time(START + 100 * DAY)
    for message in sixty:
        assert message.request_id is None
        assert message.subject == f"Accreditation {org['id']}: renewal due, expires {expiry}"
        assert f"The accreditation {org['id']} of CERT A expires on {expiry}" in message.body
        assert "in 60 days" in message.body
        # Nothing about anyone else: no client ids, no other addresses.
        for person in org["people"].values():
            assert person.client_id not in message.body
        assert "@" not in message.body
    assert _pass_at(app, clock, 40 * DAY) == []  # the same pass again
    assert _pass_at(app, clock, 50 * DAY) == []
    thirty = _pass_at(app, clock, 70 * DAY + dt.timedelta(hours=1))
    assert {m.recipient for m in thirty} == RECIPIENTS
    assert "in 30 days" in thirty[0].body
    assert _pass_at(app, clock, 80 * DAY) == []
    seven = _pass_at(app, clock, 93 * DAY)
    assert {m.recipient for m in seven} == RECIPIENTS
    assert "in 7 days" in seven[0].body
    assert _pass_at(app, clock, 99 * DAY) == []
    assert _pass_at(app, clock, 101 * DAY) == []  # expired by this pass's sweep
    assert len(_reminders(db)) == 3 * len(RECIPIENTS)
    with db.read_scope() as session:
        recorded = session.scalars(select(RenewalReminder.days).order_by(RenewalReminder.days))
        assert list(recorded) == [7, 30, 60]
        status = session.get_one(Accreditation, org["id"]).status
    assert status == service.EXPIRED


def test_revoked_expired_and_suspended_accreditations_get_none(
    app: Any, db: Database, clock: FrozenClock, accredit: Accredit, caller: MakeCaller
) -> None:
    revoked = accredit("CERT R", valid_until=START + 50 * DAY)
    expiring = accredit("CERT E", valid_until=START + 5 * DAY)
    suspended = accredit("CERT S", valid_until=START + 20 * DAY)
    for accreditation, address in [
        (revoked, "r@cert-r.example"),
        (expiring, "e@cert-e.example"),
        (suspended, "s@cert-s.example"),
    ]:
        caller(accreditation=accreditation, email=address)
    caller("staff", email="duty@registry.example")
    with context(db, START) as ctx:
        service.revoke_accreditation(ctx, revoked, "credentials leaked", OPERATOR)
        service.suspend_accreditation(ctx, suspended, "under review", OPERATOR)
    assert _pass_at(app, clock, 6 * DAY) == []  # CERT E ran out: the sweep expires it first
    assert _pass_at(app, clock, 45 * DAY) == []
    with db.read_scope() as session:
        assert session.scalar(select(RenewalReminder.days)) is None


def test_a_renewed_accreditation_is_reminded_again_for_its_new_period(
    app: Any, db: Database, clock: FrozenClock, org: dict[str, Any]
) -> None:
    assert len(_pass_at(app, clock, 40 * DAY)) == len(RECIPIENTS)  # 60 days
    assert len(_pass_at(app, clock, 70 * DAY)) == len(RECIPIENTS)  # 30 days
    renewed_until = START + 465 * DAY
    with context(db, START + 75 * DAY) as ctx:
        service.renew_accreditation(ctx, org["id"], renewed_until, OPERATOR)
    assert _pass_at(app, clock, 75 * DAY) == []
    assert _pass_at(app, clock, 93 * DAY) == []  # 7 days before the old date: nothing
    again = _pass_at(app, clock, 405 * DAY)
    assert {m.recipient for m in again} == RECIPIENTS
    assert all("in 60 days" in m.body for m in again)
    expiry = rdap_time(renewed_until)
    assert all(m.subject.endswith(f"expires {expiry}") for m in again)
    assert _pass_at(app, clock, 406 * DAY) == []


def test_thresholds_crossed_together_send_one_message(
    app: Any, db: Database, clock: FrozenClock, accredit: Accredit, caller: MakeCaller
) -> None:
    short = accredit("CERT T", valid_until=START + 20 * DAY)
    caller(accreditation=short, email="t@cert-t.example")
    first = _pass_at(app, clock, dt.timedelta(0))
    assert [m.recipient for m in first] == ["t@cert-t.example"]
    assert "in 20 days" in first[0].body
    with db.read_scope() as session:
        assert set(session.scalars(select(RenewalReminder.days))) == {60, 30}
    assert _pass_at(app, clock, 12 * DAY) == []
    assert len(_pass_at(app, clock, 13 * DAY)) == 1  # 7 days left


def test_thresholds_are_configurable(db: Database, accredit: Accredit, caller: MakeCaller) -> None:
    accreditation = accredit("CERT C", valid_until=START + 20 * DAY)
    caller(accreditation=accreditation, email="c@cert-c.example")
    for at, expected in [(0, 0), (5, 0), (10, 1), (11, 0), (18, 1), (19, 0)]:
        with context(db, START + at * DAY) as ctx:
            assert renewal.remind(ctx.session, ctx.now, (10, 2)) == expected, at
    with context(db, START + 19 * DAY) as ctx:
        assert renewal.remind(ctx.session, ctx.now, ()) == 0
    settings = Settings.from_env({"RDAP_DISCLOSURE_RENEWAL_REMINDER_DAYS": "90, 14"})
    assert settings.disclosure_renewal_reminder_days == (90, 14)
    assert Settings().disclosure_renewal_reminder_days == (60, 30, 7)
    assert (
        Settings.from_env(
            {"RDAP_DISCLOSURE_RENEWAL_REMINDER_DAYS": ""}
        ).disclosure_renewal_reminder_days
        == ()
    )
    for bad in ("soon", "30,0", "-7"):
        with pytest.raises(SettingsError, match="RDAP_DISCLOSURE_RENEWAL_REMINDER_DAYS"):
            Settings.from_env({"RDAP_DISCLOSURE_RENEWAL_REMINDER_DAYS": bad})


def test_passes_running_at_once_queue_one_set(
    db: Database, accredit: Accredit, caller: MakeCaller
) -> None:
    accreditation = accredit("CERT P", valid_until=START + 50 * DAY)
    caller(accreditation=accreditation, email="p@cert-p.example")
    start = threading.Barrier(4)
    counts: list[int] = []
    errors: list[BaseException] = []

    def notify_pass() -> None:
        try:
            start.wait(timeout=10)
            with context(db, START) as ctx:
                counts.append(renewal.remind(ctx.session, ctx.now, (60, 30, 7)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=notify_pass) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(counts) == [0, 0, 0, 1]
    assert len(_reminders(db)) == 1
    # The key itself refuses a second record of one threshold for one period.
    with pytest.raises(sqlalchemy.exc.IntegrityError), db.session_scope() as session:
        session.add(
            RenewalReminder(
                accreditation_id=accreditation,
                valid_until=START + 50 * DAY,
                days=60,
                queued_at=START,
            )
        )
