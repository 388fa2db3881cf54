"""The benchmarks' COPY loader writes exactly the registry the escrow import writes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from pg_bulk_load import dsn, verify

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def two_databases() -> Iterator[tuple[str, str]]:
    """Two empty databases on the test server, dropped afterwards."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("needs TEST_POSTGRES_URL")
    server, _, _ = url.rpartition("/")
    names = ("rdapd_bulk_import", "rdapd_bulk_copy")

    def run(statement: str) -> None:
        with psycopg.connect(dsn(url), autocommit=True) as conn:
            conn.execute(statement)

    for name in names:
        run(f"DROP DATABASE IF EXISTS {name}")
        run(f"CREATE DATABASE {name}")
    try:
        yield f"{server}/{names[0]}", f"{server}/{names[1]}"
    finally:
        for name in names:
            run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_bulk_load_writes_what_the_import_writes(two_databases: tuple[str, str]) -> None:
    # Every registry table row for row, the deposit row, and the indexes and constraints.
    imported, copied = two_databases
    assert verify(imported, copied, size=400, seed=3) == []
