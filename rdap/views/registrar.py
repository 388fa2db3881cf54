"""Registrar API over HTTP: the accuracy report and inaccuracy complaints (thin views)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, request

from rdap import accuracy_report, complaints, relay
from rdap.paging import CursorCodec, page_size
from rdap.views.current import runtime
from rdap.views.identity import identify, principal
from rdap.views.json_body import read_json
from rdap.views.ratelimit import LOOKUP, SEARCH, limit_rdap
from rdap.views.urls import base_url

blueprint = Blueprint("registrar", __name__)
blueprint.before_request(identify)

JSON = "application/json"
MAX_BODY = 16 * 1024


def _codec(purpose: str) -> CursorCodec:
    return runtime().cursors(purpose)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = Response(orjson.dumps(body), status=status, mimetype=JSON)
    response.headers["X-Content-Type-Options"] = "nosniff"  # reporter text is data, never markup
    return response


def _page_args() -> tuple[int, str | None]:
    raw_count = request.args.get("count", request.args.get("limit"))
    return page_size(raw_count, runtime().settings.search_page_size), request.args.get("cursor")


def _next_href(path: str, count: int, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return f"{base_url()}{path}?{urlencode({'count': count, 'cursor': cursor})}"


@blueprint.get("/registrar/accuracy")
@limit_rdap(SEARCH)
def accuracy() -> Response:
    count, cursor = _page_args()
    rt = runtime()
    with rt.db.read_connection() as connection:
        page = accuracy_report.accuracy_report(
            connection,
            principal(),
            policy=rt.policy,
            now=_now(),
            count=count,
            cursor=cursor,
            codec=_codec(accuracy_report.CURSOR_PURPOSE),
            facts=rt.facts,
        )
    next_href = _next_href("/registrar/accuracy", count, page.next_cursor)
    return _json(accuracy_report.report_json(page, policy=rt.policy, next_href=next_href))


@blueprint.get("/complaints")
@limit_rdap(LOOKUP)
def complaint_guide() -> Response:
    """Where domain answers' complaint link leads: how to file one (the API is in openapi.json)."""
    url = f"{base_url()}/complaints"
    return _json(
        {
            "title": "Registration data inaccuracy complaints",
            "description": [
                "To report inaccurate registration data of a domain registered here, POST a JSON "
                f"object to {url} with Content-Type: {JSON}.",
                "The complaint is forwarded to the domain's sponsoring registrar. The answer (201) "
                "gives a status URL in its Location header; only its holder can follow it.",
            ],
            "method": "POST",
            "contentType": JSON,
            "members": {
                "domain": "required: the domain name, as A-label or U-label",
                "fields": "required: the inaccurate fields, one or more of 'fields' below",
                "description": "required: what is wrong, at most "
                f"{complaints.MAX_DESCRIPTION} characters",
                "reporterEmail": "optional: your email address, seen only by registry staff",
            },
            "fields": list(complaints.FIELDS),
            "links": [
                {"rel": "self", "href": url, "type": JSON},
                {"rel": "describedby", "href": f"{base_url()}/openapi.json", "type": JSON},
            ],
        }
    )


@blueprint.post("/complaints")
@limit_rdap(SEARCH)
def submit_complaint() -> Response:
    body = read_json(MAX_BODY)
    with runtime().db.session_scope() as session:
        complaint = complaints.submit(session, body, now=_now())
        answer = complaints.status_json(complaint)
    status_url = f"{base_url()}/complaints/{answer['id']}"
    answer["links"] = [{"rel": "self", "href": status_url, "type": JSON}]
    response = _json(answer, 201)
    response.headers["Location"] = status_url
    return response


@blueprint.get("/complaints/<complaint_id>")
@limit_rdap(LOOKUP)
def complaint_status(complaint_id: str) -> Response:
    with runtime().db.read_scope() as session:
        return _json(complaints.status_json(complaints.status(session, complaint_id)))


@blueprint.get("/registrar/complaints")
@limit_rdap(LOOKUP)
def list_complaints() -> Response:
    count, cursor = _page_args()
    with runtime().db.read_scope() as session:
        page = complaints.list_complaints(
            session,
            principal(),
            policy=runtime().policy,
            now=_now(),
            count=count,
            cursor=cursor,
            codec=_codec(complaints.CURSOR_PURPOSE),
        )
        next_href = _next_href("/registrar/complaints", count, page.next_cursor)
        return _json(page.as_json(next_href=next_href))


@blueprint.post("/registrar/complaints/<complaint_id>/close")
@limit_rdap(LOOKUP)
def close_complaint(complaint_id: str) -> Response:
    body = read_json(MAX_BODY)
    with runtime().db.session_scope() as session:
        closed = complaints.close(
            session, principal(), complaint_id, body, policy=runtime().policy, now=_now()
        )
        return _json(closed.as_json())


@blueprint.get("/registrar/messages")
@limit_rdap(LOOKUP)
def queued_messages() -> Response:
    """Contact-form messages for the contacts of the caller's domains, to forward."""
    with runtime().db.read_scope() as session:
        found = [relay.as_json(m) for m in relay.queued(session, principal())]
    return _json({"messages": found, "count": len(found)})


@blueprint.post("/registrar/messages/<message_id>/relayed")
@limit_rdap(LOOKUP)
def message_relayed(message_id: str) -> Response:
    with runtime().db.session_scope() as session:
        done = relay.mark_relayed(session, principal(), message_id, now=_now())
        return _json(relay.as_json(done))
