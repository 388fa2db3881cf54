"""Prepared reads: a SELECT built once at import, compiled once per dialect, run on the DB-API
cursor. Per-request paths (lookups, searches, token checks) skip statement compilation and
SQLAlchemy's result machinery; rows come back as dicts typed as SQLAlchemy would type them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import orjson
from sqlalchemy import JSON, Connection
from sqlalchemy.exc import DBAPIError

from rdap import models


class _Form(NamedTuple):
    sql: str
    order: tuple[str, ...] | None  # positional dialects: argument names in placeholder order
    fixed: dict[str, Any]
    expanding: str  # the IN-list parameter, or ""
    slots: dict[str, int]  # expanded parameter name -> index into that list


def _dialect_key(dialect: Any) -> str:
    """Dialect, driver and parameter style: the SQL text depends on all three."""
    return f"{dialect.name}+{dialect.driver}:{dialect.paramstyle}"


class _Prepared:
    """A SELECT compiled once per dialect (and per length of its expanding IN list), run on the
    DB-API cursor, rows typed by the same result processors SQLAlchemy would use (UTC datetimes,
    JSON).

    Parameters go to the driver as given, so statements whose bind types convert values (a
    TypeDecorator with process_bind_param, such as UtcDateTime) are refused when first compiled;
    so are literal IN lists and more than one expanding parameter."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self.keys = list(statement.selected_columns.keys())
        self._compiled: dict[tuple[str, int], _Form] = {}
        self._base: dict[str, tuple[Any, str]] = {}  # dialect key -> (compiled, expanding name)
        self._processors: dict[str, list[tuple[int, Callable[[Any], Any]]]] = {}

    def _compile(self, dialect: Any, key: str) -> tuple[Any, str]:
        found = self._base.get(key)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            expanding: set[str] = set()
            for bind, name in compiled.bind_names.items():
                if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                    raise TypeError(f"prepared statements take plain parameters; {name} converts")
                if bind.expanding:
                    if not bind.required:
                        raise TypeError("use bindparam(..., expanding=True), not a literal IN list")
                    expanding.add(name)
            if len(expanding) > 1:
                raise TypeError("a prepared statement takes at most one expanding IN parameter")
            found = self._base[key] = (compiled, next(iter(expanding), ""))
        return found

    def _form(self, dialect: Any, params: Mapping[str, Any]) -> _Form:
        """SQL text and argument recipe, for the length of the IN list in `params`."""
        key = _dialect_key(dialect)
        compiled, expanding = self._compile(dialect, key)
        length = len(params[expanding]) if expanding else -1
        found = self._compiled.get((key, length))
        if found is not None:
            return found
        base = set(compiled.bind_names.values())
        # Literal values the statement carries itself (e.g. 'registrant', 0).
        fixed = {
            name: bind.value
            for bind, name in compiled.bind_names.items()
            if not bind.required and bind.value is not None
        }
        sql, order, slots = compiled.string, compiled.positiontup, {}
        if expanding:
            # Expand with the values 0..n-1 so each generated name maps back to its list index.
            state = compiled.construct_expanded_state({expanding: list(range(length))})
            sql, order = state.statement, state.positiontup
            slots = {name: v for name, v in state.parameters.items() if name not in base}
        found = _Form(
            sql, tuple(order) if compiled.positional and order else None, fixed, expanding, slots
        )
        if len(self._compiled) < 256:  # IN lists are bounded by page sizes; stay bounded anyway
            self._compiled[(key, length)] = found
        return found

    def _typed(self, dialect: Any) -> list[tuple[int, Callable[[Any], Any]]]:
        key = _dialect_key(dialect)
        found = self._processors.get(key)
        if found is None:
            processors = [_processor(c.type, dialect) for c in self.statement.selected_columns]
            found = [(i, p) for i, p in enumerate(processors) if p is not None]
            self._processors[key] = found
        return found

    def run(self, connection: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        dialect = connection.dialect
        form = self._form(dialect, params)
        bound = {**form.fixed, **params}
        if form.expanding:
            values = bound.pop(form.expanding)
            bound.update((name, values[i]) for name, i in form.slots.items())
        arguments: Any = tuple(bound[name] for name in form.order) if form.order else bound
        dbapi_error = dialect.loaded_dbapi.Error
        dbapi_connection = connection.connection.dbapi_connection
        cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(form.sql, arguments)
            rows = cursor.fetchall()
        except dbapi_error as exc:  # the same exception SQLAlchemy would raise
            if dialect.is_disconnect(exc, dbapi_connection, cursor):
                connection.invalidate(exc)  # as SQLAlchemy does: the pool drops this connection
            raise DBAPIError.instance(form.sql, arguments, exc, dbapi_error) from exc
        finally:
            cursor.close()
        keys = self.keys
        typed = self._typed(dialect)
        out = []
        for row in rows:
            values = list(row)
            for i, process in typed:
                value = values[i]
                if value is not None:
                    values[i] = process(value)
            out.append(dict(zip(keys, values, strict=True)))
        return out


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


_PREPARED: dict[int, _Prepared] = {}


def _prepared(statement: Any) -> _Prepared:
    found = _PREPARED.get(id(statement))
    if found is None:
        found = _PREPARED[id(statement)] = _Prepared(statement)
    return found


def rows(connection: Connection, statement: Any, **params: Any) -> list[dict[str, Any]]:
    """Run `statement` with `params`; a sequence fills its expanding IN parameter.

    Statements are cached by identity and kept for the life of the process: pass only
    statements built once, at import (a statement built per call would be compiled, and kept,
    per call)."""
    return _prepared(statement).run(connection, params)
