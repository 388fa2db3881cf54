"""Database access: primary and replica engines, bounded units of work, the declarative base."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

from rdap import metrics

log = logging.getLogger("rdap.db")

# Stable constraint names, so migrations can drop what they create on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SQLITE_MMAP_BYTES = 16 * 1024**3  # address space only; pages are mapped as they are read
# How long a replica that failed or fell behind is left out before it is tried again.
REPLICA_RETRY_SECONDS = 5.0
# The watchdog looks for overrun units of work this often.
WATCHDOG_INTERVAL = 0.05
# libpq counts connect_timeout in whole seconds and treats anything below 2 as 2.
MIN_CONNECT_TIMEOUT = 2


class DatabaseTimeout(PoolTimeout):
    """A unit of work overran its deadline; its connections were cut."""


class ReplicaBehind(SQLAlchemyError):
    """A read replica is more than the allowed replication lag behind its primary."""


# Replication lag in seconds as the replica itself can tell it, without privileges: none while
# its WAL receiver runs and everything received is replayed, else the age of the last replayed
# transaction (an idle primary with a live receiver therefore never looks behind). "Replayed"
# is <=, not =: a restarted receiver reports the start of the WAL segment it streams from, which
# lies before what was already replayed until the primary writes again.
REPLICA_LAG_SQL = """
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0.0
  WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn()
       AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL) THEN 0.0
  ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, 1e9)
END
"""


# --- deadlines -------------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class _Armed:
    deadline: float
    connections: list[Any] = dataclasses.field(default_factory=list)
    fired: bool = False
    # The unit of work this one runs inside, on the same thread, if any.
    outer: _Armed | None = None


def _cut(dbapi_connection: Any) -> None:
    """Make a database call blocked on `dbapi_connection` return now with an error."""
    interrupt = getattr(dbapi_connection, "interrupt", None)
    if interrupt is not None:  # sqlite3: abort the running statement
        interrupt()
        return
    # A network connection: shut the socket down. A server that does not answer (stopped,
    # partitioned) cannot be asked to cancel, and the kernel acknowledges what we send it, so
    # nothing short of this wakes the blocked call; the driver then reports the connection
    # lost and the pool discards it.
    with (
        contextlib.suppress(OSError, ValueError, AttributeError),
        socket.socket(fileno=os.dup(dbapi_connection.fileno())) as sock,
    ):
        sock.shutdown(socket.SHUT_RDWR)


class Watchdog:
    """Cuts the connections of units of work that overrun their deadline.

    One per process (WATCHDOG), with one thread started on first use (after a fork, anew): it
    holds the deadlines of the units of work in progress in this process, which is why it is
    shared mutable state, shared by every Database the process makes.
    """

    def __init__(self, interval: float = WATCHDOG_INTERVAL) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._armed: set[_Armed] = set()
        self._local = threading.local()
        self._pid = 0

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._armed = set()
                threading.Thread(target=self._run, name="rdapd-db-watchdog", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            now = time.monotonic()
            with self._lock:
                for armed in self._armed:
                    if not armed.fired and armed.deadline <= now:
                        armed.fired = True
                        for connection in armed.connections:
                            _cut(connection)

    @property
    def current(self) -> _Armed | None:
        """The deadline of the unit of work this thread is running, if any."""
        armed: _Armed | None = getattr(self._local, "armed", None)
        return armed

    def arm(self, seconds: float) -> _Armed:
        self._ensure_thread()
        armed = _Armed(time.monotonic() + seconds, outer=self.current)
        with self._lock:
            self._armed.add(armed)
        self._local.armed = armed
        return armed

    def attach(self, armed: _Armed, dbapi_connection: Any) -> None:
        with self._lock:
            if armed.fired:
                raise DatabaseTimeout("the database did not answer in time")
            armed.connections.append(dbapi_connection)

    def disarm(self, armed: _Armed) -> bool:
        """Stop watching; True when the deadline had fired (its connections are cut)."""
        with self._lock:
            self._armed.discard(armed)
        if getattr(self._local, "armed", None) is armed:
            self._local.armed = armed.outer
        return armed.fired


WATCHDOG = Watchdog()


# --- engines ---------------------------------------------------------------------------------


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # Reads through a memory map share the OS page cache between workers and skip a read()
        # system call and a page copy per page: about half the time of an indexed lookup.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    return on_connect


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str,
    *,
    statement_timeout: float | None = None,
    connect_timeout: float | None = None,
    busy_timeout: float = 10.0,
    **kwargs: Any,
) -> Engine:
    """An engine for `url`. SQLite gets its directory created, safe pragmas and a busy timeout;
    PostgreSQL gets psycopg 3, a connect timeout and a server-side statement timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(int(busy_timeout * 1000)))
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
        if connect_timeout is not None:
            connect_args.setdefault(
                "connect_timeout", max(MIN_CONNECT_TIMEOUT, round(connect_timeout))
            )
        if statement_timeout is not None:
            ms = max(1, int(statement_timeout * 1000))
            connect_args.setdefault("options", f"-c statement_timeout={ms}")
        kwargs["connect_args"] = connect_args
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


@dataclasses.dataclass
class Target:
    """One database that answers reads: the primary or a replica."""

    name: str
    engine: Engine
    replica: bool
    # Monotonic time before which this replica is left out, and why; written by whichever
    # request saw it fail (a float store is atomic), read by every request of the process.
    skipped_until: float = 0.0
    skip_reason: str = ""

    def usable(self, now: float) -> bool:
        return not self.replica or now >= self.skipped_until

    def skip(self, reason: str) -> None:
        if time.monotonic() >= self.skipped_until:
            log.warning(
                "read replica %s left out for %.0fs: %s", self.name, REPLICA_RETRY_SECONDS, reason
            )
        self.skipped_until = time.monotonic() + REPLICA_RETRY_SECONDS
        self.skip_reason = reason


def _display(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host or 'local'}:{parsed.port or ''}/{parsed.database or ''}"


class Database:
    """The primary engine, read replicas for the lookup pipeline, and bounded units of work.

    Every unit of work handed out here (`read_connection`, `primary_connection`,
    `write_connection`, `read_scope`, `session_scope`) has a deadline: `timeout` seconds from
    its start or its last answered statement. Past it the watchdog cuts its connections and the
    caller gets DatabaseTimeout or a DBAPIError, which the HTTP layer answers with 503.
    PostgreSQL also gets `connect_timeout` and a server-side statement_timeout of `timeout`.
    Long maintenance work (escrow imports) uses `bulk_connection`, which has neither.
    """

    def __init__(
        self,
        url: str,
        read_urls: str | Sequence[str] | None = None,
        *,
        timeout: float = 2.0,
        connect_timeout: float = 2.0,
        max_lag: float = 10.0,
    ) -> None:
        if isinstance(read_urls, str):
            read_urls = (read_urls,)
        self.url = url
        self.timeout = timeout
        self.max_lag = max_lag
        self.watchdog = WATCHDOG
        self.engine = self._engine(url, connect_timeout)
        self.primary = Target("primary", self.engine, replica=False)
        self.replicas = [
            Target(_display(u), self._engine(u, connect_timeout, replica=True), replica=True)
            for u in dict.fromkeys(read_urls or ())
            if u and u != url
        ]
        self._turn = itertools.count()
        self._bulk: Engine | None = None
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Kept for callers that predate replicas: the first replica, or the primary.
        self.read_engine = self.replicas[0].engine if self.replicas else self.engine

    def _engine(self, url: str, connect_timeout: float, *, replica: bool = False) -> Engine:
        engine = make_engine(
            url,
            statement_timeout=self.timeout,
            connect_timeout=connect_timeout,
            busy_timeout=self.timeout,
            pool_timeout=self.timeout,
            pool_pre_ping=False,  # replaced by the bounded ping in _on_checkout
        )
        network = engine.dialect.name != "sqlite"
        lag_check = replica and engine.dialect.name == "postgresql"

        def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            armed = self.watchdog.current
            if armed is not None:
                self.watchdog.attach(armed, dbapi_connection)
            if network:
                self._ping(dbapi_connection, lag_check=lag_check)

        def on_progress(*_args: Any) -> None:
            armed = self.watchdog.current
            if armed is not None:
                armed.deadline = time.monotonic() + self.timeout

        event.listen(engine, "checkout", on_checkout)
        # The deadline counts from the last answered statement, so a unit of many quick
        # statements (a data fixture, a search scanning candidates) is not cut for its length.
        event.listen(engine, "after_cursor_execute", on_progress)
        return engine

    def _ping(self, dbapi_connection: Any, *, lag_check: bool) -> None:
        """Is the connection alive (and the replica current)? Outside any transaction, as
        SQLAlchemy's own pre-ping does. A dead connection → DisconnectionError, so the pool
        replaces it; a replica behind → ReplicaBehind."""
        autocommit = dbapi_connection.autocommit
        try:
            dbapi_connection.autocommit = True
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(REPLICA_LAG_SQL if lag_check else "SELECT 1")
                row = cursor.fetchone()
            finally:
                cursor.close()
            dbapi_connection.autocommit = autocommit
        except Exception as exc:
            armed = self.watchdog.current
            if armed is not None and armed.fired:
                raise DatabaseTimeout("the database did not answer in time") from exc
            raise DisconnectionError(f"ping failed: {exc.__class__.__name__}") from exc
        if lag_check and row is not None and float(row[0]) > self.max_lag:
            raise ReplicaBehind(f"replication lag {float(row[0]):.1f}s over {self.max_lag:g}s")

    # -- units of work ----------------------------------------------------------------------

    def _connect(self, target: Target) -> tuple[Connection, _Armed]:
        """Check a connection out of `target` under a fresh deadline."""
        armed = self.watchdog.arm(self.timeout)
        try:
            return target.engine.connect(), armed
        except BaseException:
            self.watchdog.disarm(armed)
            raise

    @contextlib.contextmanager
    def _use(self, target: Target, connection: Connection, armed: _Armed) -> Iterator[Connection]:
        """Run one unit of work on `connection`; roll back and release it however it ends."""
        try:
            yield connection
        except DBAPIError as exc:
            if (armed.fired or connection.invalidated) and target.replica:
                target.skip("no answer in time" if armed.fired else "connection lost")
            if armed.fired:
                metrics.database_timeout(target.name)
                raise DatabaseTimeout("the database did not answer in time") from exc
            raise
        finally:
            fired = self.watchdog.disarm(armed)
            if fired and not connection.invalidated:
                connection.invalidate()  # its socket was cut: the pool must not hand it out
            if connection.invalidated:
                connection.close()
            else:
                try:
                    connection.rollback()
                finally:
                    connection.close()

    def _read_targets(self) -> list[Target]:
        """Usable replicas, starting with the next in turn."""
        now = time.monotonic()
        usable = [t for t in self.replicas if t.usable(now)]
        if usable:
            start = next(self._turn) % len(usable)
            usable = usable[start:] + usable[:start]
        return usable

    @contextlib.contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A connection for the lookup pipeline: a current replica when there is one, else the
        primary; rolled back, never committed. Replicas that fail or lag are left out a while."""
        for target in self._read_targets():
            try:
                connection, armed = self._connect(target)
            except (DBAPIError, DisconnectionError, ReplicaBehind, PoolTimeout) as exc:
                target.skip(str(exc) if isinstance(exc, ReplicaBehind) else type(exc).__name__)
                continue
            with self._use(target, connection, armed):
                yield connection
            return
        connection, armed = self._connect(self.primary)
        with self._use(self.primary, connection, armed):
            yield connection

    @contextlib.contextmanager
    def primary_connection(self) -> Iterator[Connection]:
        """A read-only connection on the primary (for what must not lag: token revocation)."""
        connection, armed = self._connect(self.primary)
        with self._use(self.primary, connection, armed):
            yield connection

    @contextlib.contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """One Core transaction on the primary (never a replica): committed when the block
        ends without error, else rolled back."""
        connection, armed = self._connect(self.primary)
        with self._use(self.primary, connection, armed):
            yield connection
            connection.commit()

    @contextlib.contextmanager
    def _session(self) -> Iterator[Session]:
        armed = self.watchdog.arm(self.timeout)
        try:
            with self.sessions() as session:
                yield session
        except DBAPIError as exc:
            if armed.fired:
                metrics.database_timeout(self.primary.name)
                raise DatabaseTimeout("the database did not answer in time") from exc
            raise
        finally:
            self.watchdog.disarm(armed)

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Session]:
        """One transaction on the primary: commit on success, roll back on any error."""
        with self._session() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def read_scope(self) -> Iterator[Session]:
        """A read-only ORM unit of work on the primary; never commits."""
        with self._session() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextlib.contextmanager
    def bulk_connection(self) -> Iterator[Connection]:
        """A connection on the primary for long maintenance work: no deadline, no statement
        timeout, not pooled."""
        if self._bulk is None:
            self._bulk = make_engine(self.url, poolclass=NullPool, pool_pre_ping=False)
        with self._bulk.connect() as connection:
            yield connection

    # -- health -----------------------------------------------------------------------------

    def check(self) -> dict[str, str]:
        """Each database by name → "ok" or why it is not; replicas also report lag."""
        results: dict[str, str] = {}
        for target in [self.primary, *self.replicas]:
            try:
                connection, armed = self._connect(target)
                with self._use(target, connection, armed):
                    connection.exec_driver_sql("SELECT 1")
                results[target.name] = "ok"
            except ReplicaBehind as exc:
                results[target.name] = str(exc)
            except (SQLAlchemyError, OSError) as exc:
                results[target.name] = f"unreachable ({type(exc).__name__})"
        return results

    def pool_use(self) -> dict[str, int]:
        """Connections checked out of each database's pool in this process."""
        return {
            t.name: int(getattr(t.engine.pool, "checkedout", lambda: 0)())
            for t in [self.primary, *self.replicas]
        }

    def dispose(self) -> None:
        for target in [self.primary, *self.replicas]:
            target.engine.dispose()
        if self._bulk is not None:
            self._bulk.dispose()
