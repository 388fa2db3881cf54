"""Rate limits over HTTP: RDAP views spend the caller's budget; the OAuth endpoints, failures.

The counting is rdap.ratelimit's (no Flask there, so WHOIS shares it); this module only finds
the caller and the address, and turns a refusal into the one RDAP error body (views/errors.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import unquote

from flask import Flask, Response, current_app, g, request

from rdap.errors import RateLimited
from rdap.principal import PUBLIC, Principal
from rdap.ratelimit import (
    LOOKUP,
    SEARCH,
    RateLimits,
    Verdict,
    auth_failure_keys,
    caller_key,
)
from rdap.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

EXTENSION = "rdapd.ratelimit"
# The RDAP views store the caller's Principal on flask.g under this name before the view runs.
PRINCIPAL_ATTR = "principal"

__all__ = ["LOOKUP", "PRINCIPAL_ATTR", "SEARCH", "init_ratelimit", "limit_rdap", "ratelimits"]


def init_ratelimit(app: Flask, settings: Settings) -> RateLimits:
    """Attach the application's RateLimits (budgets and storage from settings)."""
    limits = RateLimits.from_settings(settings)
    app.extensions[EXTENSION] = limits
    return limits


def ratelimits(app: Flask | None = None) -> RateLimits:
    limits: RateLimits = (app or current_app).extensions[EXTENSION]
    return limits


def refusal(verdict: Verdict) -> RateLimited:
    """The error a refused request raises; its Retry-After and its text say the same."""
    return RateLimited(
        f"Rate limit exceeded ({verdict.limit}); retry after {verdict.retry_after} seconds.",
        retry_after=verdict.retry_after,
    )


def limit_rdap(kind: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an RDAP view: one budget per caller across lookups and searches; a search takes
    `ratelimit_search_cost` units. Runs after the before_request hooks that identify the caller."""
    if kind not in (LOOKUP, SEARCH):
        raise ValueError(f"unknown request kind {kind!r}")

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def limited(*args: P.args, **kwargs: P.kwargs) -> R:
            limits = ratelimits()
            found = g.get(PRINCIPAL_ATTR)
            principal = found if isinstance(found, Principal) else None
            verdict = limits.hit(
                caller_key(principal, request.remote_addr),
                role=principal.role if principal is not None else PUBLIC,
                cost=limits.cost(kind),
            )
            if not verdict.allowed:
                raise refusal(verdict)
            return view(*args, **kwargs)

        return limited

    return decorate


def claimed_client_id() -> str | None:
    """The client id a token or revocation request claims (HTTP Basic or the form), decoded as
    the authorization server decodes it, so no spelling of one id escapes its budget."""
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username:
        return unquote(auth.username)
    form_id = request.form.get("client_id")
    return form_id or None


def limit_auth_failures(respond: Callable[[], Response], refuse: Callable[[Verdict], Any]) -> Any:
    """Run a client-authenticating endpoint within the failure budgets of the claimed client id
    and of the address: refused (by `refuse`) before any secret is checked once either is
    spent; a 401 answer counts against both."""
    limits = ratelimits()
    keys = auth_failure_keys(claimed_client_id(), request.remote_addr)
    verdict = limits.check_failures(keys)
    if not verdict.allowed:
        return refuse(verdict)
    response = respond()
    if response.status_code == 401:
        limits.record_failure(keys)
    return response
