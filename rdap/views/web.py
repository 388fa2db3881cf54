"""The web channel: HTML pages for people (lookup, contact form, disclosure-request process),
negotiated on the RDAP paths by Accept; thin views over the same pipeline and services."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Flask, Response, current_app, g, request, session
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from wtforms.validators import ValidationError as CsrfInvalid

from rdap import complaints, relay
from rdap.auth import Claims
from rdap.disclosure_process import Timelines, describe
from rdap.errors import NotFound, PayloadTooLarge, QueryError, RdapError, Unauthorized
from rdap.principal import ANONYMOUS, STAFF, Principal, principal_for
from rdap.redaction import RedactedDocument
from rdap.render.contacts import ContactReader
from rdap.render.html import MEDIA_TYPE, NavItem, Pages, Site
from rdap.render.lookup_page import Chrome, LookupPage, search_rows
from rdap.runtime import Runtime
from rdap.views.current import runtime
from rdap.views.identity import identify
from rdap.views.ratelimit import LOOKUP, PRINCIPAL_ATTR, SEARCH, limit_rdap
from rdap.views.urls import base_url, request_url

blueprint = Blueprint("web", __name__)

EXTENSION = "rdapd.web"
HTML = "text/html"
# What RDAP clients ask for; a browser's Accept prefers text/html over its */*.
RDAP_TYPES = ("application/rdap+json", "application/json")
_EXTS_LIST = re.compile(r';\s*exts_list\s*=\s*("[^"]*"|[^,;]*)')
# Form bodies the web pages accept (the longest is a 5000-character message).
MAX_FORM = 32 * 1024

# No script at all, styles from our own origin only, forms post only to us, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SEARCH_KINDS = (("domain", "Domain"), ("nameserver", "Name server"), ("registrar", "Registrar"))


def init_web(app: Flask, runtime: Runtime) -> None:
    """Signed sessions (for CSRF tokens and sign-in): Secure, HttpOnly, SameSite=Lax cookies
    under a key derived from the server secret, so every server of the service shares it."""
    app.secret_key = hmac.new(runtime.secret, b"rdapd web session", hashlib.sha256).hexdigest()
    app.config.update(
        SESSION_COOKIE_NAME="rdapd_session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=3600,
    )
    app.extensions[EXTENSION] = WebState(
        pages=Pages(Site(operator_name=runtime.profile.operator_name)),
        reader=ContactReader.for_policy(runtime.policy),
    )
    app.after_request(secure_html)


# The session member holding a signed-in person's verified claims (rdap.views.signin).
SESSION_KEY = "person"


def _held() -> dict[str, Any] | None:
    held = session.get(SESSION_KEY)
    if not isinstance(held, dict) or held.get("exp", 0) <= dt.datetime.now(dt.UTC).timestamp():
        return None
    return held


def signed_in() -> dict[str, Any] | None:
    """The signed-in person's claims, if the session holds unexpired ones of an account that
    is still active (checked once per request)."""
    if session_principal() is ANONYMOUS:
        return None
    return _held()


def session_principal() -> Principal:
    """The signed-in person as the pipeline sees them: the claims their sign-in token carried,
    checked against their client on every request, so a disabled person is out at once."""
    if "session_principal" not in g:
        g.session_principal = _session_principal()
    found: Principal = g.session_principal
    return found


def _session_principal(purpose: str | None = None) -> Principal:
    held = _held()
    if held is None:
        return ANONYMOUS
    claims = Claims(
        issuer=held["iss"],
        subject=held["sub"],
        token_id=held["jti"],
        role=held["role"],
        purposes=frozenset(held["purposes"]),
        do_not_track=False,
        expires_at=dt.datetime.fromtimestamp(held["exp"], dt.UTC),
        scope="rdap",
        client_id=held["client_id"],
    )
    try:
        with runtime().db.read_connection() as connection:
            return principal_for(claims, purpose=purpose, connection=connection)
    except Unauthorized:
        session.pop(SESSION_KEY, None)
        return ANONYMOUS


def person_principal(purpose: str | None = None) -> Principal:
    """The signed-in person, stating `purpose` (RFC 9560) for a query made on their behalf:
    their grants for that purpose apply, as to their token's query with `farv1_qp`."""
    if purpose is None:
        return session_principal()
    return _session_principal(purpose)


def identify_person() -> None:
    """Who asks for a page: the signed-in person (the session), else a bearer token's holder,
    else the public."""
    identify()
    if g.get(PRINCIPAL_ATTR) in (None, ANONYMOUS):
        g.principal = session_principal()


blueprint.before_request(identify_person)


@dataclasses.dataclass(frozen=True)
class WebState:
    """The web channel's collaborators, built once per application: compiled templates and the
    contact reader of the application's policy (both read-only)."""

    pages: Pages
    reader: ContactReader


def _state() -> WebState:
    found: WebState = current_app.extensions[EXTENSION]
    return found


def pages() -> Pages:
    return _state().pages


def reader() -> ContactReader:
    return _state().reader


# The query parameter of the "as RDAP JSON" link on a page: a browser asks for JSON with it.
FORMAT_PARAM = "format"


def wants_html() -> bool:
    """A browser (text/html preferred over what RDAP clients take); RDAP clients and `*/*`
    get RDAP JSON, and so does a browser following a page's "as RDAP JSON" link."""
    if request.args.get(FORMAT_PARAM) == "json":
        return False
    accept = request.headers.get("Accept", "").lower()
    if "html" not in accept and "text/" not in accept:
        return False  # only text/html, text/* and */* can prefer a page: spare the parse
    if "exts_list" in accept:
        # RDAP extension signalling (rdap.render.contact_format) names extensions, not another
        # media type: application/rdap+json;exts_list="..." still asks for RDAP JSON.
        accept = _EXTS_LIST.sub("", accept)
        ranges = parse_accept_header(accept, MIMEAccept)
        return ranges.best_match([*RDAP_TYPES, HTML]) == HTML
    return request.accept_mimetypes.best_match([*RDAP_TYPES, HTML]) == HTML


def json_url(url: str) -> str:
    """The same answer as RDAP JSON, for a browser (the page's "as RDAP JSON" link)."""
    return url + ("&" if "?" in url else "?") + f"{FORMAT_PARAM}=json"


def use_session_principal() -> None:
    """A page for a browser without a bearer token is made for the signed-in person, if any."""
    if g.get(PRINCIPAL_ATTR) in (None, ANONYMOUS):
        g.principal = session_principal()


def _chrome() -> Chrome:
    person = signed_in()
    context: dict[str, Any] = {
        "person": None,
        "search_kinds": SEARCH_KINDS,
        "query": "",
        "kind": "domain",
    }
    if person is not None:
        context |= {"person": person, "signout_token": generate_csrf()}
    return Chrome(base_url=base_url(), nav=_nav(person), context=context)


def _html_response(body: bytes, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype=HTML)
    response.content_type = MEDIA_TYPE
    response.vary.add("Accept")
    response.vary.add("Cookie")
    if signed_in() is not None:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def lookup_answer(document: RedactedDocument) -> Response:
    """A lookup's redacted document as the web lookup page."""
    renderer = LookupPage(
        pages=pages(), reader=_state().reader, chrome=_chrome(), rdap_url=json_url(request_url())
    )
    return _html_response(renderer.render(document))


def search_answer(results: Sequence[RedactedDocument], next_cursor: str | None) -> Response:
    """A search's results as a list of links to their pages."""
    chrome = _chrome()
    next_url = None
    if next_cursor is not None:
        args = request.args.to_dict(flat=True) | {"cursor": next_cursor}
        next_url = f"{base_url()}{request.path}?{urlencode(args)}"
    body = pages().render(
        "web/search.html",
        base_url=chrome.base_url,
        title="Search results",
        nav=chrome.nav,
        context={
            **chrome.context,
            "rows": search_rows(_state().reader, results),
            "rdap_url": json_url(request_url()),
            "next_url": next_url,
        },
    )
    return _html_response(body)


def secure_html(response: Response) -> Response:
    """Every HTML answer: the strict CSP, no referrer, no sniffing, never framed."""
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == HTML:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def page(
    template: str,
    title: str,
    *,
    status: int = 200,
    context: Mapping[str, Any] | None = None,
    private: bool = False,
) -> Response:
    """A rendered page. `private`: it holds a form token or a signed-in user's data, so no
    cache may keep it."""
    person = signed_in()
    extra: dict[str, Any] = {"person": None}
    if person is not None:
        private = True  # a page with a signed-in person's name and sign-out token
        extra = {"person": person, "signout_token": generate_csrf()}
    body = pages().render(
        template,
        base_url=base_url(),
        title=title,
        nav=_nav(person),
        context={**extra, **(context or {})},
    )
    response = Response(body, status=status, mimetype=HTML)
    response.content_type = MEDIA_TYPE
    response.vary.add("Accept")
    response.vary.add("Cookie")
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _nav(person: Mapping[str, Any] | None) -> tuple[NavItem, ...]:
    if person is None:
        return (NavItem("/signin", "Sign in"),)
    if person.get("role") == STAFF:
        return (NavItem("/review", "Review queue"), NavItem("/statistics", "Statistics"))
    return (NavItem("/portal", "Your requests"),)


def error_page(error: RdapError) -> Response:
    """An error for a browser: a page in words, with the RDAP status; never the caller's input."""
    return page(
        "web/error.html",
        error.title,
        status=error.status,
        context={
            "message": error.description,
            "show_search": error.status in (400, 404),
            "search_kinds": SEARCH_KINDS,
            "query": "",
            "kind": "domain",
        },
    )


def home() -> Response:
    return page(
        "web/home.html",
        "Registration data lookup",
        context={"search_kinds": SEARCH_KINDS, "query": "", "kind": "domain"},
    )


@blueprint.get("/search")
@limit_rdap(LOOKUP)
def search() -> Response:
    """The search box: a domain or name server goes to its lookup page; a registrar to its page
    by IANA ID, or to the registrar search by name."""
    query = request.args.get("q", "").strip()
    kind = request.args.get("kind", "domain")
    if not query or kind not in dict(SEARCH_KINDS) or len(query) > 253:
        return page(
            "web/error.html",
            "Nothing to look up",
            status=400,
            context={
                "message": "Enter a domain name, a name server or a registrar.",
                "show_search": True,
                "search_kinds": SEARCH_KINDS,
                "query": "",
                "kind": "domain",
            },
        )
    if kind == "registrar":
        target = (
            f"/entity/{quote(query)}"
            if query.isdigit()
            else f"/entities?fn={quote(query.rstrip('*') + '*')}"
        )
    else:
        target = f"/{kind}/{quote(query.rstrip('.'))}"
    response = Response(status=303)
    response.headers["Location"] = base_url() + target
    return response


@blueprint.get("/disclosure-policy")
@limit_rdap(LOOKUP)
def disclosure_policy() -> Response:
    rt = runtime()
    sla = rt.sla
    process = describe(
        rt.profile,
        rt.policy,
        Timelines(
            standard_hours=round(sla.standard.total_seconds() / 3600),
            urgent_hours=round(sla.urgent.total_seconds() / 3600),
            information_days=sla.information_timeout.days if sla.information_timeout else 0,
        ),
    )
    return page(
        "web/disclosure_policy.html",
        "How to request disclosure",
        context={"process": process},
    )


# --- the contact form (the vCard contact-uri every hidden email points to) -------------------

_CONTACT_LABELS = {
    "domain": "Domain",
    "role": "Contact",
    "sender_name": "Your name",
    "sender_email": "Your email address",
    "subject": "Subject",
    "body": "Message",
    "_schema": "Form",
}


def _contact_form(
    form: Mapping[str, str], errors: Mapping[str, list[str]], status: int = 200
) -> Response:
    values = {name: form.get(name, "") for name in _CONTACT_LABELS}
    if values["role"] not in relay.ROLES:
        values["role"] = relay.ROLES[0]
    return page(
        "web/contact.html",
        "Write to a domain's contact",
        status=status,
        private=True,
        context={
            "form": values,
            "errors": errors,
            "labels": _CONTACT_LABELS,
            "roles": relay.ROLES,
            "csrf_token": generate_csrf(),
        },
    )


@blueprint.get("/contact")
@limit_rdap(LOOKUP)
def contact() -> Response:
    return _contact_form(
        {"domain": request.args.get("domain", "")[:253], "role": request.args.get("role", "")},
        {},
    )


def check_csrf() -> None:
    """Every form the web pages post carries the session's CSRF token (flask-wtf)."""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (CsrfInvalid, CSRFError):
        raise CsrfRefused() from None


class CsrfRefused(QueryError):
    """A form without this session's token (expired, or posted from another site): 400."""

    def __init__(self) -> None:
        super().__init__(
            "the form has expired or was not sent from this site; load it again and resend it",
            title="Form expired",
        )


def read_form() -> Mapping[str, str]:
    if request.content_length is not None and request.content_length > MAX_FORM:
        raise PayloadTooLarge(f"forms are limited to {MAX_FORM} bytes")
    check_csrf()
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


@blueprint.post("/contact")
@limit_rdap(SEARCH)
def send_contact() -> Response:
    form = read_form()
    try:
        with runtime().db.session_scope() as session:
            message = relay.submit(session, form, now=dt.datetime.now(dt.UTC))
            sent = {"domain": message.domain, "role": message.role}
    except relay.MessageInvalid as exc:
        return _contact_form(form, exc.errors, status=422)
    return page("web/contact_sent.html", "Message queued", private=True, context=sent)


# --- inaccuracy complaints (the complaints service, as POST /complaints uses it) ------------

_FIELD_LABELS = {
    "name": "Name",
    "org": "Organisation",
    "street": "Street",
    "city": "City",
    "state": "State or province",
    "postal_code": "Postal code",
    "country": "Country",
    "voice": "Phone",
    "fax": "Fax",
    "email": "Email",
}
_COMPLAINT_CHOICES = tuple(
    (role, tuple((f"{role}.{field}", _FIELD_LABELS[field]) for field in complaints.CONTACT_FIELDS))
    for role in complaints.CONTACT_ROLES
)


def _complaint_form(form: Mapping[str, Any], error: str | None, status: int = 200) -> Response:
    values = {
        "domain": str(form.get("domain", ""))[:253],
        "fields": list(form.get("fields", [])),
        "description": str(form.get("description", "")),
        "reporterEmail": str(form.get("reporterEmail", "")),
    }
    return page(
        "web/complaint.html",
        "Report inaccurate data",
        status=status,
        private=True,
        context={
            "form": values,
            "error": error,
            "choices": _COMPLAINT_CHOICES,
            "csrf_token": generate_csrf(),
        },
    )


@blueprint.get("/complaints/new")
@limit_rdap(LOOKUP)
def complaint_form() -> Response:
    return _complaint_form({"domain": request.args.get("domain", "")}, None)


@blueprint.post("/complaints/new")
@limit_rdap(SEARCH)
def send_complaint() -> Response:
    read_form()
    body: dict[str, Any] = {
        "domain": request.form.get("domain", ""),
        "fields": request.form.getlist("fields"),
        "description": request.form.get("description", ""),
        "reporterEmail": request.form.get("reporterEmail") or None,
    }
    try:
        with runtime().db.session_scope() as db_session:
            complaint = complaints.submit(db_session, body, now=dt.datetime.now(dt.UTC))
            sent = {"domain": complaint.domain, "id": complaint.id}
    except (QueryError, NotFound) as exc:
        return _complaint_form(body, exc.description, status=exc.status)
    return page(
        "web/complaint_sent.html",
        "Report received",
        private=True,
        context={"domain": sent["domain"], "status_url": f"{base_url()}/complaints/{sent['id']}"},
    )
