"""Database faults on real PostgreSQL servers started here: a hung primary (SIGSTOP) answers 503
(one line on port 43) in about the database timeout and recovers by itself; lookups read from a
streaming replica, and one that stops or falls behind is skipped."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from rdap import create_app, migrate
from rdap.db import Database, DatabaseTimeout
from rdap.runtime import Runtime
from rdap.settings import Settings
from rdap.whois import WhoisService
from tests import factories
from tests.pgcluster import Cluster, wait_for

pytestmark = pytest.mark.postgres_only

RDAP = "application/rdap+json"
TIMEOUT = 1.0  # the database timeout of the apps under test
SETTING = "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'"  # milliseconds


@pytest.fixture(scope="module")
def primary() -> Iterator[Cluster]:
    cluster = Cluster().init().start()
    try:
        migrate.upgrade(cluster.url)
        db = Database(cluster.url)
        with db.session_scope() as session:
            factories.full_domain(session, name="example.post")
        db.dispose()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def replica(primary: Cluster) -> Iterator[Cluster]:
    standby = primary.replica()
    try:
        yield standby
    finally:
        standby.remove()


def _in_recovery(db: Database) -> bool:
    with db.read_connection() as connection:
        return bool(connection.exec_driver_sql("SELECT pg_is_in_recovery()").scalar())


def _app(tmp_path: Path, primary: Cluster, *replicas: Cluster):  # type: ignore[no-untyped-def]
    settings = Settings(
        instance_path=tmp_path / "instance",
        database_url=primary.url,
        database_read_urls=tuple(r.url for r in replicas),
        database_timeout=TIMEOUT,
        secret_key="test-secret-key-0123456789abcdef",
        require_tls=False,
        ratelimit_enabled=False,
        # These tests are about the database's faults: every request reads it. (A kept answer
        # is served without the database until the data version's TTL runs out.)
        answer_cache_bytes=0,
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def _timed_get(client, path: str):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def test_a_frozen_database_answers_503_quickly_and_recovers(
    tmp_path: Path, primary: Cluster
) -> None:
    app = _app(tmp_path, primary)
    client = app.test_client()
    try:
        assert client.get("/domain/example.post").status_code == 200  # a pooled connection
        with primary.frozen():
            for _ in range(2):  # a pooled connection, then a new one
                response, elapsed = _timed_get(client, "/domain/example.post")
                assert response.status_code == 503
                assert response.content_type == RDAP
                assert response.get_json()["errorCode"] == 503
                assert response.headers["Retry-After"]
                assert elapsed < 3 * TIMEOUT + 1  # connect_timeout is at least 2 s (libpq)
        # Thawed: the next requests are answered again, without a restart.
        wait_for(lambda: client.get("/domain/example.post").status_code == 200, timeout=10)
    finally:
        app.extensions["rdapd"].db.dispose()


def test_a_unit_of_work_past_its_deadline_is_cut(primary: Cluster) -> None:
    db = Database(primary.url, timeout=TIMEOUT)
    try:

        def sleep_past_the_deadline() -> None:
            with db.read_connection() as connection:
                # Without the server's own timeout, only the watchdog ends this statement.
                connection.exec_driver_sql("SET statement_timeout = 0")
                connection.exec_driver_sql("SELECT pg_sleep(30)")

        started = time.monotonic()
        with pytest.raises(DatabaseTimeout):
            sleep_past_the_deadline()
        assert time.monotonic() - started < TIMEOUT + 1
        # The cut connection is gone from the pool; the next unit of work is answered.
        with db.read_connection() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        db.dispose()


def test_statements_over_the_timeout_are_cancelled_by_the_server(primary: Cluster) -> None:
    db = Database(primary.url, timeout=TIMEOUT)
    try:
        with db.read_connection() as connection:
            timeout = connection.exec_driver_sql(SETTING).scalar()
        assert timeout == str(int(TIMEOUT * 1000))
        # Imports are long: their connection has no statement timeout.
        with db.bulk_connection() as connection:
            assert connection.exec_driver_sql(SETTING).scalar() == "0"
    finally:
        db.dispose()


def test_lookups_read_from_the_replica_and_writes_go_to_the_primary(
    primary: Cluster, replica: Cluster
) -> None:
    db = Database(primary.url, [replica.url], timeout=TIMEOUT)
    try:
        assert _in_recovery(db)
        with db.primary_connection() as connection:
            assert connection.exec_driver_sql("SELECT pg_is_in_recovery()").scalar() is False
        with db.session_scope() as session:
            session.execute(text("CREATE TABLE IF NOT EXISTS written_here (n int)"))

        def replicated() -> bool:
            with db.read_connection() as connection:
                query = "SELECT to_regclass('written_here') IS NOT NULL"
                return bool(connection.exec_driver_sql(query).scalar())

        wait_for(replicated)
        assert db.check() == {"primary": "ok", db.replicas[0].name: "ok"}
    finally:
        db.dispose()


def test_a_stopped_replica_is_skipped(tmp_path: Path, primary: Cluster, replica: Cluster) -> None:
    app = _app(tmp_path, primary, replica)
    client = app.test_client()
    db: Database = app.extensions["rdapd"].db
    try:
        assert client.get("/domain/example.post").status_code == 200
        replica.stop()
        try:
            for _ in range(5):
                response, elapsed = _timed_get(client, "/domain/example.post")
                assert response.status_code == 200
                assert elapsed < TIMEOUT + 1
            assert not _in_recovery(db)
            assert "unreachable" in db.check()[db.replicas[0].name]
        finally:
            replica.start()
            replica.wait_until_streaming()
        db.replicas[0].skipped_until = 0.0  # do not wait out the retry interval
        wait_for(lambda: _in_recovery(db))
    finally:
        db.dispose()


def test_a_restarted_replica_of_an_idle_primary_is_not_behind(
    primary: Cluster, replica: Cluster
) -> None:
    # After a restart the receiver reports the start of the WAL segment it streams from, before
    # what the replica already replayed; until the primary writes again that is not lag.
    db = Database(primary.url, [replica.url], timeout=TIMEOUT, max_lag=1.0)
    try:
        with db.session_scope() as session:  # something replayed in the middle of a segment
            session.execute(text("CREATE TABLE IF NOT EXISTS restart_marker (n int)"))
        wait_for(lambda: db.check()[db.replicas[0].name] == "ok")
        replica.stop()
        replica.start()
        replica.wait_until_streaming()
        time.sleep(1.5)  # the last replayed transaction is now older than max_lag
        assert db.check()[db.replicas[0].name] == "ok"
        db.replicas[0].skipped_until = 0.0
        assert _in_recovery(db)
    finally:
        db.dispose()


def test_a_frozen_replica_is_skipped_after_the_deadline(
    tmp_path: Path, primary: Cluster, replica: Cluster
) -> None:
    app = _app(tmp_path, primary, replica)
    client = app.test_client()
    try:
        assert client.get("/domain/example.post").status_code == 200
        with replica.frozen():
            first, _ = _timed_get(client, "/domain/example.post")
            # The request that found the replica hung may fail; later ones go to the primary.
            assert first.status_code in (200, 503)
            for _ in range(3):
                response, elapsed = _timed_get(client, "/domain/example.post")
                assert response.status_code == 200
                assert elapsed < 0.5
    finally:
        app.extensions["rdapd"].db.dispose()


def test_a_replica_behind_is_skipped(primary: Cluster, replica: Cluster) -> None:
    db = Database(primary.url, [replica.url], timeout=TIMEOUT, max_lag=0.5)
    standby = Database(replica.url)
    try:
        wait_for(lambda: _in_recovery(db))
        with standby.bulk_connection() as connection:
            connection.exec_driver_sql("SELECT pg_wal_replay_pause()")
        try:
            with db.session_scope() as session:
                session.execute(text("CREATE TABLE IF NOT EXISTS behind_marker (n int)"))
            time.sleep(1.0)
            assert not _in_recovery(db)
            assert "lag" in db.check()[db.replicas[0].name]
        finally:
            with standby.bulk_connection() as connection:
                connection.exec_driver_sql("SELECT pg_wal_replay_resume()")
        db.replicas[0].skipped_until = 0.0
        wait_for(lambda: _in_recovery(db))
    finally:
        db.dispose()
        standby.dispose()


def test_port_43_answers_a_frozen_database_with_one_line_and_recovers(
    tmp_path: Path, primary: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        instance_path=tmp_path / "instance",
        database_url=primary.url,
        database_timeout=TIMEOUT,
        secret_key="test-secret-key-0123456789abcdef",
        ratelimit_enabled=False,
        # Read the data version on every query: otherwise the answer kept from the first query
        # is served for up to 5 s without the database (docs/decisions.md, kept answers).
        data_version_ttl=0,
    )
    runtime = Runtime.build(settings)
    service = WhoisService(runtime, base_url="https://rdap.example")
    try:
        assert service.answer("example.post", "ip:192.0.2.1").startswith(b"Domain Name: ")
        with primary.frozen(), caplog.at_level(logging.ERROR, logger="rdap.whois"):
            started = time.monotonic()
            answer = service.answer("example.post", "ip:192.0.2.1")
            elapsed = time.monotonic() - started
        assert answer == (
            b"Service Unavailable: the registry database is not available; try again later\r\n"
        )
        assert elapsed < 3 * TIMEOUT + 1  # the unit of work is cut, not waited for
        assert "DatabaseTimeout" in caplog.text
        assert "example" not in caplog.text
        wait_for(
            lambda: service.answer("example.post", "ip:192.0.2.1").startswith(b"Domain Name: "),
            timeout=10,
        )
    finally:
        runtime.db.dispose()
