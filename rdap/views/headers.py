"""Response headers every answer carries: CORS (RFC 7480 §5.6) with preflight, and caching
decided by the principal the request resolved to."""

from __future__ import annotations

from flask import Response, current_app, g, request

from rdap.principal import ANONYMOUS, Principal
from rdap.views.current import runtime
from rdap.views.ratelimit import PRINCIPAL_ATTR

# Request headers browsers may send cross-origin, and how long they may remember a preflight
# (Chromium caps it at 7200 s).
ALLOWED_HEADERS = "Authorization, Accept, Content-Type"
PREFLIGHT_MAX_AGE = 7200


def preflight() -> Response | None:
    """OPTIONS on any path: 204 with the methods that path allows, for CORS and RFC 9110 alike."""
    if request.method != "OPTIONS":
        return None
    adapter = current_app.create_url_adapter(request)
    methods = sorted(adapter.allowed_methods() if adapter is not None else {"GET", "HEAD"})
    response = Response(status=204)
    del response.headers["Content-Type"]  # no content, so no type
    response.headers["Allow"] = ", ".join(methods)
    response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response


def cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.setdefault("Access-Control-Allow-Headers", "Authorization, Accept")
    response.headers.setdefault("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
    return response


def _shared(principal: Principal | None) -> bool:
    """An answer a shared cache may keep: made for nobody in particular."""
    return principal is None or principal == ANONYMOUS


def caching(response: Response) -> Response:
    """Answers made for a credential are never stored; anonymous GET answers (and their 404s)
    may be kept by any cache for RDAP_CACHE_MAX_AGE seconds; everything else is not stored.
    A view's own Cache-Control on an anonymous success stands (the JWKS and metadata)."""
    response.vary.add("Authorization")
    response.vary.add("Accept")  # browsers get pages (and error pages), RDAP clients JSON
    principal: Principal | None = g.get(PRINCIPAL_ATTR)
    cacheable = request.method in ("GET", "HEAD") and (
        200 <= response.status_code < 300 or response.status_code == 404
    )
    if not _shared(principal):
        response.headers["Cache-Control"] = "private, no-store"
    elif not cacheable:
        response.headers["Cache-Control"] = "no-store"
    elif "Cache-Control" not in response.headers or response.status_code == 404:
        rt = runtime()
        response.headers["Cache-Control"] = f"public, max-age={rt.settings.cache_max_age}"
    return response
