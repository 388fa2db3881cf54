"""Rate limits: the unbound limiter, its keys (client id, IP or IPv6 /64), role tiers and 429s."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import orjson
from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded

from rdap.principal import (
    LAW_ENFORCEMENT,
    PUBLIC,
    REGISTRAR,
    REQUESTER,
    STAFF,
    Principal,
)
from rdap.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

EXTENSION = "rdapd.ratelimit"
# The RDAP views store the caller's Principal on flask.g under this name before the view runs.
PRINCIPAL_ATTR = "principal"
LOOKUP = "lookup"
SEARCH = "search"
RDAP_CONTENT_TYPE = "application/rdap+json"


def ip_key(address: str | None) -> str:
    """IPv4 callers are counted per address, IPv6 callers per /64 (one customer network)."""
    if not address:
        return "ip:unknown"
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"ip:{address[:64]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"ip:{ip.ipv4_mapped}"
        return f"ip6:{ipaddress.IPv6Network((ip, 64), strict=False).network_address}/64"
    return f"ip:{ip}"


def _principal() -> Principal | None:
    principal = g.get(PRINCIPAL_ATTR)
    return principal if isinstance(principal, Principal) else None


def rate_key() -> str:
    """Authenticated callers are counted per client (so new tokens do not reset the count)."""
    principal = _principal()
    if principal is not None and not principal.is_public:
        if principal.client_id:
            return f"client:{principal.client_id}"
        if principal.subject:
            return f"sub:{principal.subject}"
    return ip_key(request.remote_addr)


@dataclasses.dataclass(frozen=True)
class _Tiers:
    by_role: dict[str, str]
    search_cost: int


def _tiers() -> _Tiers:
    tiers: _Tiers = current_app.extensions[EXTENSION]
    return tiers


def role_limit() -> str:
    """The limit string for the caller's role (settings ratelimit_<role>)."""
    principal = _principal()
    role = principal.role if principal is not None else PUBLIC
    tiers = _tiers()
    return tiers.by_role.get(role, tiers.by_role[PUBLIC])


def request_cost(kind: str) -> int:
    """How many units a request of this kind ("lookup" or "search") takes from the budget."""
    if kind == SEARCH:
        return max(1, _tiers().search_cost)
    if kind == LOOKUP:
        return 1
    raise ValueError(f"unknown request kind {kind!r}")


limiter = Limiter(
    key_func=rate_key,
    default_limits=[],
    in_memory_fallback_enabled=True,
    headers_enabled=True,
    key_prefix="rdapd",
)


def limit_rdap(kind: str) -> Callable[[F], F]:
    """Decorate an RDAP view: one budget per caller across lookups and searches."""
    if kind not in (LOOKUP, SEARCH):
        raise ValueError(f"unknown request kind {kind!r}")
    route_limit = limiter.shared_limit(
        role_limit, scope="rdap", key_func=rate_key, cost=lambda: request_cost(kind)
    )

    def decorate(view: F) -> F:
        return cast(F, route_limit(view))

    return decorate


def rdap_429(retry_after: int) -> Response:
    """An RFC 9083 error body for 429, with Retry-After (RFC 6585 §4)."""
    body = {
        "rdapConformance": ["rdap_level_0"],
        "errorCode": 429,
        "title": "Too Many Requests",
        "description": [f"Rate limit exceeded; retry after {retry_after} seconds."],
    }
    response = Response(orjson.dumps(body), status=429, content_type=RDAP_CONTENT_TYPE)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _too_many(_error: RateLimitExceeded) -> Response:
    retry_after = 1
    current = limiter.current_limit
    if current is not None:
        retry_after = max(1, math.ceil(current.reset_at - time.time()))
    return rdap_429(retry_after)


def init_limiter(app: Flask, settings: Settings) -> None:
    """Bind the limiter to `app` with storage and tiers from settings."""
    app.extensions[EXTENSION] = _Tiers(
        by_role={
            PUBLIC: settings.ratelimit_public,
            REGISTRAR: settings.ratelimit_registrar,
            REQUESTER: settings.ratelimit_requester,
            LAW_ENFORCEMENT: settings.ratelimit_law_enforcement,
            STAFF: settings.ratelimit_staff,
        },
        search_cost=settings.ratelimit_search_cost,
    )
    app.config["RATELIMIT_ENABLED"] = settings.ratelimit_enabled
    app.config["RATELIMIT_STORAGE_URI"] = settings.ratelimit_storage_uri
    if settings.ratelimit_storage_uri.startswith(("redis://", "rediss://")):
        # An unreachable Redis must fail fast so the in-memory fallback takes over.
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 1}
    limiter.enabled = settings.ratelimit_enabled
    # One limiter serves every app this process builds; a new app starts on its own storage.
    limiter._storage_dead = False
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many)
