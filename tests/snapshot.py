"""Test registries built once per module and restored from their rows before each test.

Building a registry through the factories or the escrow loader costs far more than writing its
rows back: a module whose tests share one registry builds it once (`built_once`), and each test
starts from exactly those rows (`restored`), whatever the test before it wrote. The `db` fixture
still empties every table after each test, so tests stay independent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, func, select, text

from rdap.db import Database
from rdap.models import Base
from tests.conftest import clear_tables

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """What the builder returned, and every row of every table it left behind."""

    value: T
    rows: dict[str, list[dict[str, Any]]]


def built_once(url: str, build: Callable[[Database], T]) -> Snapshot[T]:
    """Run `build` on the (empty) test database at `url`, keep its rows, and empty it again.
    `build` must return plain values (names, ids), not ORM objects bound to its session."""
    database = Database(url)
    try:
        value = build(database)
        rows: dict[str, list[dict[str, Any]]] = {}
        with database.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                ordered = select(table).order_by(*table.primary_key.columns)
                rows[table.name] = [dict(row._mapping) for row in conn.execute(ordered)]
        clear_tables(database)
    finally:
        database.dispose()
    return Snapshot(value, rows)


def restored(db: Database, snapshot: Snapshot[T]) -> T:
    """Write the snapshot's rows into the database of `db`; the builder's value. The tables it
    writes must be empty: ask for the restoring fixture before fixtures that add rows."""
    with db.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            rows = snapshot.rows[table.name]
            if not rows:
                continue
            if conn.execute(select(table).limit(1)).first() is not None:
                raise RuntimeError(f"cannot restore into {table.name}: it has rows already")
            conn.execute(table.insert(), rows)
            key = list(table.primary_key.columns)
            if conn.dialect.name == "postgresql" and len(key) == 1 and _serial(key[0]):
                # Rows written with their ids leave the sequence behind: the next id a test
                # inserts must follow them, as it would after the build.
                top = conn.execute(select(func.max(key[0]))).scalar_one()
                conn.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, :column), :top)"),
                    {"table": table.name, "column": key[0].name, "top": top},
                )
    return snapshot.value


def _serial(column: Any) -> bool:
    return isinstance(column.type, Integer) and column.autoincrement in (True, "auto")
