"""RDAP over HTTP (RFC 7480/9082): thin views — parse, call lookup(), render."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, request

from rdap import metrics
from rdap import query as q
from rdap.answer_cache import AnswerKey
from rdap.document import Links
from rdap.errors import NotFound, QueryError
from rdap.lookup import LookupContext, lookup
from rdap.principal import Principal
from rdap.redaction import RedactedDocument
from rdap.render import contact_format, rdap_json
from rdap.repository import RegistryFacts, Repository, read_registry_facts
from rdap.search import run_search
from rdap.views import web
from rdap.views.current import runtime
from rdap.views.identity import identify, principal
from rdap.views.ratelimit import LOOKUP, SEARCH, limit_rdap
from rdap.views.urls import base_url, request_url

blueprint = Blueprint("rdap", __name__)
blueprint.before_request(identify)

MAX_PATH_LENGTH = 2048


def context() -> LookupContext:
    rt = runtime()
    return LookupContext(
        now=rt.clock(),
        links=Links(
            base_url=base_url(),
            request_url=request_url(),
            contact_format=contact_format.requested(request.headers.get("Accept")),
        ),
        contact_uri_template=rt.profile.contact_uri,
        help_description=(*rt.profile.help_description, contact_format.HELP),
    )


def rdap_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, mimetype=rdap_json.MEDIA_TYPE)


def registry_facts() -> RegistryFacts:
    """Data version and database stamp, read at most once per data_version_ttl seconds."""
    rt = runtime()

    def load() -> RegistryFacts:
        with rt.db.read_connection() as connection:
            return read_registry_facts(connection)

    return rt.facts.current(load)


def answer_key(caller: Principal) -> AnswerKey | None:
    """What decides this request's answer before anything is read (rdap.answer_cache); None
    when no answers are kept, or none for this caller (it may hold a disclosure grant)."""
    cache = runtime().answers
    if cache is None or cache.bypassed(caller):
        return None
    contacts = contact_format.requested(request.headers.get("Accept"))
    return AnswerKey(
        version=registry_facts().version,
        media_type=f"{rdap_json.MEDIA_TYPE};contacts={contacts}",
        base_url=base_url(),
        request_url=request_url(),
        role=caller.role,
    )


def computed(
    query: q.Query, caller: Principal, ctx: LookupContext
) -> tuple[bytes, int, RedactedDocument | None, int]:
    """Run the pipeline: (body, status, the redacted document rendered (None for a 404), and
    the data version of what was read).

    The version and the database stamp are read on the connection the data is read on: a
    replica behind another must not have its answer kept under a newer version."""
    rt = runtime()
    is_help = isinstance(query, q.HelpQuery)
    with rt.db.read_connection() as connection:
        facts = read_registry_facts(connection)
        try:
            document = lookup(
                query,
                caller,
                repo=Repository(connection, facts),
                policy=rt.policy,
                ctx=ctx,
                disclosure=rt.disclosure,
            )
        except NotFound as error:
            return rdap_json.render_error(error, rt.profile), error.status, None, facts.version
    if document.disclosed:
        metrics.count_disclosure(caller.role)
    body = rdap_json.render(
        document,
        profile=rt.profile,
        base_url=ctx.links.base_url,
        request_url=ctx.links.request_url,
        extra_conformance=rt.help_conformance if is_help else rt.extra_conformance,
        extra_members=rt.help_members if is_help else None,
    )
    return body, 200, document, facts.version


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
    contacts = ctx.links.contact_format
    mapping = rt.reverse_search_properties[contacts] if page.reverse else None
    return rdap_response(
        rdap_json.render_search(
            page,
            profile=rt.profile,
            base_url=ctx.links.base_url,
            request_url=ctx.links.request_url,
            extra_conformance=rt.extra_conformance,
            mapping=mapping,
            contact_format=contacts,
        )
    )


@blueprint.route("/", defaults={"path": ""}, methods=["GET"])
@blueprint.route("/<path:path>", methods=["GET"])
@limit_rdap(LOOKUP)
def rdap_query(path: str) -> Response:
    """A kept answer for this caller's outcome if there is one (looked up before the query is
    parsed: only answers of valid queries are kept); else the pipeline, keeping what it
    answered when rdap.answer_cache allows."""
    if len(path) > MAX_PATH_LENGTH:
        raise QueryError("the query is too long")
    if web.wants_html():
        if path == "":
            return web.home()
        query = q.parse_path(path.split("/"))
        if not isinstance(query, q.HelpQuery):  # /help stays RDAP JSON for everyone
            return page_answer(query)
    cache, caller = runtime().answers, principal()
    key = answer_key(caller)
    if cache is not None and key is not None:
        hit = cache.get(key, caller)
        if hit is not None:
            return rdap_response(hit.body, hit.status)
    body, status, document, version = computed(q.parse_path(path.split("/")), caller, context())
    if cache is not None and key is not None:
        cache.keep(dataclasses.replace(key, version=version), caller, status, body, document)
    response = rdap_response(body, status)
    if document is not None and document.disclosed:
        # Shown to this caller alone: no cache may keep or share it.
        response.headers["Cache-Control"] = "private, no-store"
    return response


def page_answer(query: q.Query) -> Response:
    """A browser's page: the pipeline for its caller (a bearer token, else the signed-in
    person, else the public), never from the answer cache, which keeps RDAP JSON."""
    rt = runtime()
    web.use_session_principal()
    caller = principal()
    with rt.db.read_connection() as connection:
        facts = read_registry_facts(connection)
        document = lookup(
            query,
            caller,
            repo=Repository(connection, facts),
            policy=rt.policy,
            ctx=context(),
            disclosure=rt.disclosure,
        )
    if document.disclosed:
        metrics.count_disclosure(caller.role)
    response = web.lookup_answer(document)
    if document.disclosed:  # shown to this caller alone: no cache may keep or share it
        response.headers["Cache-Control"] = "private, no-store"
    return response
