"""Units of database work: a deadline per unit, cut by the watchdog (SQLite interrupts the
statement), nested units restore the outer one; settings for replicas and timeouts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rdap.db import WATCHDOG, Database, DatabaseTimeout
from rdap.settings import Settings

ENDLESS = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    "SELECT count(*) FROM (SELECT x FROM c LIMIT 1000000000)"
)


def test_a_statement_past_the_deadline_is_interrupted(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}", timeout=0.5)

    def endless() -> None:
        with db.read_connection() as connection:
            connection.exec_driver_sql(ENDLESS)

    try:
        started = time.monotonic()
        with pytest.raises(DatabaseTimeout):
            endless()
        assert time.monotonic() - started < 3
        with db.read_connection() as connection:  # the next unit is answered
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        db.dispose()


def test_nested_units_restore_the_outer_deadline(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}", timeout=5)
    try:
        with db.read_connection():
            outer = WATCHDOG.current
            assert outer is not None
            with db.primary_connection():
                assert WATCHDOG.current is not outer
            assert WATCHDOG.current is outer
        assert WATCHDOG.current is None
    finally:
        db.dispose()


def test_replica_settings() -> None:
    listed = Settings.from_env({"RDAP_DATABASE_READ_URLS": "postgresql://a/x, postgresql://b/x"})
    assert listed.effective_read_urls == ("postgresql://a/x", "postgresql://b/x")
    alias = Settings.from_env({"RDAP_DATABASE_READ_URL": "postgresql://a/x"})
    assert alias.effective_read_urls == ("postgresql://a/x",)
    assert alias.effective_read_url == "postgresql://a/x"
    timed = Settings.from_env({"RDAP_DATABASE_TIMEOUT": "1.5"})
    assert timed.database_timeout == 1.5
    assert Settings.from_env({}).effective_read_urls == ()
