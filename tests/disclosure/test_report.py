"""The monthly disclosure report over a generated month of requests: every figure against the
plan that generated it, small-cell suppression in the public form, CSV and the command line."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import statistics
from typing import Any

import pytest

from rdap.db import Database
from rdap.disclosure import report
from tests import factories
from tests.disclosure_fixtures import START, Accredit, Api, Caller, FrozenClock, MakeCaller

CRIME = "criminalInvestigationAndDNSAbuseMitigation"
LEGAL = "legalActions"
RATIONALE = "The requested elements are not needed for the stated purpose in full."
URGENT = "An imminent threat to life: the page solicits a minor under a false identity."
# The month after next: every accreditation made at START is valid through it.
MONTH_START = (START.replace(day=1, hour=0, minute=0, second=0) + dt.timedelta(days=40)).replace(
    day=1
)
MONTH = MONTH_START.strftime("%Y-%m")
MONTH_END = (MONTH_START + dt.timedelta(days=32)).replace(day=1)


@dataclasses.dataclass(frozen=True)
class Planned:
    """One generated request: who, when (hours after the month's start), what happens to it
    and how many hours after receipt (the SLA clock's hours, pauses excluded)."""

    who: str  # cyber | ip | police
    at: float
    fate: str  # approve | partial | deny | cancel | information | open
    hours: float = 0.0
    reasons: tuple[str, ...] = ()
    urgent: bool = False
    confidential: bool = False


def _plan() -> list[Planned]:
    plan = [Planned("cyber", 20 * i, "approve", hours=2 + i) for i in range(12)]
    plan += [
        Planned("ip", 20 * i + 5, "partial", hours=10, reasons=("data_not_necessary",))
        for i in range(6)
    ]
    plan += [
        Planned(
            "ip",
            20 * i + 9,
            "deny",
            hours=80 if i == 0 else 6,  # the first one is late: standard requests have 72 h
            reasons=("insufficient_legal_basis", "rights_override"),
        )
        for i in range(4)
    ]
    plan += [
        Planned("ip", 20 * i + 13, "deny", hours=8, reasons=("incomplete_request",))
        for i in range(2)
    ]
    plan += [
        Planned("police", 30 + 50 * i, "approve", hours=4, urgent=True, confidential=i < 2)
        for i in range(3)
    ]
    plan += [
        Planned("police", 300, "cancel", hours=1),
        Planned("police", 320, "information", hours=5),  # paused 10 h, not counted
        # Received before the month, decided in it: closed, not submitted.
        Planned("cyber", -10, "deny", hours=12, reasons=("data_is_public",)),
        # Received at the month's end, never decided: open.
        Planned("cyber", _hours_in_month() - 5, "open"),
    ]
    return plan


def _hours_in_month() -> float:
    return (MONTH_END - MONTH_START).total_seconds() / 3600


def _at(hours: float) -> dt.datetime:
    return MONTH_START + dt.timedelta(hours=hours)


@pytest.fixture
def month(
    api: Api,
    db: Database,
    accredit: Accredit,
    caller: MakeCaller,
    clock: FrozenClock,
) -> list[Planned]:
    """Runs the plan over HTTP in time order, on the frozen clock."""
    with db.session_scope() as session:
        factories.full_domain(session, name="target.post", registrant_kind="natural")
    callers = {
        "cyber": caller(accreditation=accredit("CERT A", purposes=(CRIME,))),
        "ip": caller(accreditation=accredit("Brand B", org_type="ip", purposes=(LEGAL,))),
        "police": caller(
            "law-enforcement",
            accreditation=accredit("Police C", org_type="law-enforcement", purposes=(CRIME,)),
        ),
    }
    staff = caller("staff")
    plan = _plan()
    steps: list[tuple[dt.datetime, int, str]] = []
    for n, item in enumerate(plan):
        steps.append((_at(item.at), n, "submit"))
        if item.fate == "information":
            steps.append((_at(item.at + 2), n, "ask"))
            steps.append((_at(item.at + 12), n, "answer"))
            steps.append((_at(item.at + 15), n, "approve"))
        elif item.fate != "open":
            steps.append((_at(item.at + item.hours), n, item.fate))
    ids: dict[int, str] = {}
    for when, n, step in sorted(steps):
        clock.now = when
        item = plan[n]
        who = callers[item.who]
        if step == "submit":
            answer = _submit(api, who, item)
            assert answer.status_code == 201, answer.get_json()
            ids[n] = answer.get_json()["id"]
            continue
        path = f"/disclosure/requests/{ids[n]}"
        if step == "cancel":
            answer = api.post(f"{path}/cancel", who)
        elif step == "answer":
            answer = api.post(f"{path}/information", who, {"rationale": RATIONALE})
        else:
            answer = api.decide(ids[n], staff, **_decision(step, item))
        assert answer.status_code == 200, (step, answer.get_json())
    return plan


def _submit(api: Api, who: Caller, item: Planned) -> Any:
    extra: dict[str, Any] = {"purpose": LEGAL if item.who == "ip" else CRIME}
    if item.urgent:
        extra |= {"priority": "urgent", "urgent_justification": URGENT}
    if item.confidential:
        extra["confidential"] = True
    return api.submit(who, **extra)


def _decision(step: str, item: Planned) -> dict[str, Any]:
    if step == "ask":
        return {"action": "request_information", "rationale": "Which campaign is this about?"}
    if step == "approve":
        return {"action": "approve", "valid_days": 90}
    if step == "partial":
        return {
            "action": "approve",
            "valid_days": 90,
            "data_elements": ["registrant.name", "registrant.email"],
            "reasons": list(item.reasons),
            "rationale": RATIONALE,
        }
    return {"action": "deny", "reasons": list(item.reasons), "rationale": RATIONALE}


def _report(app: Any, db: Database) -> report.Report:
    with db.read_scope() as session:
        return report.monthly_report(session, MONTH, sla=app.extensions["rdapd"].sla)


def test_every_figure_follows_from_the_generated_month(  # one generated month: several checks
    app: Any, db: Database, month: list[Planned]
) -> None:
    found = _report(app, db)
    submitted = [p for p in month if p.at >= 0]
    decided = [p for p in month if p.fate in {"approve", "partial", "deny", "information"}]
    assert found.value("submitted") == len(submitted) == 30
    assert found.value("requester_accounts") == 3
    assert found.value("open") == 1
    assert found.value("open_overdue") == 0
    assert found.value("closed") == len(decided) == 29
    assert found.value("cancelled") == 1
    assert found.group("decisions") == {"approved": 16, "partially_approved": 6, "denied": 7}
    by_status = {k: v for k, v in found.group("by_status").items() if v}
    assert by_status == {
        "acknowledged": 1,
        "approved": 16,
        "partially_approved": 6,
        "denied": 6,  # the seventh denial's request came in the month before
        "cancelled": 1,
    }
    assert found.group("by_priority") == {"standard": 27, "urgent": 3}
    assert {k: v for k, v in found.group("by_requester_type").items() if v} == {
        "cybersecurity": 13,
        "ip": 12,
        "law-enforcement": 5,
    }
    assert {k: v for k, v in found.group("by_purpose").items() if v} == {CRIME: 18, LEGAL: 12}
    assert found.value("urgent_submitted") == 3
    assert found.value("urgent_downgraded") == 0
    assert found.value("confidentiality_requested") == 2
    assert {k: v for k, v in found.group("denial_reasons").items() if v} == {
        "insufficient_legal_basis": 4,
        "rights_override": 4,
        "incomplete_request": 2,
        "data_is_public": 1,
    }
    assert {k: v for k, v in found.group("partial_approval_reasons").items() if v} == {
        "data_not_necessary": 6
    }

    hours = {
        p: [q.hours for q in decided if q.urgent == (p == "urgent")] for p in ("standard", "urgent")
    }
    everything = hours["standard"] + hours["urgent"]
    assert found.value("response_hours_mean", "all") == round(statistics.fmean(everything), 3)
    assert found.value("response_hours_median", "all") == statistics.median(everything)
    for priority, figures in hours.items():
        assert found.value("response_hours_mean", priority) == round(statistics.fmean(figures), 3)
        assert found.value("response_hours_median", priority) == statistics.median(figures)
    # One late denial (80 h against 72 h); every urgent request in time.
    assert found.value("within_sla_share", "standard") == round(25 / 26, 3)
    assert found.value("within_sla_share", "urgent") == 1.0
    assert found.value("within_sla_share", "all") == round(28 / 29, 3)

    _public_form_suppresses_small_cells(found)
    _csv_and_json_from_the_command_line(app)


def test_an_empty_month_reports_zeros_and_no_averages(app: Any, db: Database) -> None:
    found = _report(app, db)
    assert found.value("submitted") == found.value("closed") == 0
    assert found.value("response_hours_mean", "all") is None
    assert found.value("within_sla_share", "urgent") is None


def _public_form_suppresses_small_cells(full: report.Report) -> None:
    public = report.public_report(full)
    shown = [c for c in public.cells if not c.suppressed]
    assert all(c.n >= report.SMALL_CELL for c in shown)
    assert all(c.value is None for c in public.cells if c.suppressed)
    # Every cell under the threshold is gone, zeros included ...
    assert {(c.metric, c.group) for c in full.cells if c.n < report.SMALL_CELL} <= {
        (c.metric, c.group) for c in public.cells if c.suppressed
    }
    assert public.value("requester_accounts") is None
    assert public.value("cancelled") is None
    assert public.value("response_hours_mean", "urgent") is None  # from 3 requests
    assert public.group("by_requester_type")["law-enforcement"] == 5
    # ... and a lone suppressed part of a shown total takes another with it (27 = 30 - 3).
    assert public.value("submitted") == 30
    assert public.group("by_priority") == {"standard": None, "urgent": None}
    assert public.group("decisions") == {"approved": 16, "partially_approved": 6, "denied": 7}
    text = json.dumps(report.as_json(public))
    assert "target.post" not in text
    assert "CERT A" not in text


def _csv_and_json_from_the_command_line(app: Any) -> None:
    runner = app.test_cli_runner()
    as_json = runner.invoke(args=["report", "disclosure", "--month", MONTH])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert body["month"] == MONTH
    assert body["public"] is False
    assert body["decisions"] == {"approved": 16, "partially_approved": 6, "denied": 7}
    assert body["requester_accounts"] == 3

    public = runner.invoke(
        args=["report", "disclosure", "--month", MONTH, "--format", "csv", "--public"]
    )
    assert public.exit_code == 0, public.output
    rows = list(csv.DictReader(io.StringIO(public.output)))
    assert list(rows[0]) == list(report.CSV_COLUMNS)
    by_key = {(r["metric"], r["group"]): r for r in rows}
    assert by_key[("submitted", "")]["value"] == "30"
    assert by_key[("requester_accounts", "")] == {
        "month": MONTH,
        "metric": "requester_accounts",
        "group": "",
        "value": "",
        "note": "suppressed (n < 5)",
    }
    assert by_key[("decisions", "denied")]["value"] == "7"
    assert all(r["note"] for r in rows if r["value"] == "")


@pytest.mark.parametrize("month_text", ["2026-13", "2026", "last month", "2026-1x"])
def test_a_bad_month_is_a_clear_error(app: Any, month_text: str) -> None:
    result = app.test_cli_runner().invoke(args=["report", "disclosure", "--month", month_text])
    assert result.exit_code != 0
    assert "YYYY-MM" in result.output
    assert "Traceback" not in result.output
