"""Response headers every answer carries: CORS (RFC 7480 §5.6), with preflight."""

from __future__ import annotations

from flask import Response, current_app, request

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
