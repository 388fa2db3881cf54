"""Property-based fuzzing of the HTTP surface: arbitrary paths, query strings, headers and bodies
(hypothesis), and every operation of rdap/openapi.json with generated inputs (schemathesis).
Whatever comes in, the answer is never a 5xx, and an error is an RDAP error body (RFC 9083 §6),
on the OAuth endpoints an RFC 6749 error, and on the web pages (and their forms) a page or,
negotiated, an RDAP error body.
Bounded: a fixed number of examples each."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rdap.db import Database
from tests import factories

RDAP = "application/rdap+json"
# Answers that are not RDAP documents by design.
NOT_RDAP = ("/openapi.json", "/healthz", "/readyz", "/metrics", "/.well-known/", "/oauth/")
# The web pages and their forms: their errors are pages for people (rdap.views.web).
WEB_PAGES = frozenset(
    {
        "/search",
        "/contact",
        "/complaints/new",
        "/disclosure-policy",
        "/signin",
        "/signin/callback",
        "/signout",
        "/oauth/authorize",
        "/portal",
        "/portal/new",
        "/review",
        "/statistics",
    }
)
WEB_PAGE_PREFIXES = ("/portal/requests/", "/review/")

BOUNDED = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def registry(db: Database) -> None:
    with db.session_scope() as session:
        factories.full_domain(session, name="example.post")


def check_answer(path: str, status: int, content_type: str, body: bytes) -> None:
    assert status < 500, (path, status, body[:300])
    if status < 400:
        return
    web_page = path in WEB_PAGES or path.startswith(WEB_PAGE_PREFIXES)
    if web_page and content_type.startswith("text/html"):  # else negotiated: RDAP, as below
        assert b"<h1>" in body or not body, (path, status, body[:300])
        return
    if path.startswith("/oauth/"):
        assert b'"error"' in body or content_type.startswith(RDAP), (path, status, body[:300])
        return
    assert content_type.startswith(RDAP), (path, status, content_type)
    if body:  # HEAD answers carry no body
        import orjson

        document = orjson.loads(body)
        assert document["errorCode"] == status
        assert isinstance(document["title"], str)
        assert all(isinstance(line, str) for line in document.get("description", []))


# Printable ASCII and some non-ASCII, as clients send them (werkzeug wants headers in latin-1).
_segment = st.text(
    alphabet=string.ascii_letters + string.digits + "-._~%*!$&'()+,;=:@ éü中", max_size=30
)
_paths = st.one_of(
    st.lists(_segment, min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts)),
    st.sampled_from(
        ["/domain/", "/nameserver/", "/entity/", "/domains", "/nameservers", "/entities", "/help"]
    ).flatmap(lambda prefix: _segment.map(lambda s: prefix + s)),
)
_query = st.dictionaries(
    st.sampled_from(
        [
            "name",
            "nsLdhName",
            "nsIp",
            "fn",
            "handle",
            "ip",
            "count",
            "sort",
            "cursor",
            "fieldSet",
            "farv1_qp",
            "access_token",
            "x",
        ]
    ),
    st.text(alphabet=string.printable.strip() + "é中*", max_size=40),
    max_size=4,
)
_header_value = st.text(
    alphabet=string.ascii_letters + string.digits + " -_.,;:=/+*\"'()", max_size=60
)
_headers = st.dictionaries(
    st.sampled_from(
        [
            "Accept",
            "Authorization",
            "X-Request-Id",
            "Content-Type",
            "Origin",
            "X-Forwarded-For",
            "If-None-Match",
            "Accept-Language",
        ]
    ),
    _header_value,
    max_size=4,
)


def _as_sent(path: str) -> dict[str, Any]:
    """Test-client arguments that deliver `path` as a server would. The test client reads a
    path beginning with "//" as a URL with a host ("//host/rest"); an HTTP server takes it as
    the path it is (RFC 9112 origin-form: empty segments are allowed), percent-decoded into
    PATH_INFO one character per octet (PEP 3333)."""
    if not path.startswith("//"):
        return {"path": path}
    return {
        "path": "/",
        "environ_overrides": {"PATH_INFO": unquote_to_bytes(path).decode("latin-1")},
    }


@BOUNDED
@given(path=_paths, query=_query, headers=_headers, method=st.sampled_from(["GET", "HEAD"]))
def test_any_get_is_answered_without_a_server_error(  # type: ignore[no-untyped-def]
    client, registry, path, query, headers, method
) -> None:
    response = client.open(**_as_sent(path), method=method, query_string=query, headers=headers)
    # Judged by the path the application routed (decoded, leading slashes merged).
    seen = response.request.path
    check_answer(seen, response.status_code, response.content_type or "", response.get_data())


@BOUNDED
@given(
    path=st.sampled_from(
        [
            "/complaints",
            "/oauth/token",
            "/oauth/revoke",
            "/domain/example.post",
            "/registrar/complaints/x/close",
            "/domains",
        ]
    ),
    body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "application/rdap+json",
        ]
    ),
    method=st.sampled_from(["POST", "PUT", "DELETE", "PATCH"]),
)
def test_any_body_is_answered_without_a_server_error(  # type: ignore[no-untyped-def]
    client, registry, path, body, content_type, method
) -> None:
    response = client.open(path, method=method, data=body, content_type=content_type)
    check_answer(path, response.status_code, response.content_type or "", response.get_data())


def test_every_documented_operation(app, registry) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @settings(BOUNDED, max_examples=15)
        @given(case=operation.as_strategy())
        def answered(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            headers = {k.lower(): v for k, v in response.headers.items()}
            content_type = headers.get("content-type", "")
            if isinstance(content_type, list):
                content_type = content_type[0] if content_type else ""
            check_answer(case.formatted_path, response.status_code, content_type, response.content)

        answered()
