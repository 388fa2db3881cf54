"""Every error → an RDAP error body (RFC 9083 §6) and status; never HTML, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from rdap import errors
from rdap.render import rdap_json

log = logging.getLogger("rdap.views")

_BY_STATUS: dict[int, type[errors.RdapError]] = {
    cls.status: cls
    for cls in (
        errors.QueryError,
        errors.Unauthorized,
        errors.Forbidden,
        errors.NotFound,
        errors.MethodNotAllowed,
        errors.Conflict,
        errors.PayloadTooLarge,
        errors.UnsupportedMediaType,
        errors.Unprocessable,
        errors.RateLimited,
        errors.NotImplementedQuery,
        errors.ServiceUnavailable,
    )
}


def _body(error: errors.RdapError) -> Response:
    """The error in the form the caller negotiated: a page for browsers, else RDAP JSON."""
    from rdap.views import web

    if web.EXTENSION in current_app.extensions and web.wants_html():
        try:
            return web.error_page(error)
        except errors.RdapError:  # the page itself cannot be made (a Host we do not answer)
            pass
    runtime = current_app.extensions.get("rdapd")
    profile = runtime.profile if runtime is not None else None
    return Response(
        rdap_json.render_error(error, profile), status=error.status, mimetype=rdap_json.MEDIA_TYPE
    )


def error_response(error: errors.RdapError) -> Response:
    response = _body(error)
    if isinstance(error, errors.RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    challenge = getattr(error, "www_authenticate", None)
    if callable(challenge):
        response.headers["WWW-Authenticate"] = challenge(realm="rdap")
    elif isinstance(error, errors.Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="rdap"'

    return response


# Descriptions of errors werkzeug raises (never its HTML descriptions, never the caller's input).
HTTP_MESSAGES = {
    404: "not an RDAP query this server understands; see /help",
    405: "this method is not allowed here; RDAP queries use GET or HEAD",
    414: "the request URI is longer than this server accepts",
    431: "the request's header fields are larger than this server accepts",
}


def _from_http(exc: HTTPException) -> errors.RdapError:
    cls = _BY_STATUS.get(exc.code or 500)
    if cls is None:
        message = HTTP_MESSAGES.get(exc.code or 0, "the request could not be processed")
        generic = errors.RdapError(message, title=exc.name)
        generic.status = exc.code or 500
        return generic
    return cls(HTTP_MESSAGES.get(exc.code or 0, exc.name))


def register(app: Flask) -> None:
    @app.errorhandler(errors.RdapError)
    def _rdap_error(error: errors.RdapError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        response = error_response(_from_http(exc))
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)  # no connection free in time, or a unit of work cut (rdap.db)
    @app.errorhandler(DisconnectionError)
    def _database_unavailable(exc: Exception) -> Response:
        # Unreachable database, missing schema, lock timeouts: the service, not the query, is
        # at fault. The cause goes to the log only (it may name hosts or tables).
        log.error("database error while answering a request: %s", exc.__class__.__name__)
        response = error_response(
            errors.ServiceUnavailable("the registry database is not available; try again later")
        )
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error while answering a request")
        return error_response(errors.RdapError("an internal error occurred"))
