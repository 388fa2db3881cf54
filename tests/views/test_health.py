"""Operations endpoints and request telemetry: /healthz, /readyz, /metrics, request ids, the
JSON access log (no query strings, no credentials)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

import orjson
import pytest

from rdap import create_app
from rdap.db import Database
from rdap.settings import Settings
from tests import factories


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("rdap.access")
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def domain(db: Database) -> str:
    with db.session_scope() as session:
        return factories.full_domain(session, name="example.post").ldh_name


def test_healthz(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database_and_the_schema(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "replicas": {}, "schema": "ok"}


def test_readyz_is_an_rdap_503_when_the_database_is_gone(app, client) -> None:  # type: ignore[no-untyped-def]
    app.extensions["rdapd"].db = Database("postgresql+psycopg://nobody@127.0.0.1:9/none")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["errorCode"] == 503
    assert body["checks"]["database"].startswith("unreachable")
    assert response.headers["Retry-After"]
    assert "nobody" not in response.get_data(as_text=True)


def test_readyz_is_503_before_migrations(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = dataclasses.replace(settings, database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    app = create_app(empty)
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["schema"] != "ok"
    finally:
        app.extensions["rdapd"].db.dispose()


def test_readyz_reports_redis_down_but_stays_ready(settings: Settings) -> None:
    app = create_app(
        dataclasses.replace(
            settings, ratelimit_enabled=True, ratelimit_storage_uri="redis://127.0.0.1:9/0"
        )
    )
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 200
        assert response.get_json()["checks"]["redis"].startswith("unreachable")
    finally:
        app.extensions["rdapd"].db.dispose()


def test_metrics_count_requests_by_route_status_and_role(client, domain) -> None:  # type: ignore[no-untyped-def]
    client.get(f"/domain/{domain}")
    client.get("/domain/missing.post")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'rdapd_http_requests_total{role="public",route="/<path:path>",status="200"}' in text
    assert 'rdapd_http_requests_total{role="public",route="/<path:path>",status="404"}' in text
    assert 'rdapd_http_request_duration_seconds_bucket{le="0.001",route="/<path:path>"}' in text
    assert "rdapd_db_connections_in_use" in text
    assert "example.post" not in text


def test_request_ids_are_taken_or_made_and_returned(client) -> None:  # type: ignore[no-untyped-def]
    given = client.get("/healthz", headers={"X-Request-Id": "lb-1234.abc"})
    assert given.headers["X-Request-Id"] == "lb-1234.abc"
    made = client.get("/healthz", headers={"X-Request-Id": "bad id\u2028<script>"})
    assert made.headers["X-Request-Id"] != "bad id\u2028<script>"
    assert len(made.headers["X-Request-Id"]) == 32


def test_access_log_is_json_without_queries_or_credentials(client, domain, access_lines) -> None:  # type: ignore[no-untyped-def]
    client.get(
        "/entities?fn=Jane%20Doe*",
        headers={"X-Request-Id": "req-1", "Authorization": "Bearer secret-token-value"},
    )
    client.get(f"/domain/{domain}", headers={"X-Request-Id": "req-2"})
    records = [orjson.loads(line) for line in access_lines]
    by_id = {r["request_id"]: r for r in records}
    assert by_id["req-1"]["route"] == "/entities"
    assert by_id["req-1"]["status"] == 401
    assert by_id["req-2"] | {"time": "", "duration_ms": 0, "bytes": 0} == {
        "time": "",
        "request_id": "req-2",
        "method": "GET",
        "route": "/<path:path>",
        "status": 200,
        "duration_ms": 0,
        "bytes": 0,
        "role": "public",
    }
    joined = "\n".join(access_lines)
    for secret in ("Jane", "secret-token-value", "fn=", domain):
        assert secret not in joined


def test_an_unreachable_redis_means_in_process_counting_said_in_metrics_and_log(  # type: ignore[no-untyped-def]
    settings: Settings, domain: str, caplog
) -> None:
    app = create_app(
        dataclasses.replace(
            settings, ratelimit_enabled=True, ratelimit_storage_uri="redis://127.0.0.1:9/0"
        )
    )
    try:
        client = app.test_client()
        with caplog.at_level(logging.WARNING, logger="rdap.ratelimit"):
            assert client.get(f"/domain/{domain}").status_code == 200
        assert "falling back to in-memory counters" in caplog.text
        text = client.get("/metrics").get_data(as_text=True)
        assert "rdapd_ratelimit_storage_fallback 1.0" in text
    finally:
        app.extensions["rdapd"].db.dispose()
