"""Prepared reads: SELECTs compiled once per database with SQLAlchemy's public compiler, then run
on the DB-API cursor; rows come back as dicts typed as SQLAlchemy would type them.

Per-request paths (lookups, searches, token checks) run a handful of small SELECTs each. Through
`Connection.execute` each one pays for SQLAlchemy's execution context and result objects, which
cost several times what SQLite takes to answer an indexed read; here a call costs one dict of
arguments, `cursor.execute` and the result typing. Everything used is public API: `compile()`
with a named parameter style, `Compiled.string` and `Compiled.params`, the dialect's type
processors, `Connection.connection.dbapi_connection`, `Dialect.is_disconnect`,
`Connection.invalidate` and the `DBAPIError` constructor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, BindParameter, Connection, bindparam
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import visitors

from rdap import models

# Parameter styles that name their parameters; a positional one (SQLite's default "qmark") is
# compiled as "named" instead, which the DB-API modules of both supported databases accept.
_NAMED_STYLES = ("named", "pyformat")
_MAX_FORMS = 256  # per statement; IN lists are bounded by page sizes, stay bounded anyway


@dataclasses.dataclass(frozen=True)
class _Form:
    """One statement compiled for one database (and one length of its IN list)."""

    sql: str
    fixed: dict[str, Any]  # values the statement carries itself (literals, LIMIT)
    required: frozenset[str]  # parameters each call must give
    in_names: tuple[str, ...]  # the IN list's parameters, in order
    typed: tuple[tuple[int, Callable[[Any], Any]], ...]  # result columns that need converting


def _dialect_key(dialect: Any) -> str:
    """Dialect, driver and parameter style: the SQL text depends on all three."""
    return f"{dialect.name}+{dialect.driver}:{dialect.paramstyle}"


def _named(dialect: Any) -> Any:
    """A dialect of the same kind that renders named parameters."""
    if dialect.paramstyle in _NAMED_STYLES:
        return dialect
    return type(dialect)(paramstyle="named")


class Prepared:
    """A SELECT built once, at import, and run on the DB-API cursor with named parameters.

    Parameters go to the driver as given, so statements whose bind types convert values (a
    TypeDecorator with process_bind_param, such as UtcDateTime) are refused when first
    compiled; so are expanding IN parameters and literal IN lists (use `PreparedBatch`)."""

    def __init__(self, statement: Any) -> None:
        self._build: Callable[[list[BindParameter[Any]]], Any] = lambda _names: statement
        self.keys = tuple(statement.selected_columns.keys())
        self._forms: dict[tuple[str, int], _Form] = {}
        self._named: dict[str, Any] = {}

    def rows(self, connection: Connection, **params: Any) -> list[dict[str, Any]]:
        """Run the statement with `params`."""
        return self._run(connection, self._form(connection.dialect, -1), params)

    def _form(self, dialect: Any, length: int) -> _Form:
        key = _dialect_key(dialect)
        found = self._forms.get((key, length))
        if found is None:
            found = self._compile(dialect, key, length)
            if len(self._forms) < _MAX_FORMS:
                self._forms[(key, length)] = found
        return found

    def _compile(self, dialect: Any, key: str, length: int) -> _Form:
        named = self._named.get(key)
        if named is None:
            named = self._named[key] = _named(dialect)
        in_list: list[BindParameter[Any]] = [
            bindparam(f"in_list_{i}") for i in range(max(length, 0))
        ]
        statement = self._build(in_list)
        for bind in visitors.iterate(statement):
            if not isinstance(bind, BindParameter):
                continue
            if bind.expanding:
                raise TypeError("IN lists are the in_list of a PreparedBatch, not expanding binds")
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise TypeError(f"prepared statements take plain parameters; {bind.key} converts")
        compiled = statement.compile(dialect=named)
        in_names = tuple(bind.key for bind in in_list)
        params = {k: v for k, v in compiled.params.items() if k not in in_names}
        processors = [_processor(column.type, dialect) for column in statement.selected_columns]
        return _Form(
            sql=compiled.string,
            fixed={k: v for k, v in params.items() if v is not None},
            required=frozenset(k for k, v in params.items() if v is None),
            in_names=in_names,
            typed=tuple((i, p) for i, p in enumerate(processors) if p is not None),
        )

    def _run(
        self, connection: Connection, form: _Form, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        if not form.required <= params.keys():
            missing = ", ".join(sorted(form.required - params.keys()))
            raise TypeError(f"missing parameters: {missing}")
        arguments = {**form.fixed, **params}
        dialect = connection.dialect
        dbapi_error = dialect.loaded_dbapi.Error
        dbapi_connection = connection.connection.dbapi_connection
        cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(form.sql, arguments)
            rows = cursor.fetchall()
        except dbapi_error as exc:  # SQLAlchemy's own exception, as Connection.execute raises
            invalidated = dialect.is_disconnect(exc, dbapi_connection, cursor)
            if invalidated:
                connection.invalidate(exc)  # as SQLAlchemy does: the pool drops this connection
            raise DBAPIError(form.sql, arguments, exc, connection_invalidated=invalidated) from exc
        finally:
            cursor.close()
        keys, typed = self.keys, form.typed
        out = []
        for row in rows:
            values = list(row)
            for i, process in typed:
                value = values[i]
                if value is not None:
                    values[i] = process(value)
            out.append(dict(zip(keys, values, strict=True)))
        return out


class PreparedBatch(Prepared):
    """A SELECT over a list of values (`WHERE id IN (...)`): `build` receives the list as bind
    parameters and returns the statement; it is compiled once per list length."""

    def __init__(self, build: Callable[[list[BindParameter[Any]]], Any]) -> None:
        super().__init__(build([bindparam("in_list_0")]))
        self._build = build

    def rows(  # type: ignore[override]
        self, connection: Connection, values: Sequence[Any], **params: Any
    ) -> list[dict[str, Any]]:
        """Run the statement for `values` (not empty) and `params`."""
        if not values:
            raise ValueError("an IN list needs at least one value")
        form = self._form(connection.dialect, len(values))
        params.update(zip(form.in_names, values, strict=True))
        return self._run(connection, form, params)


def _sqlite_datetime(value: str) -> dt.datetime:
    """SQLite keeps UtcDateTime as naive UTC text; parsing it with the offset appended is several
    times faster than parsing and then calling replace(tzinfo=...)."""
    try:
        return dt.datetime.fromisoformat(value + "+00:00")
    except ValueError:  # text that carries its own offset
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def _processor(type_: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """How to type one result column; SQLite's text datetimes and JSON get fast C parsers."""
    if dialect.name == "sqlite":
        if isinstance(type_, models.base.UtcDateTime):
            return _sqlite_datetime
        if isinstance(type_.dialect_impl(dialect), JSON):
            return orjson.loads
    processor: Callable[[Any], Any] | None = type_.dialect_impl(dialect).result_processor(
        dialect, None
    )
    return processor
