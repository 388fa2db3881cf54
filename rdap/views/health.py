"""Operations endpoints: /healthz (alive), /readyz (dependencies ready), /metrics (Prometheus)."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from rdap import metrics, migrate
from rdap.runtime import Runtime
from rdap.views.current import runtime

blueprint = Blueprint("health", __name__)

JSON = "application/json"


@blueprint.get("/healthz")
def healthz() -> Response:
    """The process answers; nothing else is checked."""
    return Response(orjson.dumps({"status": "ok"}), mimetype=JSON)


def _schema(runtime: Runtime) -> str:
    heads = set(migrate.current_heads())
    try:
        with runtime.db.primary_connection() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            found = {row[0] for row in rows}
    except SQLAlchemyError:
        return "unknown (database unreachable or not migrated)"
    return "ok" if found == heads else "not at head (run rdapd db upgrade)"


def _redis(runtime: Runtime) -> str | None:
    uri = runtime.settings.ratelimit_storage_uri
    if not uri.startswith(("redis://", "rediss://")) or not runtime.settings.ratelimit_enabled:
        return None
    try:
        import redis

        client = redis.Redis.from_url(uri, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except ImportError:
        return "unknown (the redis package is not installed)"
    except Exception:  # any failure to answer means not reachable
        return "unreachable (counting in process)"
    return "ok"


@blueprint.get("/readyz")
def readyz() -> Response:
    """Ready when the primary answers and its schema is at head. Replicas and Redis are
    reported; when they are down the service still answers (from the primary, counting in
    process), so they do not make it unready."""
    rt = runtime()
    databases = rt.db.check()
    checks: dict[str, Any] = {
        "database": databases.pop("primary"),
        "replicas": databases,
        "schema": _schema(rt),
    }
    redis = _redis(rt)
    if redis is not None:
        checks["redis"] = redis
    ready = checks["database"] == "ok" and checks["schema"] == "ok"
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
    if not ready:  # also an RDAP error body (RFC 9083 §6)
        body |= {
            "rdapConformance": ["rdap_level_0"],
            "errorCode": 503,
            "title": "Service Unavailable",
            "description": ["the service is not ready to answer"],
        }
    response = Response(orjson.dumps(body), status=200 if ready else 503, mimetype=JSON)
    if not ready:
        response.headers["Retry-After"] = "5"
    return response


@blueprint.get("/metrics")
def metrics_view() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
