"""Disclosure-request API over HTTP (thin views): submit, read, cancel, answer, decide, revoke."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, request

from rdap.disclosure import service
from rdap.disclosure.schemas import ValidationFailed
from rdap.paging import page_size
from rdap.render import rdap_json
from rdap.views.current import disclosure_operation, runtime
from rdap.views.identity import identify, principal
from rdap.views.json_body import read_json
from rdap.views.ratelimit import LOOKUP, SEARCH, limit_rdap
from rdap.views.urls import base_url

blueprint = Blueprint("disclosure", __name__)
blueprint.before_request(identify)

JSON = "application/json"
MAX_BODY = 32 * 1024


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = Response(orjson.dumps(body), status=status, mimetype=JSON)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"  # requests carry personal data
    return response


@blueprint.errorhandler(ValidationFailed)
def _invalid(error: ValidationFailed) -> Response:
    """422 with the RFC 9083 error members and `errors`: field → messages."""
    body = {**rdap_json.error_json(error, runtime().profile), "errors": error.errors}
    return Response(orjson.dumps(body), status=error.status, mimetype=rdap_json.MEDIA_TYPE)


@blueprint.post("/disclosure/requests")
@limit_rdap(SEARCH)
def submit() -> Response:
    body = read_json(MAX_BODY)
    with disclosure_operation() as ctx:
        answer = service.submit(ctx, principal(), body).as_json(base_url())
    response = _json(answer, 201)
    response.headers["Location"] = answer["links"][0]["href"]
    return response


@blueprint.get("/disclosure/requests")
@limit_rdap(LOOKUP)
def list_requests() -> Response:
    rt = runtime()
    count = page_size(request.args.get("count"), rt.settings.search_page_size)
    filters = service.RequestFilter.parse(request.args)
    with disclosure_operation() as ctx:
        page = service.list_requests(
            ctx,
            principal(),
            filters=filters,
            count=count,
            cursor=request.args.get("cursor"),
            codec=rt.cursors(service.CURSOR_PURPOSE),
        )
        base = base_url()
        items = [item.as_json(base) for item in page.items]
    paging: dict[str, Any] = {"pageSize": count}
    if page.next_cursor is not None:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        query = urlencode({**args, "cursor": page.next_cursor})
        paging["links"] = [
            {"rel": "next", "href": f"{base}/disclosure/requests?{query}", "type": JSON}
        ]
    return _json({"requests": items, "count": len(items), "paging_metadata": paging})


@blueprint.get("/disclosure/requests/<request_id>")
@limit_rdap(LOOKUP)
def get_request(request_id: str) -> Response:
    with disclosure_operation() as ctx:
        return _json(service.get_request(ctx, principal(), request_id).as_json(base_url()))


@blueprint.post("/disclosure/requests/<request_id>/cancel")
@limit_rdap(LOOKUP)
def cancel(request_id: str) -> Response:
    with disclosure_operation() as ctx:
        return _json(service.cancel(ctx, principal(), request_id).as_json(base_url()))


@blueprint.post("/disclosure/requests/<request_id>/information")
@limit_rdap(LOOKUP)
def provide_information(request_id: str) -> Response:
    body = read_json(MAX_BODY)
    with disclosure_operation() as ctx:
        view = service.provide_information(ctx, principal(), request_id, body)
        return _json(view.as_json(base_url()))


@blueprint.post("/disclosure/requests/<request_id>/decision")
@limit_rdap(LOOKUP)
def decide(request_id: str) -> Response:
    body = read_json(MAX_BODY)
    with disclosure_operation() as ctx:
        return _json(service.decide(ctx, principal(), request_id, body).as_json(base_url()))


@blueprint.post("/disclosure/requests/<request_id>/priority")
@limit_rdap(LOOKUP)
def reclassify(request_id: str) -> Response:
    body = read_json(MAX_BODY)
    with disclosure_operation() as ctx:
        return _json(service.reclassify(ctx, principal(), request_id, body).as_json(base_url()))


@blueprint.post("/disclosure/grants/<grant_id>/revoke")
@limit_rdap(LOOKUP)
def revoke_grant(grant_id: str) -> Response:
    body = read_json(MAX_BODY)
    with disclosure_operation() as ctx:
        return _json(service.revoke_grant(ctx, principal(), grant_id, body).as_json(base_url()))
