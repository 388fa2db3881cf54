"""Shared fixtures: settings, a migrated database (SQLite or PostgreSQL), the app and its client.

The backend is chosen by TEST_DATABASE (sqlite, the default, or postgresql with TEST_POSTGRES_URL);
scripts/test runs the suite once on each. The schema is always built by the migrations.
Each test starts from empty tables: they are cleared after every test that used the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from rdap import migrate
from rdap.db import Database
from rdap.models import Base
from rdap.settings import Settings

BACKEND = os.environ.get("TEST_DATABASE", "sqlite")

# Fixtures for OAuth clients and tokens (tests/oauth, test_auth, test_ratelimit, ...) and for
# disclosure: accreditations, accredited callers, a frozen clock.
pytest_plugins = ["tests.oauth_fixtures", "tests.disclosure_fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: runs on the SQLite pass only")
    config.addinivalue_line("markers", "postgres_only: runs on the PostgreSQL pass only")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="PostgreSQL pass only")
    for item in items:
        if "postgres_only" in item.keywords and BACKEND != "postgresql":
            item.add_marker(skip_pg)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if BACKEND == "postgresql":
        url = os.environ.get("TEST_POSTGRES_URL")
        if not url:
            pytest.fail("TEST_DATABASE=postgresql needs TEST_POSTGRES_URL (scripts/test sets it)")
        return url
    if BACKEND != "sqlite":
        pytest.fail(f"unknown TEST_DATABASE {BACKEND!r}")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'rdapd-test.sqlite3'}"


def reset_schema(url: str) -> None:
    """Drop everything (tables and Alembic's version table) so migrations start from empty."""
    database = Database(url)
    with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    database.dispose()


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    reset_schema(database_url)
    migrate.upgrade(database_url)
    return database_url


def clear_tables(database: Database) -> None:
    with database.engine.begin() as conn:
        names = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(names) + " RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def settings(migrated_url: str, tmp_path: Path) -> Settings:
    return Settings(
        instance_path=tmp_path / "instance",
        database_url=migrated_url,
        secret_key="test-secret-key-0123456789abcdef",
        require_tls=False,
        ratelimit_enabled=False,
        # Generous: the suite shares a busy machine; tests of the timeout set their own.
        database_timeout=10.0,
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url, timeout=settings.database_timeout)
    try:
        yield database
    finally:
        clear_tables(database)
        database.dispose()


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    from rdap import create_app

    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["rdapd"].db.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()
