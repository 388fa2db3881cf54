"""Monthly disclosure statistics (RDRS-style): counts, outcomes, reasons, response times, SLA.

`monthly_report` computes one calendar month (UTC) from the requests and their history;
`public_report` suppresses small cells for publication; `as_json` and `csv_lines` write either.
The command line (`rdapd report disclosure`) and a statistics page call these functions.

Definitions (after ICANN's RDRS metrics, disclosure.md §2.6), for the month [start, end):
- submitted: requests received in the month; their breakdowns by status (as of the month's
  end), priority, requester type and purpose each add up to it;
- open: submitted in the month, cancelled or decided by neither the month's end;
- closed: decided in the month (approved, partially approved or denied), whenever submitted;
  the decisions add up to it; cancelled: cancelled in the month;
- reasons: the reason codes of the month's denials and of its partial approvals, counted once
  per request and code (a request may have several, so they may add up to more than the
  decisions);
- response time: receipt to decision in hours, the SLA clock's pauses (information requested)
  left out; within SLA: decided within the priority's allowance and never flagged overdue.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rdap import audit
from rdap.disclosure import schemas, workflow
from rdap.disclosure.service import ORG_TYPES
from rdap.disclosure.sla import PRIORITIES, SlaPolicy
from rdap.models import DisclosureRequest, RequestEvent, RequestReason, SlaPause
from rdap.principal import PURPOSES

# A published cell counting fewer requests than this is suppressed (disclosure.md §2.6).
SMALL_CELL = 5
DECISIONS = (workflow.APPROVED, workflow.PARTIALLY_APPROVED, workflow.DENIED)
_DECIDING = {
    workflow.APPROVE: workflow.APPROVED,
    workflow.APPROVE_PARTIALLY: workflow.PARTIALLY_APPROVED,
    workflow.DENY: workflow.DENIED,
}
# Breakdowns whose cells add up to another metric: suppressing one cell alone would let it be
# computed back from that total, so a second cell is suppressed with it.
PARTS_OF = {
    "by_status": "submitted",
    "by_priority": "submitted",
    "by_requester_type": "submitted",
    "by_purpose": "submitted",
    "decisions": "closed",
}


@dataclasses.dataclass(frozen=True)
class Cell:
    """One figure: `metric` (and `group` within a breakdown), its value, and how many requests
    it is computed from (`n`: the count itself, or the base of a mean, median or share).
    A suppressed cell has value None."""

    metric: str
    group: str | None
    value: int | float | None
    n: int
    suppressed: bool = False


@dataclasses.dataclass(frozen=True)
class Report:
    month: str  # YYYY-MM
    start: dt.datetime
    end: dt.datetime
    public: bool
    cells: tuple[Cell, ...]

    def value(self, metric: str, group: str | None = None) -> int | float | None:
        for cell in self.cells:
            if cell.metric == metric and cell.group == group:
                return cell.value
        raise KeyError((metric, group))

    def group(self, metric: str) -> dict[str, int | float | None]:
        return {c.group: c.value for c in self.cells if c.metric == metric and c.group is not None}


def parse_month(text: str) -> tuple[dt.datetime, dt.datetime]:
    """`YYYY-MM` → (first instant of the month, first instant of the next), UTC."""
    try:
        start = dt.datetime.strptime(text, "%Y-%m").replace(tzinfo=dt.UTC)
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, not {text!r}") from None
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


@dataclasses.dataclass
class _Request:
    row: DisclosureRequest
    events: list[RequestEvent] = dataclasses.field(default_factory=list)
    pauses: list[tuple[dt.datetime, dt.datetime | None]] = dataclasses.field(default_factory=list)
    reasons: list[str] = dataclasses.field(default_factory=list)

    def status_at(self, when: dt.datetime) -> str | None:
        """The status after the last transition before `when` (None: not yet received)."""
        status = None
        for event in self.events:
            if event.at < when:
                status = event.to_status
        return status

    def decision(self) -> tuple[str, dt.datetime] | None:
        for event in self.events:
            if event.action in _DECIDING:
                return _DECIDING[event.action], event.at
        return None

    def cancelled_at(self) -> dt.datetime | None:
        for event in self.events:
            if event.to_status == workflow.CANCELLED:
                return event.at
        return None

    def response(self, decided_at: dt.datetime) -> dt.timedelta:
        """Receipt to decision with the clock's pauses left out (one still open at the
        decision ends there)."""
        paused = sum(
            (
                min(end or decided_at, decided_at) - start
                for start, end in self.pauses
                if start < decided_at
            ),
            dt.timedelta(),
        )
        return decided_at - self.row.received_at - paused


def _load(session: Session, start: dt.datetime, end: dt.datetime) -> list[_Request]:
    """Requests received, decided or closed in the month, with their history, pauses and
    reasons (a few queries, whatever the month's size)."""
    rows = session.scalars(
        select(DisclosureRequest)
        .where(
            or_(
                (DisclosureRequest.received_at >= start) & (DisclosureRequest.received_at < end),
                (DisclosureRequest.decided_at >= start) & (DisclosureRequest.decided_at < end),
                (DisclosureRequest.closed_at >= start) & (DisclosureRequest.closed_at < end),
            )
        )
        .order_by(DisclosureRequest.received_at, DisclosureRequest.id)
    ).all()
    found = {row.id: _Request(row) for row in rows}
    ids = list(found)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for event in session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id.in_(chunk))
            .order_by(RequestEvent.at, RequestEvent.id)
        ):
            found[event.request_id].events.append(event)
        for request_id, started, ended in session.execute(
            select(SlaPause.request_id, SlaPause.started_at, SlaPause.ended_at).where(
                SlaPause.request_id.in_(chunk)
            )
        ):
            found[request_id].pauses.append((started, ended))
        for request_id, code in session.execute(
            select(RequestReason.request_id, RequestReason.code).where(
                RequestReason.request_id.in_(chunk)
            )
        ):
            found[request_id].reasons.append(code)
    return list(found.values())


def _hours(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 3600


def monthly_report(session: Session, month: str, *, sla: SlaPolicy) -> Report:
    """The month's statistics, every cell shown (for staff; see `public_report`)."""
    start, end = parse_month(month)
    requests = _load(session, start, end)
    submitted = [r for r in requests if start <= r.row.received_at < end]
    cells: list[Cell] = []

    def count(metric: str, n: int, group: str | None = None) -> None:
        cells.append(Cell(metric, group, n, n))

    def breakdown(metric: str, keys: Iterable[str], values: Iterable[str | None]) -> None:
        counted = Counter(v for v in values if v is not None)
        for key in dict.fromkeys([*keys, *sorted(counted)]):
            count(metric, counted[key], key)

    count("submitted", len(submitted))
    count("requester_accounts", len({r.row.accreditation_id for r in submitted}))
    opened = [r for r in submitted if r.status_at(end) in workflow.OPEN]
    count("open", len(opened))
    count("open_overdue", sum(1 for r in opened if r.row.overdue_at and r.row.overdue_at < end))
    breakdown("by_status", workflow.STATUSES, (r.status_at(end) for r in submitted))
    breakdown("by_priority", PRIORITIES, (r.row.priority for r in submitted))
    breakdown("by_requester_type", ORG_TYPES, (r.row.requester_type for r in submitted))
    breakdown("by_purpose", sorted(PURPOSES), (r.row.purpose for r in submitted))
    count("urgent_submitted", sum(1 for r in submitted if r.row.priority == "urgent"))
    count("urgent_downgraded", sum(1 for r in submitted if r.row.downgraded))
    count("confidentiality_requested", sum(1 for r in submitted if r.row.confidential))

    decided: list[tuple[_Request, str, dt.datetime]] = []
    for r in requests:
        decision = r.decision()
        if decision is not None and start <= decision[1] < end:
            decided.append((r, *decision))
    count("closed", len(decided))
    breakdown("decisions", DECISIONS, (outcome for _, outcome, _ in decided))
    cancelled = [r for r in requests if (at := r.cancelled_at()) is not None and start <= at < end]
    count("cancelled", len(cancelled))
    for kind, metric in (
        (workflow.DENIED, "denial_reasons"),
        (workflow.PARTIALLY_APPROVED, "partial_approval_reasons"),
    ):
        reasons = (code for r, o, _ in decided if o == kind for code in set(r.reasons))
        breakdown(metric, schemas.REASON_CODES, reasons)

    by_priority: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for r, _, at in decided:
        response = r.response(at)
        within = not r.row.overdue and response <= sla.allowance(r.row.priority)
        by_priority[r.row.priority].append((_hours(response), within))
    groups: list[tuple[str, list[tuple[float, bool]]]] = [
        ("all", [x for p in PRIORITIES for x in by_priority[p]]),
        *((p, by_priority[p]) for p in PRIORITIES),
    ]
    for group, figures in groups:
        n = len(figures)
        hours = [h for h, _ in figures]
        mean = statistics.fmean(hours) if n else None
        median = statistics.median(hours) if n else None
        share = sum(1 for _, w in figures if w) / n if n else None
        cells.append(Cell("response_hours_mean", group, _round(mean), n))
        cells.append(Cell("response_hours_median", group, _round(median), n))
        cells.append(Cell("within_sla_share", group, _round(share), n))
    return Report(month=month, start=start, end=end, public=False, cells=tuple(cells))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def public_report(report: Report) -> Report:
    """The report fit to publish: every cell from fewer than SMALL_CELL requests (zero
    included) suppressed, and in a breakdown that adds up to a shown total, a lone suppressed
    cell joined by the next smallest, so that no suppressed figure can be computed back."""
    hidden = {(c.metric, c.group) for c in report.cells if c.n < SMALL_CELL}
    totals = {c.metric: c for c in report.cells if c.group is None}
    for metric, total in PARTS_OF.items():
        parts = [c for c in report.cells if c.metric == metric]
        gone = [c for c in parts if (c.metric, c.group) in hidden]
        if len(gone) == 1 and (total, None) not in hidden and totals[total].n >= SMALL_CELL:
            shown = sorted(
                (c for c in parts if (c.metric, c.group) not in hidden), key=lambda c: c.n
            )
            if shown:
                hidden.add((shown[0].metric, shown[0].group))
    cells = tuple(
        dataclasses.replace(c, value=None, suppressed=True) if (c.metric, c.group) in hidden else c
        for c in report.cells
    )
    return dataclasses.replace(report, public=True, cells=cells)


def as_json(report: Report) -> dict[str, Any]:
    """{"month", "period", "public", ... metric: value or {group: value}}; a suppressed value
    is null."""
    out: dict[str, Any] = {
        "month": report.month,
        "period": {"start": _time(report.start), "end": _time(report.end)},
        "public": report.public,
        "small_cell_threshold": SMALL_CELL if report.public else None,
    }
    for cell in report.cells:
        if cell.group is None:
            out[cell.metric] = cell.value
        else:
            out.setdefault(cell.metric, {})[cell.group] = cell.value
    return out


CSV_COLUMNS = ("month", "metric", "group", "value", "note")


def csv_lines(report: Report) -> Iterator[str]:
    """The summary table, one figure a row (RFC 4180; cells never start like a formula)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for cell in report.cells:
        note = f"suppressed (n < {SMALL_CELL})" if cell.suppressed else ""
        value = "" if cell.value is None else cell.value
        writer.writerow(
            [audit.csv_cell(v) for v in (report.month, cell.metric, cell.group, value, note)]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
