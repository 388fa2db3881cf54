"""The disclosure portal (requesters) and the review queue (staff): web pages over the
disclosure services, with the same validation, rules and audit as the disclosure API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request
from flask_wtf.csrf import generate_csrf

from rdap.disclosure import report as reports
from rdap.disclosure import schemas, service, workflow
from rdap.document import Links
from rdap.errors import Forbidden, Unauthorized
from rdap.lookup import LookupContext, lookup
from rdap.principal import LAW_ENFORCEMENT, REQUESTER, STAFF, Principal
from rdap.query import DomainLookup, parse_domain_name
from rdap.render import charts
from rdap.render.lookup_page import contact_view, reasons_of
from rdap.repository import Repository
from rdap.views.current import disclosure_operation, runtime
from rdap.views.ratelimit import LOOKUP, SEARCH, limit_rdap
from rdap.views.urls import base_url
from rdap.views.web import page, person_principal, read_form, reader

blueprint = Blueprint("portal", __name__)

REQUESTER_ROLES = (REQUESTER, LAW_ENFORCEMENT)
QUEUE_SIZE = 200  # open requests on the reviewer's page, soonest due first
STATISTICS_MONTHS = 6


def _person(roles: tuple[str, ...]) -> Principal:
    """The signed-in person, if their role is one of `roles` (else sign in, or 403)."""
    principal = person_principal()
    if principal.is_public:
        raise Unauthorized("sign in to use these pages")
    if principal.role not in roles:
        raise Forbidden("these pages are not for your role")
    return principal


def _see_other(path: str) -> Response:
    response = Response(status=303)
    response.headers["Location"] = base_url() + path
    return response


# --- requesters ------------------------------------------------------------------------------


@blueprint.get("/portal")
@limit_rdap(LOOKUP)
def my_requests() -> Response:
    principal = _person(REQUESTER_ROLES)
    rt = runtime()
    with disclosure_operation() as ctx:
        found = service.list_requests(
            ctx,
            principal,
            filters=service.RequestFilter(),
            count=rt.settings.search_page_size,
            cursor=request.args.get("cursor"),
            codec=rt.cursors(service.CURSOR_PURPOSE),
        )
        items = [item.as_json(base_url()) for item in found.items]
    return page(
        "web/portal.html",
        "Your disclosure requests",
        private=True,
        context={"requests": items, "next_cursor": found.next_cursor},
    )


def _request_form(
    principal: Principal, form: Mapping[str, Any], errors: Mapping[str, list[str]], status: int
) -> Response:
    rt = runtime()
    elements = sorted(service.disclosable_elements(rt.policy, principal.role))
    names = {e: rt.policy.elements[e].name for e in elements}
    return page(
        "web/portal_new.html",
        "New disclosure request",
        status=status,
        private=True,
        context={
            "form": form,
            "errors": errors,
            "elements": [(e, names[e]) for e in elements],
            "purposes": sorted(principal.purposes),
            "tlps": schemas.TLP_LABELS,
            "default_tlp": schemas.DEFAULT_TLP,
            "urgent_allowed": principal.role == LAW_ENFORCEMENT,
            "csrf_token": generate_csrf(),
        },
    )


@blueprint.get("/portal/new")
@limit_rdap(LOOKUP)
def new_request() -> Response:
    principal = _person(REQUESTER_ROLES)
    form = _EMPTY_FORM | {"domain": request.args.get("domain", "")[:253]}
    return _request_form(principal, form, {}, 200)


_EMPTY_FORM: dict[str, Any] = {
    "domain": "",
    "purpose": "",
    "legal_basis": "",
    "rationale": "",
    "data_elements": [],
    "priority": "standard",
    "urgent_justification": "",
    "confidential": False,
    "tlp": "",
    "good_faith_affirmation": False,
}


def _body_of(form: Any) -> dict[str, Any]:
    """The API's request body from the form (checkboxes: present or not)."""
    body: dict[str, Any] = {
        "domain": form.get("domain", ""),
        "purpose": form.get("purpose", ""),
        "legal_basis": form.get("legal_basis", ""),
        "rationale": form.get("rationale", ""),
        "data_elements": form.getlist("data_elements"),
        "priority": form.get("priority") or "standard",
        "confidential": form.get("confidential") == "yes",
        "tlp": form.get("tlp") or schemas.DEFAULT_TLP,
        "good_faith_affirmation": form.get("good_faith_affirmation") == "yes",
    }
    if form.get("urgent_justification"):
        body["urgent_justification"] = form.get("urgent_justification")
    return body


@blueprint.post("/portal/new")
@limit_rdap(SEARCH)
def submit_request() -> Response:
    principal = _person(REQUESTER_ROLES)
    read_form()
    body = _body_of(request.form)
    try:
        with disclosure_operation() as ctx:
            created = service.submit(ctx, principal, body)
            request_id = created.request.id
    except schemas.ValidationFailed as exc:
        return _request_form(principal, _EMPTY_FORM | body, exc.errors, 422)
    return _see_other(f"/portal/requests/{request_id}")


def _disclosed(principal: Principal, domain: str, purpose: str) -> list[Any]:
    """The domain's contacts as this requester's RDAP answer shows them with the request's
    purpose: the granted elements shown, every other personal element still hidden."""
    rt = runtime()
    stated = person_principal(purpose=purpose)
    name, _ = parse_domain_name(domain)
    ctx = LookupContext(
        now=rt.clock(),
        links=Links(base_url=base_url(), request_url=f"{base_url()}/domain/{name.ldh}"),
        contact_uri_template=rt.profile.contact_uri,
    )
    with rt.db.read_connection() as connection:
        document = lookup(
            DomainLookup(name, as_unicode=False),
            stated,
            repo=Repository(connection, rt.facts),
            policy=rt.policy,
            ctx=ctx,
            disclosure=rt.disclosure,
        )
    reasons = reasons_of(document)
    return [contact_view(c, reasons) for c in reader().read(document).contacts]


@blueprint.get("/portal/requests/<request_id>")
@limit_rdap(LOOKUP)
def my_request(request_id: str) -> Response:
    principal = _person(REQUESTER_ROLES)
    with disclosure_operation() as ctx:
        view = service.get_request(ctx, principal, request_id)
        item = view.as_json(base_url())
        grant = view.grant
        active = grant is not None and grant.ended_at is None and grant.valid_until > ctx.now
    contacts = _disclosed(principal, item["domain"], item["purpose"]) if active else []
    return page(
        "web/portal_request.html",
        f"Request {request_id[:8]}",
        private=True,
        context={"item": item, "contacts": contacts, "active_grant": active},
    )


# --- reviewers -------------------------------------------------------------------------------


@blueprint.get("/review")
@limit_rdap(LOOKUP)
def queue() -> Response:
    principal = _person((STAFF,))
    rt = runtime()
    items: list[dict[str, Any]] = []
    with disclosure_operation() as ctx:
        for status in sorted(workflow.OPEN):
            found = service.list_requests(
                ctx,
                principal,
                filters=service.RequestFilter(status=status),
                count=QUEUE_SIZE,
                cursor=None,
                codec=rt.cursors(service.CURSOR_PURPOSE),
            )
            items += [v.as_json(base_url()) for v in found.items]
    items.sort(key=lambda r: r["due_at"])
    return page("web/review.html", "Review queue", private=True, context={"requests": items})


def _review_page(
    principal: Principal, request_id: str, errors: Mapping[str, list[str]], status: int
) -> Response:
    rt = runtime()
    with disclosure_operation() as ctx:
        item = service.get_request(ctx, principal, request_id).as_json(base_url())
    names = {
        e: rt.policy.elements[e].name for e in item["data_elements"] if e in rt.policy.elements
    }
    return page(
        "web/review_request.html",
        f"Review {request_id[:8]}",
        status=status,
        private=True,
        context={
            "item": item,
            "names": names,
            "errors": errors,
            "open": item["status"] in workflow.OPEN,
            "reasons": schemas.REASON_CODES,
            "max_days": schemas.MAX_GRANT_DAYS,
            "csrf_token": generate_csrf(),
        },
    )


@blueprint.get("/review/<request_id>")
@limit_rdap(LOOKUP)
def review(request_id: str) -> Response:
    return _review_page(_person((STAFF,)), request_id, {}, 200)


@blueprint.post("/review/<request_id>")
@limit_rdap(LOOKUP)
def decide(request_id: str) -> Response:
    principal = _person((STAFF,))
    read_form()
    form = request.form
    action = form.get("action", "")
    body: dict[str, Any] = {"action": action}
    if action == schemas.APPROVE:
        body["data_elements"] = form.getlist("data_elements")
        days = form.get("valid_days", "")
        body["valid_days"] = int(days) if days.isdigit() else days
    if action == schemas.DENY:
        body["reasons"] = form.getlist("reasons")
    if form.get("rationale"):
        body["rationale"] = form.get("rationale")
    try:
        with disclosure_operation() as ctx:
            service.decide(ctx, principal, request_id, body)
    except schemas.ValidationFailed as exc:
        return _review_page(principal, request_id, exc.errors, 422)
    return _see_other(f"/review/{request_id}")


# --- statistics ------------------------------------------------------------------------------


def _months(now: dt.datetime, count: int) -> list[str]:
    year, month = now.year, now.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(found))


def _count(report: reports.Report, metric: str, group: str) -> int:
    return int(report.group(metric).get(group) or 0)


@blueprint.get("/statistics")
@limit_rdap(LOOKUP)
def statistics() -> Response:
    _person((STAFF,))
    rt = runtime()
    with disclosure_operation() as ctx:
        months = _months(ctx.now, STATISTICS_MONTHS)
        monthly = [reports.monthly_report(ctx.session, m, sla=rt.sla) for m in months]
    sla_hours = {
        "standard": rt.sla.standard.total_seconds() / 3600,
        "urgent": rt.sla.urgent.total_seconds() / 3600,
    }
    return page(
        "web/statistics.html",
        "Disclosure statistics",
        private=True,
        context={
            "reports": monthly,
            "latest": monthly[-1],
            "status_chart": charts.stacked_bars(
                "Requests by status at month end",
                months,
                {s: [_count(r, "by_status", s) for r in monthly] for s in workflow.STATUSES},
            ),
            "priority_chart": charts.stacked_bars(
                "Requests submitted by priority",
                months,
                {p: [_count(r, "by_priority", p) for r in monthly] for p in ("standard", "urgent")},
            ),
            "response_chart": charts.response_times(
                "Mean response time against the SLA (hours)",
                months,
                {
                    p: [r.value("response_hours_mean", p) for r in monthly]
                    for p in ("standard", "urgent")
                },
                sla_hours,
            ),
        },
    )
