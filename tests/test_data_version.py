"""Data version: every import moves it on, never back, and processes read it within their TTL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rdap import data_version
from rdap.db import Database
from rdap.errors import DepositError
from rdap.escrow.generator import generate_deposit
from rdap.escrow.loader import import_deposit
from rdap.repository import FactsCache, RegistryFacts, read_registry_facts

DATA = Path(__file__).parent / "data" / "rde"


def _facts(db: Database) -> RegistryFacts:
    with db.read_connection() as connection:
        return read_registry_facts(connection)


def test_every_import_moves_the_version_on(db: Database, tmp_path: Path) -> None:
    generate_deposit(tmp_path / "d.xml", size=10, seed=3)
    start = _facts(db).version
    import_deposit(db, tmp_path / "d.xml")
    first = _facts(db)
    import_deposit(db, tmp_path / "d.xml")  # the same data again still is a write
    second = _facts(db)
    assert start < first.version < second.version
    assert first.updated_at is not None
    assert second.updated_at is not None


def test_a_refused_deposit_leaves_the_version_alone(db: Database) -> None:
    """Refused late, while resolving references: the bump rolls back with the data."""
    before = _facts(db).version
    with pytest.raises(DepositError):
        import_deposit(db, DATA / "unknown-contact.xml")
    assert _facts(db).version == before


def test_a_version_is_never_handed_out_twice(db: Database) -> None:
    """Even after its row is lost (a reset database): versions follow the write's time."""
    now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    with db.engine.begin() as connection:
        first = data_version.bump(connection, now)
        second = data_version.bump(connection, now)  # same instant: still a new version
    assert second == first + 1
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM data_version")
        third = data_version.bump(connection, now + dt.timedelta(seconds=1))
    assert third > second
    assert _facts(db).version == third


def test_a_missing_row_reads_as_version_zero(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM data_version")
    assert _facts(db).version == 0


def test_facts_are_read_at_most_once_per_ttl() -> None:
    clock = [0.0]
    reads: list[int] = []

    def load() -> RegistryFacts:
        reads.append(1)
        return RegistryFacts(version=len(reads), updated_at=None)

    facts = FactsCache(ttl=5, clock=lambda: clock[0])
    assert facts.current(load).version == 1
    clock[0] = 4.9
    assert facts.current(load).version == 1
    clock[0] = 5.0
    assert facts.current(load).version == 2
    every = FactsCache(ttl=0, clock=lambda: clock[0])
    assert every.current(load).version == 3
    assert every.current(load).version == 4
