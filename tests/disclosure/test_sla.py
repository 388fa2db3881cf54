"""SLA clocks with a frozen clock: due times by priority, pauses, overdue (sticky), timeouts,
urgent rules and reclassification, configuration."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from rdap.db import Database
from rdap.disclosure.sla import SlaPolicy
from rdap.models import DisclosureRequest, SlaPause
from rdap.settings import Settings, SettingsError
from tests import factories
from tests.disclosure_fixtures import Accredit, Api, Caller, FrozenClock, MakeCaller

PURPOSE = "criminalInvestigationAndDNSAbuseMitigation"
URGENT = "An imminent threat to life: the page solicits a minor under a false identity."


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def domains(db: Database) -> None:
    with db.session_scope() as session:
        factories.full_domain(session, name="target.post", registrant_kind="natural")


@pytest.fixture
def requester(domains: None, accredit: Accredit, caller: MakeCaller) -> Caller:
    return caller(accreditation=accredit("CERT A"))


@pytest.fixture
def police(domains: None, accredit: Accredit, caller: MakeCaller) -> Caller:
    accreditation = accredit("Police X", org_type="law-enforcement", jurisdiction="DE")
    return caller("law-enforcement", accreditation=accreditation)


@pytest.fixture
def staff(caller: MakeCaller) -> Caller:
    return caller("staff")


def test_standard_is_72_hours_and_urgent_24_for_law_enforcement(
    api: Api, requester: Caller, police: Caller, clock: FrozenClock
) -> None:
    standard = api.submit(requester).get_json()
    assert _at(standard["due_at"]) - _at(standard["received_at"]) == dt.timedelta(hours=72)
    urgent = api.submit(police, priority="urgent", urgent_justification=URGENT, confidential=True)
    assert urgent.status_code == 201, urgent.get_json()
    body = urgent.get_json()
    assert body["priority"] == "urgent"
    assert body["confidential"] is True
    assert body["urgent_justification"] == URGENT
    assert _at(body["due_at"]) - _at(body["received_at"]) == dt.timedelta(hours=24)
    missing = api.submit(police, priority="urgent")
    assert missing.get_json()["errors"] == {
        "urgent_justification": ["required for an urgent request"]
    }


def test_pause_is_recorded_and_excluded(
    api: Api, db: Database, requester: Caller, staff: Caller, clock: FrozenClock
) -> None:
    request = api.submit(requester).get_json()
    request_id, due = request["id"], _at(request["due_at"])
    clock.advance(hours=10)
    api.decide(request_id, staff, action="request_information", rationale="Which campaign?")
    clock.advance(hours=100)  # past the original due time, but the clock stood still
    waiting = api.get(f"/disclosure/requests/{request_id}", requester).get_json()
    assert waiting["overdue"] is False
    assert waiting["sla_paused"] is True
    answered = api.post(
        f"/disclosure/requests/{request_id}/information",
        requester,
        {"rationale": "Campaign PH-17, see the CERT report sent on the same day."},
    ).get_json()
    assert _at(answered["due_at"]) == due + dt.timedelta(hours=100)
    assert answered["sla_pauses"] == [
        {"started_at": _iso(clock.now - dt.timedelta(hours=100)), "ended_at": _iso(clock.now)}
    ]
    assert answered["overdue"] is False
    with db.read_scope() as session:
        (pause,) = session.scalars(select(SlaPause)).all()
        assert pause.ended_at - pause.started_at == dt.timedelta(hours=100)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def test_overdue_is_flagged_listed_and_stays(
    app, api: Api, db: Database, requester: Caller, staff: Caller, clock: FrozenClock
) -> None:  # type: ignore[no-untyped-def]
    late = api.submit(requester).get_json()["id"]
    clock.advance(hours=1)
    on_time = api.submit(requester).get_json()["id"]
    clock.advance(hours=71, seconds=30)  # the first is 30 s late, the second not yet due
    result = app.test_cli_runner().invoke(args=["disclosure", "sweep"])
    assert result.exit_code == 0
    assert "newly overdue: 1" in result.output
    listed = api.get("/disclosure/requests?overdue=true", staff).get_json()["requests"]
    assert [r["id"] for r in listed] == [late]
    assert api.get(f"/disclosure/requests/{late}", requester).get_json()["overdue"] is True
    assert api.get(f"/disclosure/requests/{on_time}", requester).get_json()["overdue"] is False
    decided = api.decide(late, staff, action="approve", valid_days=3).get_json()
    assert decided["status"] == "approved"
    assert decided["overdue"] is True  # a late decision still counts as late
    assert [h["action"] for h in decided["history"]] == ["submit", "overdue", "approve"]
    with db.read_scope() as session:
        row = session.get(DisclosureRequest, late)
        assert row is not None
        assert row.overdue
        assert row.overdue_at == _at(decided["due_at"])


def test_an_unanswered_request_for_information_closes(
    api: Api, requester: Caller, staff: Caller, clock: FrozenClock
) -> None:
    request_id = api.submit(requester).get_json()["id"]
    api.decide(request_id, staff, action="request_information", rationale="Which campaign?")
    clock.advance(days=30, seconds=1)
    closed = api.get(f"/disclosure/requests/{request_id}", requester).get_json()
    assert closed["status"] == "cancelled"
    assert closed["history"][-1]["reason"] == "no_response"
    assert closed["history"][-1]["actor"] == "registry"
    assert closed["sla_pauses"][0]["ended_at"] is not None


def test_reclassify_recomputes_the_due_time(
    api: Api, police: Caller, requester: Caller, staff: Caller, clock: FrozenClock
) -> None:
    urgent = api.submit(police, priority="urgent", urgent_justification=URGENT).get_json()
    path = f"/disclosure/requests/{urgent['id']}/priority"
    clock.advance(hours=2)
    down = api.post(path, staff, {"priority": "standard", "rationale": "no imminent threat"})
    body = down.get_json()
    assert body["priority"] == "standard"
    assert body["downgraded"] is True
    assert _at(body["due_at"]) - _at(body["received_at"]) == dt.timedelta(hours=72)
    assert body["history"][-1]["reason"] == "priority urgent to standard: no imminent threat"
    again = api.post(path, staff, {"priority": "standard", "rationale": "again"})
    assert again.get_json()["errors"] == {"priority": ["the request is already standard"]}
    mine = api.submit(requester).get_json()["id"]
    up = api.post(
        f"/disclosure/requests/{mine}/priority", staff, {"priority": "urgent", "rationale": "x"}
    )
    assert up.get_json()["errors"] == {"priority": ["urgent requests are for law enforcement only"]}
    # Raising a request to urgent late in its life makes it overdue at once.
    clock.advance(hours=30)
    raised = api.post(path, staff, {"priority": "urgent", "rationale": "new facts"}).get_json()
    assert raised["overdue"] is True


def test_sla_hours_are_settings() -> None:
    policy = SlaPolicy.from_settings(
        Settings.from_env(
            {"RDAP_DISCLOSURE_SLA_STANDARD_HOURS": "48", "RDAP_DISCLOSURE_INFORMATION_DAYS": "0"}
        )
    )
    assert policy.standard == dt.timedelta(hours=48)
    assert policy.urgent == dt.timedelta(hours=24)
    assert policy.information_timeout is None
    for bad in (
        {"RDAP_DISCLOSURE_SLA_URGENT_HOURS": "0"},
        {"RDAP_DISCLOSURE_INFORMATION_DAYS": "-1"},
    ):
        with pytest.raises(SettingsError):
            SlaPolicy.from_settings(Settings.from_env(bad))
