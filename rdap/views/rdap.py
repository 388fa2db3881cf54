"""RDAP over HTTP (RFC 7480/9082): thin views — parse, call lookup(), render."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from rdap import metrics
from rdap import query as q
from rdap.document import Links
from rdap.errors import QueryError
from rdap.lookup import LookupContext, lookup
from rdap.render import rdap_json
from rdap.repository import Repository
from rdap.runtime import Runtime
from rdap.search import REVERSE_SEARCH_PROPERTIES, run_search
from rdap.views import web
from rdap.views.identity import identify, principal
from rdap.views.ratelimit import LOOKUP, SEARCH, limit_rdap
from rdap.views.urls import base_url, request_url

blueprint = Blueprint("rdap", __name__)
blueprint.before_request(identify)

MAX_PATH_LENGTH = 2048


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["rdapd"]
    return rt


def context() -> LookupContext:
    rt = runtime()
    return LookupContext(
        now=rt.clock(),
        links=Links(base_url=base_url(), request_url=request_url()),
        contact_uri_template=rt.profile.contact_uri,
        help_description=rt.profile.help_description,
    )


def rdap_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, mimetype=rdap_json.MEDIA_TYPE)


def answer(query: q.Query) -> Response:
    rt = runtime()
    is_help = isinstance(query, q.HelpQuery)
    ctx = context()
    page = web.wants_html() and not is_help
    if page:
        web.use_session_principal()
    with rt.db.read_connection() as connection:
        repo = Repository(connection, rt.facts)
        document = lookup(
            query, principal(), repo=repo, policy=rt.policy, ctx=ctx, disclosure=rt.disclosure
        )
    if document.disclosed:
        metrics.count_disclosure(principal().role)
    if page:
        response = web.lookup_answer(document)
    else:
        response = rdap_response(
            rdap_json.render(
                document,
                profile=rt.profile,
                base_url=ctx.links.base_url,
                request_url=ctx.links.request_url,
                extra_conformance=rt.help_conformance if is_help else rt.extra_conformance,
                extra_members=rt.help_members if is_help else None,
            )
        )
    if document.disclosed:  # shown to this caller alone: no cache may keep or share it
        response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/domains", defaults={"path": "domains"}, methods=["GET"])
@blueprint.route("/nameservers", defaults={"path": "nameservers"}, methods=["GET"])
@blueprint.route("/entities", defaults={"path": "entities"}, methods=["GET"])
@blueprint.route(
    "/domains/reverse_search/entity",
    defaults={"path": "domains/reverse_search/entity"},
    methods=["GET"],
)
@limit_rdap(SEARCH)
def rdap_search(path: str) -> Response:
    rt = runtime()
    page_wanted = web.wants_html()
    if page_wanted:
        web.use_session_principal()
    args = request.args.to_dict(flat=False)
    args.pop(web.FORMAT_PARAM, None)  # the web page's "as RDAP JSON" link
    search = q.parse_search(path.split("/"), args)
    ctx = context()
    with rt.db.read_connection() as connection:
        page = run_search(
            search,
            principal(),
            repo=Repository(connection, rt.facts),
            policy=rt.policy,
            search_policy=rt.search_policy,
            ctx=ctx,
            codec=rt.cursors("search"),
            page_size=rt.settings.search_page_size,
        )
    if page_wanted:
        return web.search_answer(page.results, page.next_cursor)
    mapping = REVERSE_SEARCH_PROPERTIES if page.reverse else None
    return rdap_response(
        rdap_json.render_search(
            page,
            profile=rt.profile,
            base_url=ctx.links.base_url,
            request_url=ctx.links.request_url,
            extra_conformance=rt.extra_conformance,
            mapping=mapping,
        )
    )


@blueprint.route("/", defaults={"path": ""}, methods=["GET"])
@blueprint.route("/<path:path>", methods=["GET"])
@limit_rdap(LOOKUP)
def rdap_query(path: str) -> Response:
    if web.wants_html() and path == "":
        return web.home()
    if len(path) > MAX_PATH_LENGTH:
        raise QueryError("the query is too long")
    segments = path.split("/")
    return answer(q.parse_path(segments))
