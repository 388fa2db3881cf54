"""Rate limits: the unbound limiter, its keys (client id, IP or IPv6 /64), role tiers and 429s;
and RateLimits, the same budgets for channels outside Flask."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import orjson
from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import RateLimitItem, WindowStats, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

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
log = logging.getLogger("rdap.ratelimit")

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


# --- outside Flask: the same budgets for channels that are not the web app (port 43) ----------
# Counted with the `limits` library (flask-limiter's own) by the moving-window strategy: at most
# N units in any window of the limit's length. Keys are those above (ip_key: IPv6 per /64).
QUERIES = "rdap"
KEY_PREFIX = "rdapd"
# Seconds a failing storage (Redis gone) is left alone before it is tried again; meanwhile
# this process counts in memory.
STORAGE_RETRY = 30.0


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Allowed, or refused for `retry_after` whole seconds (at least 1)."""

    allowed: bool
    retry_after: int = 0


ALLOWED = Verdict(allowed=True)


class RateLimits:
    """Per-role budgets over the configured storage. One instance serves every thread of a
    process (its storages are shared mutable state, guarded by a lock)."""

    def __init__(
        self,
        *,
        by_role: dict[str, tuple[RateLimitItem, ...]],
        search_cost: int,
        storage_uri: str,
        enabled: bool = True,
    ) -> None:
        self.by_role = by_role
        self.search_cost = max(1, search_cost)
        self.storage_uri = storage_uri
        self.enabled = enabled
        self._lock = threading.Lock()
        self._primary: MovingWindowRateLimiter | None = None
        self._fallback: MovingWindowRateLimiter | None = None
        self._retry_at = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        texts = {
            PUBLIC: settings.ratelimit_public,
            REGISTRAR: settings.ratelimit_registrar,
            REQUESTER: settings.ratelimit_requester,
            LAW_ENFORCEMENT: settings.ratelimit_law_enforcement,
            STAFF: settings.ratelimit_staff,
        }
        by_role = {}
        for role, text in texts.items():
            try:
                by_role[role] = tuple(parse_many(text))
            except ValueError:
                raise ValueError(
                    f"rate limit for {role}: {text!r} is not like '60/minute'"
                ) from None
        return cls(
            by_role=by_role,
            search_cost=settings.ratelimit_search_cost,
            storage_uri=settings.ratelimit_storage_uri,
            enabled=settings.ratelimit_enabled,
        )

    def cost(self, kind: str) -> int:
        """Units a request of this kind ("lookup" or "search") takes from the budget."""
        if kind == SEARCH:
            return self.search_cost
        if kind == LOOKUP:
            return 1
        raise ValueError(f"unknown request kind {kind!r}")

    def hit(self, key: str, *, role: str = PUBLIC, cost: int = 1) -> Verdict:
        """Take `cost` units from `key`'s query budget at `role`'s limits."""
        if not self.enabled:
            return ALLOWED
        identifiers = (KEY_PREFIX, QUERIES, key)
        for item in self.by_role.get(role, self.by_role[PUBLIC]):
            if not self._call("hit", item, *identifiers, cost=cost):
                stats: WindowStats = self._call("get_window_stats", item, *identifiers)
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                return Verdict(allowed=False, retry_after=min(wait, item.get_expiry()))
        return ALLOWED

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        limiter = self._limiter()
        try:
            return getattr(limiter, method)(*args, **kwargs)
        except StorageError as exc:
            if limiter is self._fallback:
                raise
            with self._lock:
                self._retry_at = time.monotonic() + STORAGE_RETRY
            log.warning(
                "rate-limit storage failed (%s); counting in this process for %d s",
                type(exc.storage_error).__name__,
                STORAGE_RETRY,
            )
            return getattr(self._limiter(), method)(*args, **kwargs)

    def _limiter(self) -> MovingWindowRateLimiter:
        with self._lock:
            if time.monotonic() < self._retry_at:
                if self._fallback is None:
                    self._fallback = MovingWindowRateLimiter(MemoryStorage())
                return self._fallback
            if self._primary is None:
                options: dict[str, float | str | bool] = {}
                if self.storage_uri.startswith(("redis://", "rediss://", "redis+unix://")):
                    options = {"socket_connect_timeout": 1, "socket_timeout": 1}  # fail fast
                storage = storage_from_string(self.storage_uri, wrap_exceptions=True, **options)
                if not isinstance(storage, Storage):
                    raise TypeError("RDAP_RATELIMIT_STORAGE_URI names an asynchronous storage")
                self._primary = MovingWindowRateLimiter(storage)
            return self._primary
