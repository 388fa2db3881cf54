"""Rate limits without a web framework: per-client budgets by role, in one shared counter storage.

Every channel (RDAP over HTTP, the OAuth token endpoint, WHOIS on port 43) asks this module the
same question with the same keys, so a client has one budget whichever way it comes in, and
every process of a server counts in the same storage.

    limits = RateLimits.from_settings(settings)
    key = caller_key(principal, remote_address)   # client id, token subject, IPv4 or IPv6 /64
    verdict = limits.hit(key, role=principal.role, cost=limits.cost(LOOKUP))  # or SEARCH
    if not verdict.allowed:
        ...  # refuse: 429 over HTTP, one line on port 43; verdict.retry_after is whole seconds

Failed client authentication has a budget of its own, per address and per client id, spent
only by failures, so a client that knows its secret is never slowed by its own successes:

    keys = auth_failure_keys(client_id, remote_address)
    verdict = limits.check_failures(keys)   # before any secret is checked; refuse if not allowed
    limits.record_failure(keys)              # after a secret did not match

Settings: `ratelimit_enabled`; `ratelimit_storage_uri`, any storage URI of the `limits` library
(memory:// counts in this process only; redis://, rediss://, redis+unix:// are shared by every
process that uses them — `rdapd serve` replaces memory:// by a shared storage, see
rdap/counters.py); `ratelimit_<role>` in the limits notation ("60/minute",
"10/second;1000/hour"); `ratelimit_search_cost`; `ratelimit_auth_failures`. Another server
process of the same instance (`rdapd whois`) counts with `rdapd serve` by building its limits
from `rdap.counters.shared_counters(settings, processes=1)`.

Counting uses the moving-window strategy: at most N units in any window, so no client gets 2N at
a window's edge. A storage that fails (Redis gone) is replaced by counters in this process, with
one warning, and tried again after STORAGE_RETRY seconds: limits hold per process meanwhile.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from limits import RateLimitItem, WindowStats, parse_many
from limits.errors import ConfigurationError, StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from rdap.principal import LAW_ENFORCEMENT, PUBLIC, REGISTRAR, REQUESTER, STAFF, Principal
from rdap.settings import PREFIX as SETTINGS_PREFIX
from rdap.settings import Settings, SettingsError

log = logging.getLogger("rdap.ratelimit")

LOOKUP = "lookup"
SEARCH = "search"
# Key namespaces: one budget per caller for RDAP queries (lookups and searches alike), and the
# failed-authentication budgets.
QUERIES = "rdap"
AUTH_FAILURES = "auth-failures"
PREFIX = "rdapd"
# Seconds a failed storage is left alone before it is tried again.
STORAGE_RETRY = 30.0
# Per-process counters: the storage that counts nothing beyond this process.
PER_PROCESS_SCHEMES = ("memory",)


class LimitError(SettingsError):
    """A limit setting is not in the limits notation, or the storage URI is not usable."""


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The answer to one request: allowed, or refused until `retry_after` seconds have passed."""

    allowed: bool
    retry_after: int = 0  # whole seconds, at least 1 when refused
    limit: str = ""  # the limit that refused, as configured ("60 per 1 minute")


ALLOWED = Verdict(allowed=True)


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


def caller_key(principal: Principal | None, address: str | None) -> str:
    """Authenticated callers are counted per client (federated users per subject), so a new
    token does not reset the count; everyone else per address (IPv6 per /64)."""
    if principal is not None and not principal.is_public:
        if principal.client_id:
            return f"client:{principal.client_id}"
        if principal.subject:
            return f"sub:{principal.subject}"
    return ip_key(address)


def auth_failure_keys(client_id: str | None, address: str | None) -> tuple[str, ...]:
    """The failure budgets an authentication attempt draws on: its address, and the client id
    it claims (hashed: the id is the caller's text, known client or not)."""
    keys = [ip_key(address)]
    if client_id:
        digest = hashlib.sha256(client_id.encode("utf-8", "surrogateescape")).hexdigest()
        keys.append(f"client:{digest[:32]}")
    return tuple(keys)


def parse_limits(name: str, text: str) -> tuple[RateLimitItem, ...]:
    """A limit setting ("60/minute", "10/second;1000/hour") as limit items; LimitError names the
    setting when the text is not in the limits notation."""
    try:
        items = tuple(parse_many(text))
    except (ValueError, ConfigurationError):
        items = ()
    if not items:
        setting = SETTINGS_PREFIX + name.upper()
        raise LimitError(f"{setting}: {text!r} is not a rate limit such as '60/minute'")
    return items


def describe(item: RateLimitItem) -> str:
    """`60 per 1 minute`: a limit as people read it."""
    return f"{item.amount} per {item.multiples} {item.GRANULARITY.name}"


def limit_settings(settings: Settings) -> dict[str, str]:
    """Every limit setting by field name (the per-role budgets and the failure budget)."""
    return {
        "ratelimit_public": settings.ratelimit_public,
        "ratelimit_registrar": settings.ratelimit_registrar,
        "ratelimit_requester": settings.ratelimit_requester,
        "ratelimit_law_enforcement": settings.ratelimit_law_enforcement,
        "ratelimit_staff": settings.ratelimit_staff,
        "ratelimit_auth_failures": settings.ratelimit_auth_failures,
    }


def is_per_process(storage_uri: str) -> bool:
    """Does this storage count only inside one process (memory://)?"""
    return storage_uri.split("://", 1)[0].lower() in PER_PROCESS_SCHEMES


class RateLimits:
    """Budgets per role over one storage. Safe to share between the threads of a process."""

    def __init__(
        self,
        *,
        by_role: Mapping[str, Sequence[RateLimitItem]],
        search_cost: int,
        auth_failures: Sequence[RateLimitItem],
        storage_uri: str,
        enabled: bool = True,
    ) -> None:
        if PUBLIC not in by_role:
            raise LimitError("a limit for the public role is required")
        self.by_role = {role: tuple(items) for role, items in by_role.items()}
        self.search_cost = max(1, search_cost)
        self.auth_failures = tuple(auth_failures)
        self.storage_uri = storage_uri
        self.enabled = enabled
        # Shared mutable state (requests of every thread count through it), guarded by _lock:
        # the storages, and while the configured one is failing, when to try it again.
        self._lock = threading.Lock()
        self._primary: MovingWindowRateLimiter | None = None
        self._fallback: MovingWindowRateLimiter | None = None
        self._retry_at = 0.0
        self._failing = False

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        items = {name: parse_limits(name, text) for name, text in limit_settings(settings).items()}
        limits = cls(
            by_role={
                PUBLIC: items["ratelimit_public"],
                REGISTRAR: items["ratelimit_registrar"],
                REQUESTER: items["ratelimit_requester"],
                LAW_ENFORCEMENT: items["ratelimit_law_enforcement"],
                STAFF: items["ratelimit_staff"],
            },
            search_cost=settings.ratelimit_search_cost,
            auth_failures=items["ratelimit_auth_failures"],
            storage_uri=settings.ratelimit_storage_uri,
            enabled=settings.ratelimit_enabled,
        )
        if limits.enabled:
            limits._primary = MovingWindowRateLimiter(limits._open_storage())
        return limits

    # --- queries ------------------------------------------------------------------------------

    def cost(self, kind: str) -> int:
        """Units a request of this kind ("lookup" or "search") takes from the budget."""
        if kind == SEARCH:
            return self.search_cost
        if kind == LOOKUP:
            return 1
        raise ValueError(f"unknown request kind {kind!r}")

    def limits_for(self, role: str) -> tuple[RateLimitItem, ...]:
        return self.by_role.get(role, self.by_role[PUBLIC])

    def hit(self, key: str, *, role: str = PUBLIC, cost: int = 1) -> Verdict:
        """Take `cost` units from `key`'s budget for RDAP queries at `role`'s limits."""
        if not self.enabled:
            return ALLOWED
        return self._hit(self.limits_for(role), (PREFIX, QUERIES, key), cost)

    def check_failures(self, keys: Iterable[str]) -> Verdict:
        """Is one more failed authentication allowed for every one of `keys`? Takes nothing."""
        if not self.enabled:
            return ALLOWED
        for key in keys:
            for item in self.auth_failures:
                identifiers = (PREFIX, AUTH_FAILURES, key)
                if not self._call("test", item, *identifiers):
                    return self._refused(item, identifiers)
        return ALLOWED

    def record_failure(self, keys: Iterable[str]) -> None:
        """Count one failed authentication against each of `keys`."""
        if not self.enabled:
            return
        for key in keys:
            for item in self.auth_failures:
                identifiers = (PREFIX, AUTH_FAILURES, key)
                self._call("hit", item, *identifiers)

    # --- counting -----------------------------------------------------------------------------

    def _hit(
        self, items: Sequence[RateLimitItem], identifiers: tuple[str, ...], cost: int
    ) -> Verdict:
        for item in items:
            if not self._call("hit", item, *identifiers, cost=cost):
                return self._refused(item, identifiers)
        return ALLOWED

    def _refused(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> Verdict:
        stats: WindowStats = self._call("get_window_stats", item, *identifiers)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        return Verdict(
            allowed=False, retry_after=min(wait, item.get_expiry()), limit=describe(item)
        )

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a strategy method on the configured storage, or on this process's counters while
        that storage is failing."""
        limiter = self._limiter()
        if limiter is self._fallback:
            return getattr(limiter, method)(*args, **kwargs)
        try:
            result = getattr(limiter, method)(*args, **kwargs)
        except StorageError as exc:
            self._storage_failed(exc)
            return getattr(self._limiter(), method)(*args, **kwargs)
        if self._failing:
            self._storage_answered()
        return result

    def _limiter(self) -> MovingWindowRateLimiter:
        with self._lock:
            if self._retry_at and time.monotonic() < self._retry_at:
                return self._memory()
            if self._primary is None:
                self._primary = MovingWindowRateLimiter(self._open_storage())
            return self._primary

    def _memory(self) -> MovingWindowRateLimiter:
        if self._fallback is None:
            self._fallback = MovingWindowRateLimiter(MemoryStorage())
        return self._fallback

    def _open_storage(self) -> Storage:
        options: dict[str, float | str | bool] = {}
        if self.storage_uri.startswith(("redis://", "rediss://", "redis+unix://")):
            # A storage that does not answer must fail fast, so the fallback takes over.
            options = {"socket_connect_timeout": 1, "socket_timeout": 1}
        try:
            storage = storage_from_string(self.storage_uri, wrap_exceptions=True, **options)
        except ConfigurationError as exc:
            raise LimitError(f"{SETTINGS_PREFIX}RATELIMIT_STORAGE_URI: {exc}") from None
        if not isinstance(storage, Storage):
            raise LimitError(f"{SETTINGS_PREFIX}RATELIMIT_STORAGE_URI: an async storage")
        return storage

    def _storage_failed(self, exc: StorageError) -> None:
        with self._lock:
            first = not self._failing
            self._failing = True
            self._retry_at = time.monotonic() + STORAGE_RETRY
        log.log(
            logging.WARNING if first else logging.DEBUG,
            "rate-limit storage failed (%s); falling back to in-memory counters of this process,"
            " retrying the storage every %d s",
            type(exc.storage_error).__name__,
            STORAGE_RETRY,
        )

    def _storage_answered(self) -> None:
        with self._lock:
            recovered, self._failing, self._retry_at = self._failing, False, 0.0
        if recovered:
            log.warning("rate-limit storage answers again; counting there")
