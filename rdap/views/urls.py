"""This service's public URLs: the base for links and the request's own URL, from RDAP_BASE_URL
or else from a Host the configuration allows (a forged Host never reaches an answer)."""

from __future__ import annotations

from urllib.parse import quote

from flask import request

from rdap.errors import QueryError
from rdap.views.current import runtime

# Characters left as they are when the request's path and query are written into a URI.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _settings_base() -> str:
    rt = runtime()
    return rt.settings.base_url.rstrip("/")


def base_url() -> str:
    """The URL links start with: RDAP_BASE_URL when set, else scheme and (allowed) Host."""
    return _settings_base() or f"{request.scheme}://{request.host}{request.root_path}"


def request_url() -> str:
    """The URL of this request as a URI, on the base URL (the context of every link, RFC 8288)."""
    url = base_url() + quote(request.path, safe=_PATH_SAFE)
    if request.query_string:
        url += "?" + quote(request.query_string.decode("utf-8", "replace"), safe=_PATH_SAFE + "?%")
    return url


def host_name(host: str) -> str:
    """The name part of a Host value (`[::1]:8080` → `::1`), lower case, without a final dot."""
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else ""
    else:
        name = host.partition(":")[0]
    return name.rstrip(".").lower()


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Django ALLOWED_HOSTS matching: exact names, or `.example.com` for it and its subdomains."""
    name = host_name(host)
    if not name:
        return False
    for entry in allowed:
        pattern = host_name(entry) if entry.startswith("[") else entry.rstrip(".").lower()
        if pattern.startswith("."):
            if name == pattern[1:] or name.endswith(pattern):
                return True
        elif name == pattern:
            return True
    return False


def check_host() -> None:
    """Refuse a request whose Host this service was not configured to answer to (400)."""
    rt = runtime()
    allowed = rt.settings.trusted_hosts
    if allowed is not None and not host_allowed(request.host, allowed):
        raise QueryError("this server does not answer to the host named in the request")
