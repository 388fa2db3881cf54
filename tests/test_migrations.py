"""Migrations build the schema from empty, match the models exactly, and downgrade cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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


def test_0004_keeps_loaded_data_and_complaints(database_url: str) -> None:
    """Upgrading a registry loaded before per-TLD imports: every object is held by the TLD
    loaded, and complaints keep what they were about by value (and back again)."""
    reset_schema(database_url)
    migrate.upgrade(database_url, "0003")
    database = Database(database_url)
    statements = [
        "INSERT INTO registrars (id, client_id, iana_id, name, status, street)"
        " VALUES (7, 'reg-a', 9995, 'Registrar A', 'ok', '[]')",
        "INSERT INTO tlds (id, name) VALUES (1, 'post')",
        "INSERT INTO contacts (id, handle, roid, registrar_id, statuses, person_kind,"
        " publish_consent, verification_status) VALUES"
        " (3, 'C1', 'C1-POST', 7, '[]', 'natural', '[]', 'unverified')",
        "INSERT INTO hosts (id, roid, ldh_name, registrar_id, statuses)"
        " VALUES (4, 'H1-POST', 'ns1.example.net', 7, '[]')",
        "INSERT INTO domains (id, roid, ldh_name, tld, registrar_id, statuses, delegation_signed)"
        " VALUES (5, 'D1-POST', 'example.post', 'post', 7, '[]', false)",
        "INSERT INTO idn_tables (id, table_id) VALUES (1, 'es')",
        "INSERT INTO non_delegated_names (id, ldh_name, state) VALUES (1, 'nic.post', 'blocked')",
        "INSERT INTO complaints (id, domain, registrar_id, fields, description, status,"
        " created_at) VALUES ('c0000000000000000000001', 'example.post', 7, '[]', 'x', 'open',"
        " '2026-11-23 12:00:00')",
    ]
    try:
        with database.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        migrate.upgrade(database_url)
        with database.engine.connect() as conn:
            for table in ("registrar_tlds", "contact_tlds", "host_tlds"):
                assert conn.execute(text(f"SELECT tld FROM {table}")).scalars().all() == ["post"]
            assert conn.execute(text("SELECT tld FROM idn_tables")).scalar_one() == "post"
            assert conn.execute(text("SELECT tld FROM non_delegated_names")).scalar_one() == "post"
            complaint = conn.execute(
                text("SELECT domain_roid, registrar_client_id, registrar_iana_id FROM complaints")
            ).one()
            assert tuple(complaint) == ("D1-POST", "reg-a", 9995)
        migrate.downgrade(database_url, "0003")
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT registrar_id FROM complaints")).scalar_one() == 7
    finally:
        with database.engine.begin() as conn:  # 0003's complaints refer to registrars
            conn.execute(text("DELETE FROM complaints"))
        database.dispose()
        reset_schema(database_url)
        migrate.upgrade(database_url)
