"""The one exception hierarchy; channels map it to RDAP error bodies, WHOIS lines, CLI exits."""

from __future__ import annotations


class RdapError(Exception):
    """Base of every error a caller may see. `status` is the HTTP status it maps to."""

    status = 500
    title = "Server Error"

    def __init__(self, description: str | None = None, *, title: str | None = None) -> None:
        self.description = description or self.title
        if title is not None:
            self.title = title
        super().__init__(self.description)


class QueryError(RdapError):
    """The request is malformed: bad name, bad parameter, bad pattern."""

    status = 400
    title = "Bad Request"


class NotFound(RdapError):
    """No such object, or not one this caller may know about (the two are indistinguishable)."""

    status = 404
    title = "Not Found"


class Unauthorized(RdapError):
    """A credential was presented and is not valid."""

    status = 401
    title = "Unauthorized"


class Forbidden(RdapError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"


class MethodNotAllowed(RdapError):
    status = 405
    title = "Method Not Allowed"


class Conflict(RdapError):
    """A state change that the current state does not allow."""

    status = 409
    title = "Conflict"


class PayloadTooLarge(RdapError):
    status = 413
    title = "Payload Too Large"


class UnsupportedMediaType(RdapError):
    """The request body is not in a media type this endpoint accepts."""

    status = 415
    title = "Unsupported Media Type"


class Unprocessable(RdapError):
    status = 422
    title = "Unprocessable Content"


class RateLimited(RdapError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, description: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(description)
        self.retry_after = retry_after


class NotImplementedQuery(RdapError):
    """A valid RDAP path or search this server does not offer."""

    status = 501
    title = "Not Implemented"


class ServiceUnavailable(RdapError):
    status = 503
    title = "Service Unavailable"


class DepositError(Exception):
    """An escrow deposit was refused; the message names the element and line."""
