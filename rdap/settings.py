"""Settings: one frozen dataclass built from RDAP_* environment variables; every default runs."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_ROOT = Path(__file__).resolve().parent
PREFIX = "RDAP_"
# The Host names a server with neither RDAP_BASE_URL nor RDAP_ALLOWED_HOSTS answers to.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class SettingsError(ValueError):
    """An RDAP_* variable is unknown or has a value of the wrong form."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean, got {raw!r}")


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _positive_ints(raw: str) -> tuple[int, ...]:
    values = tuple(int(part) for part in _csv(raw))
    if any(value < 1 for value in values):
        raise ValueError(f"expected whole numbers of 1 or more, got {raw!r}")
    return values


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every configurable value of the service. Build it with `Settings.from_env()`."""

    # Where instance data (the embedded SQLite database, generated keys) lives.
    instance_path: Path = PROJECT_ROOT / "instance"
    # SQLAlchemy URL; empty means SQLite under instance_path.
    database_url: str = ""
    # Read replicas for lookups and searches (comma-separated URLs; a comma inside a URL is
    # written %2C); empty means the primary answers them. Writes always go to the primary.
    database_read_urls: tuple[str, ...] = ()
    # Deprecated: one read replica; a one-element RDAP_DATABASE_READ_URLS.
    database_read_url: str = ""
    # Seconds one unit of database work (checkout and statements) may take before it is cut and
    # the request answered 503; also PostgreSQL's statement_timeout and SQLite's busy timeout.
    database_timeout: float = 2.0
    # Seconds to establish a new PostgreSQL connection (libpq counts whole seconds, at least 2).
    database_connect_timeout: int = 2
    # Seconds of replication lag past which a replica is left out of reads.
    database_replica_max_lag: float = 10.0
    # Public base URL of this service (for links); empty means derive from each request's Host,
    # which must then be one of allowed_hosts.
    base_url: str = ""
    # Host names (Django ALLOWED_HOSTS style: ".example.com" matches subdomains, "*" anything) a
    # request may name when base_url is empty; others get a 400. Empty: localhost, 127.0.0.1
    # and ::1 (`rdapd serve` adds the address it binds to). Checked even with base_url if set.
    allowed_hosts: tuple[str, ...] = ()
    # max-age (seconds) of anonymous answers in shared caches; authenticated ones are never stored.
    cache_max_age: int = 60
    # Rate-limit counter storage (a `limits` storage URI): memory:// counts per process (then
    # `rdapd serve` starts a private Redis under instance_path, see rdap/counters.py);
    # redis://host:port/db or redis+unix:///path share counters between processes and servers.
    ratelimit_storage_uri: str = "memory://"
    # Rate limits off entirely (tests of other concerns, benchmarks of the bare pipeline).
    ratelimit_enabled: bool = True
    # Directory of redaction policy files.
    policies_path: Path = PROJECT_ROOT / "policies"
    # Service profile: operator, notices, contact-form URL (TOML).
    service_file: Path = PACKAGE_ROOT / "service.toml"
    # Maximum results in one search page.
    search_page_size: int = 50
    # Secret for signing cursors and similar server-side tokens; empty means generate once
    # into instance_path.
    secret_key: str = ""
    # Key that encrypts the OAuth token signing keys stored in the database (32+ random
    # characters; never stored there); empty means generate once into instance_path.
    key_encryption_key: str = ""
    # Bearer tokens accepted only over TLS unless the peer is loopback.
    require_tls: bool = True
    # Trust X-Forwarded-* headers from this many proxies (0 = none).
    proxy_count: int = 0
    # Gunicorn workers for `rdapd serve`; 0 = derived from CPU count.
    workers: int = 0
    # Threads per worker: requests one worker answers at once.
    threads: int = 8
    # Seconds a client may leave a request (or the reading of its answer) without progress
    # before its connection is closed.
    client_timeout: float = 5.0
    # Log level for the service.
    log_level: str = "INFO"
    # One JSON line per request on standard output (request id, route, status, duration, role).
    access_log: bool = True
    # Where metric values of `rdapd serve` workers (and of imports, for a server on the same
    # host to report) are kept; empty means a fresh temporary directory per server.
    metrics_dir: str = ""
    # Comma-separated list; TLDs served even before any deposit names them.
    tlds: tuple[str, ...] = ()
    # --- OAuth 2.0 / RFC 9560 (rdap.oauth, rdap.auth) ---
    # Accept bearer tokens and run the built-in authorization server (/oauth/*); off = public only.
    oauth_enabled: bool = True
    # `iss` of our access tokens; empty means base_url, else the address `rdapd serve` binds to,
    # else http://localhost:8080.
    oauth_issuer: str = ""
    # `aud` our tokens carry and that every accepted token must carry; empty means the issuer.
    oauth_audience: str = ""
    # Lifetime of issued access tokens, in seconds (RFC 9068 tokens are short-lived).
    oauth_token_ttl: int = 300
    # JWS algorithms accepted on incoming tokens (allow-list; `none` and HS* are never accepted).
    oauth_algorithms: tuple[str, ...] = ("ES256", "RS256", "EdDSA")
    # Seconds that signing keys, client status and the jti deny-list may be cached (at most 5).
    oauth_cache_ttl: int = 5
    # JSON or TOML file listing trusted external issuers (RFC 9560); empty means none.
    trusted_issuers: str = ""
    # Rate limits per role (limits notation: "60/minute", "10/second;1000/hour"); searches cost
    # ratelimit_search_cost units.
    ratelimit_public: str = "60/minute"
    ratelimit_registrar: str = "600/minute"
    ratelimit_requester: str = "120/minute"
    ratelimit_law_enforcement: str = "300/minute"
    ratelimit_staff: str = "1200/minute"
    ratelimit_search_cost: int = 5
    # Failed client authentications (/oauth/token, /oauth/revoke) allowed per address and per
    # client id; successes do not count.
    ratelimit_auth_failures: str = "10/minute"
    # --- Disclosure requests (rdap.disclosure) ---
    # Hours from receipt to decision for a standard request (NIS2 Art. 28(5): 72 h).
    disclosure_sla_standard_hours: int = 72
    # Hours for an urgent request (law enforcement only).
    disclosure_sla_urgent_hours: int = 24
    # Days a request waits for the requester's information before it is closed; 0 = forever.
    disclosure_information_days: int = 30
    # Days before an accreditation's valid_until at which `rdapd notify` queues a renewal
    # reminder, once each per validity period (comma-separated; empty: no reminders).
    disclosure_renewal_reminder_days: tuple[int, ...] = (60, 30, 7)
    # --- Notifications to requesters and reviewers (rdap.disclosure.notify, `rdapd notify`) ---
    # How they are sent: "log" (written to the log; the default) or "smtp".
    notify_sender: str = "log"
    # The From address of notification mail.
    notify_from: str = "rdapd@localhost"
    # Minutes between delivery attempts double from 1 up to this while mail is down.
    notify_max_backoff_minutes: int = 60
    # The SMTP server (notify_sender = "smtp").
    smtp_host: str = "localhost"
    smtp_port: int = 25
    # "starttls" (the default), "ssl" (implicit TLS, usually port 465) or "none" (plain: a
    # relay on the same host only).
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = dataclasses.field(default="", repr=False)
    # Seconds to wait for the SMTP server.
    smtp_timeout: float = 10.0
    # --- answer cache (rdap.answer_cache) ---
    # Bytes of rendered answers each worker keeps in memory (0: no answer cache at all).
    answer_cache_bytes: int = 64 * 1024 * 1024
    # Redis URL (redis://host:port/db) sharing answers between workers and servers; empty: none.
    answer_cache_url: str = ""
    # Seconds a process may go on using the data version and database stamp it read last; a
    # new deposit reaches every answer within this bound (0: read on every request).
    data_version_ttl: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read RDAP_* variables; unknown RDAP_* names and malformed values are errors."""
        env = os.environ if environ is None else environ
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in env.items():
            if not key.startswith(PREFIX):
                continue
            name = key[len(PREFIX) :].lower()
            if name not in fields:
                known = ", ".join(PREFIX + n.upper() for n in sorted(fields))
                raise SettingsError(f"unknown setting {key}; known settings: {known}")
            values[name] = _convert(key, fields[name], raw)
        values.update(overrides)
        return cls(**values)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.instance_path / 'rdapd.sqlite3'}"

    @property
    def effective_read_urls(self) -> tuple[str, ...]:
        """The read replicas; RDAP_DATABASE_READ_URL counts as a one-element list."""
        if self.database_read_urls:
            return self.database_read_urls
        return (self.database_read_url,) if self.database_read_url else ()

    @property
    def effective_read_url(self) -> str:
        """Where lookups read first: the first replica, or the primary."""
        return next(iter(self.effective_read_urls), self.effective_database_url)

    @property
    def trusted_hosts(self) -> tuple[str, ...] | None:
        """The Host names requests may carry; None when any will do (the base URL is fixed)."""
        if "*" in self.allowed_hosts:
            return None
        if self.allowed_hosts:
            return self.allowed_hosts
        return None if self.base_url else LOCAL_HOSTS

    @property
    def effective_oauth_issuer(self) -> str:
        return (self.oauth_issuer or self.base_url or "http://localhost:8080").rstrip("/")

    @property
    def effective_oauth_audience(self) -> str:
        return self.oauth_audience or self.effective_oauth_issuer


def _convert(key: str, field: dataclasses.Field[Any], raw: str) -> Any:
    kind = field.type
    try:
        if kind in ("bool", bool):
            return _bool(raw)
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
        if kind in ("Path", Path):
            return Path(raw)
        if kind in ("tuple[str, ...]", "tuple[int, ...]"):
            return _csv(raw) if kind == "tuple[str, ...]" else _positive_ints(raw)
    except ValueError as exc:
        raise SettingsError(f"{key}: {exc}") from None
    return raw
