"""Migrations build the schema from empty, match the models exactly, and downgrade cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from rdap import migrate
from rdap.db import Database
from rdap.models import Base
from tests.conftest import reset_schema


def _diff(url: str) -> list[object]:
    database = Database(url)
    try:
        with database.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        database.dispose()


def _tables(url: str) -> set[str]:
    database = Database(url)
    try:
        return set(inspect(database.engine).get_table_names())
    finally:
        database.dispose()


# SQLAlchemy cannot reflect SQLite's expression indexes (ix_contacts_email_lower): on SQLite it
# and alembic say so and leave that index out of the comparison; PostgreSQL compares it.
SKIPPED_EXPRESSION_INDEX = "ignore:Skipped unsupported reflection of expression-based index"
SKIPPED_BY_AUTOGENERATE = "ignore:autogenerate skipping metadata-specified expression-based index"


@pytest.mark.filterwarnings(SKIPPED_EXPRESSION_INDEX, SKIPPED_BY_AUTOGENERATE)
def test_head_matches_models(migrated_url: str) -> None:
    assert _diff(migrated_url) == []


def test_single_head() -> None:
    assert len(migrate.current_heads()) == 1


@pytest.mark.filterwarnings(SKIPPED_EXPRESSION_INDEX, SKIPPED_BY_AUTOGENERATE)
def test_down_to_base_and_up_again(database_url: str) -> None:
    reset_schema(database_url)
    migrate.upgrade(database_url)
    assert set(Base.metadata.tables) <= _tables(database_url)
    migrate.downgrade(database_url, "base")
    assert _tables(database_url) <= {"alembic_version"}
    migrate.upgrade(database_url)
    assert _diff(database_url) == []
