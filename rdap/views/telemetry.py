"""Request telemetry: a request id in and out, a JSON access line and metrics per request."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import time
import uuid

import orjson
from flask import Flask, Response, current_app, g, request

from rdap import metrics
from rdap.views.identity import principal

REQUEST_ID_HEADER = "X-Request-Id"
# A caller's id is kept only if it is short and plain (it goes into logs as it is).
_GOOD_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")

access_log = logging.getLogger("rdap.access")
# The rate limiter says when it counts in process because its storage is down, and when it
# counts there again, only in its log (rdap.ratelimit).
LIMITER_LOGGERS = ("rdap.ratelimit",)


def _start() -> None:
    g.started = time.perf_counter()
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _GOOD_ID.fullmatch(given) else uuid.uuid4().hex


def _role() -> str:
    return principal().role


def _finish(response: Response) -> Response:
    started = g.get("started")
    if started is None:  # the request failed before telemetry began
        return response
    seconds = time.perf_counter() - started
    request_id: str = g.request_id
    response.headers[REQUEST_ID_HEADER] = request_id
    # The route template, never the path or query: searches and entity handles can name people.
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    role = _role()
    metrics.observe_request(route, response.status_code, role, seconds)
    runtime = current_app.extensions.get("rdapd")
    if runtime is not None:
        for name, count in runtime.db.pool_use().items():
            metrics.connections_in_use(name, count)
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            orjson.dumps(
                {
                    "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                    "request_id": request_id,
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 2),
                    "bytes": response.calculate_content_length(),
                    "role": role,
                }
            ).decode()
        )
    return response


def _log_to_stdout() -> None:
    """One JSON object per line on standard output, once per process."""
    if access_log.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


class _LimiterFallback(logging.Handler):
    """Turns the limiter's log lines about its storage into the fallback gauge."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "falling back to in-memory" in message:
            metrics.limiter_fallback(active=True)
        elif "storage recovered" in message or "answers again" in message:
            metrics.limiter_fallback(active=False)


def _watch_limiter() -> None:
    for name in LIMITER_LOGGERS:
        logger = logging.getLogger(name)
        if any(isinstance(h, _LimiterFallback) for h in logger.handlers):
            continue
        logger.addHandler(_LimiterFallback())
        if logger.getEffectiveLevel() > logging.INFO or not logging.getLogger().handlers:
            # Its warnings and the recovery notice reach the error log (standard error).
            errors = logging.StreamHandler(sys.stderr)
            errors.setFormatter(
                logging.Formatter("%(asctime)s [%(process)d] %(levelname)s %(message)s")
            )
            logger.addHandler(errors)
            logger.setLevel(logging.INFO)


def init_telemetry(app: Flask, *, access_log_enabled: bool) -> None:
    if access_log_enabled:
        _log_to_stdout()
    _watch_limiter()
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
