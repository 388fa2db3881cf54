"""RDAP over HTTP (RFC 7480/9082): thin views — parse, call lookup(), render."""

from __future__ import annotations

import datetime as dt
import ipaddress

from flask import Blueprint, Response, current_app, g, request
from werkzeug.urls import iri_to_uri

from rdap import query as q
from rdap.auth import authenticate, reject_token_in_query
from rdap.errors import NotImplementedQuery, QueryError, Unauthorized
from rdap.lookup import LookupContext, lookup
from rdap.principal import ANONYMOUS, PURPOSE_PARAM, Principal, principal_for
from rdap.ratelimit import LOOKUP, PRINCIPAL_ATTR, limit_rdap
from rdap.render import rdap_json
from rdap.repository import Repository
from rdap.runtime import Runtime
from rdap.views.oauth import oauth_state

blueprint = Blueprint("rdap", __name__)

SEARCH_PATHS = frozenset({"domains", "nameservers", "entities"})
MAX_PATH_LENGTH = 2048


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["rdapd"]
    return rt


def base_url() -> str:
    configured = runtime().settings.base_url
    return configured.rstrip("/") if configured else request.host_url.rstrip("/")


def principal() -> Principal:
    found: Principal | None = g.get(PRINCIPAL_ATTR)
    return found or ANONYMOUS


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@blueprint.before_request
def identify() -> None:
    """Who is asking: no credential is the public; a bad credential is a 401, never a fallback."""
    reject_token_in_query(request.args)
    rt = runtime()
    header = request.headers.get("Authorization")
    purpose = request.args.get(PURPOSE_PARAM)
    if header is None and purpose is None:
        g.principal = ANONYMOUS
        return
    if (
        header is not None
        and rt.settings.require_tls
        and not request.is_secure
        and not _loopback(request.remote_addr)
    ):
        raise Unauthorized("bearer tokens are accepted only over TLS")
    verifier = oauth_state(current_app).verifier
    claims = authenticate(header, verifier=verifier, now=dt.datetime.now(dt.UTC))
    with rt.db.read_scope() as session:
        g.principal = principal_for(claims, purpose=purpose, session=session)


def context() -> LookupContext:
    rt = runtime()
    return LookupContext(
        base_url=base_url(),
        request_url=iri_to_uri(request.url),
        now=dt.datetime.now(dt.UTC),
        contact_uri_template=rt.profile.contact_uri,
        help_description=rt.profile.help_description,
    )


def rdap_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, mimetype=rdap_json.MEDIA_TYPE)


def answer(query: q.Query) -> Response:
    rt = runtime()
    ctx = context()
    with rt.db.read_connection() as connection:
        repo = Repository(connection, rt.facts)
        document = lookup(query, principal(), repo=repo, policy=rt.policy, ctx=ctx)
    return rdap_response(
        rdap_json.render(
            document,
            profile=rt.profile,
            base_url=ctx.base_url,
            request_url=ctx.request_url,
            extra_conformance=rt.extra_conformance,
            extra_members=rt.help_members if isinstance(query, q.HelpQuery) else None,
        )
    )


@blueprint.route("/", defaults={"path": ""}, methods=["GET"])
@blueprint.route("/<path:path>", methods=["GET"])
@limit_rdap(LOOKUP)
def rdap_query(path: str) -> Response:
    if len(path) > MAX_PATH_LENGTH:
        raise QueryError("the query is too long")
    segments = path.split("/")
    if segments[0] in SEARCH_PATHS and len(segments) == 1:
        raise NotImplementedQuery("searches are not offered by this server yet")
    return answer(q.parse_path(segments))


@blueprint.after_app_request
def cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.setdefault("Access-Control-Allow-Headers", "Authorization, Accept")
    response.headers.setdefault("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
    return response
