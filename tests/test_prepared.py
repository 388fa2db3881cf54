"""Prepared reads: one compiled form per IN-list length, literal binds kept, rows typed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, literal, select

from rdap.db import Database
from rdap.models import Domain
from rdap.models.base import UtcDateTime
from rdap.prepared import Prepared, PreparedBatch
from rdap.repository import Repository
from tests import factories

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)

BY_IDS = PreparedBatch(
    lambda ids: (
        select(Domain.id, Domain.ldh_name, Domain.created_at, literal("x").label("tag"))
        .where(Domain.id.in_(ids))
        .order_by(Domain.ldh_name)
    )
)


def _ids(db: Database, names: list[str]) -> dict[str, int]:
    with db.session_scope() as session:
        return {name: factories.full_domain(session, name=name).id for name in names}


def test_in_lists_of_each_length_get_their_own_form(db: Database) -> None:
    ids = _ids(db, ["a.post", "b.post", "c.post", "d.post"])
    with db.read_connection() as connection:
        # Different lengths, and the same length with other values: no form answers for another.
        for chosen in (["a.post"], ["b.post", "c.post", "d.post"], ["a.post", "d.post", "b.post"],
                       ["c.post"], list(ids)):  # fmt: skip
            found = BY_IDS.rows(connection, [ids[n] for n in chosen])
            assert [r["ldh_name"] for r in found] == sorted(chosen)
            assert {r["tag"] for r in found} == {"x"}  # a literal the statement carries
            assert all(isinstance(r["created_at"], dt.datetime) for r in found)
            assert all(r["created_at"].tzinfo is not None for r in found)
        assert BY_IDS.rows(connection, [0]) == []


def test_batch_and_single_loaders_build_the_same_records(db: Database) -> None:
    ids = _ids(db, ["one.post", "two.post", "three.post"])
    with db.read_connection() as connection:
        repo = Repository(connection)
        batch = repo.domains_by_ids([ids["two.post"], ids["three.post"], ids["one.post"]])
        singles = [repo.domain(n) for n in ("two.post", "three.post", "one.post")]
    assert [r.ldh_name for r in batch] == ["two.post", "three.post", "one.post"]
    assert batch == singles


def test_any_sequence_fills_the_in_list(db: Database) -> None:
    ids = _ids(db, ["t1.post", "t2.post"])
    with db.read_connection() as connection:
        found = BY_IDS.rows(connection, tuple(ids.values()))
    assert [r["ldh_name"] for r in found] == ["t1.post", "t2.post"]


@pytest.mark.parametrize(
    "statement",
    [
        # a converting bind type: the raw value would not match what is stored
        select(Domain.id).where(Domain.created_at > bindparam("after", type_=UtcDateTime())),
        # a literal IN list: its values are baked in at build time, not passed per call
        select(Domain.id).where(Domain.id.in_([1, 2])),
        # an expanding IN parameter: IN lists are a PreparedBatch's
        select(Domain.id).where(Domain.id.in_(bindparam("r", expanding=True))),
    ],
    ids=["converting-bind", "literal-in-list", "expanding-in-list"],
)  # fmt: skip
def test_statements_it_cannot_run_faithfully_are_refused(db: Database, statement) -> None:  # type: ignore[no-untyped-def]
    with db.read_connection() as connection, pytest.raises(TypeError):
        Prepared(statement).rows(connection, after=NOW, r=[1])


def test_a_missing_parameter_is_refused_not_sent_as_null(db: Database) -> None:
    statement = Prepared(select(Domain.id).where(Domain.ldh_name == bindparam("name")))
    with db.read_connection() as connection, pytest.raises(TypeError, match="name"):
        statement.rows(connection)


def test_an_empty_in_list_is_refused(db: Database) -> None:
    with db.read_connection() as connection, pytest.raises(ValueError):
        BY_IDS.rows(connection, [])


def test_database_errors_surface_as_sqlalchemy_errors(db: Database) -> None:
    """The error handlers map SQLAlchemy's DBAPIError to a 503; a driver error must become one."""
    from sqlalchemy import column, table
    from sqlalchemy.exc import DBAPIError

    missing = Prepared(select(column("x")).select_from(table("no_such_table")))
    with db.read_connection() as connection, pytest.raises(DBAPIError):
        missing.rows(connection)
