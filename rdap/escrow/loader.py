"""Escrow loader: parsed deposit records → registry tables, in one transaction.

A FULL deposit (RFC 9022) is the whole registry of one TLD: it replaces that TLD's data and
leaves other TLDs' alone. Domains, non-delegated names and IDN tables belong to one TLD.
Registrars, contacts and hosts may appear in the deposits of several TLDs (a registry that
shares them); each keeps the set of TLDs whose latest deposit holds it (registrar_tlds,
contact_tlds, host_tlds) and is removed when no deposit holds it any longer. A deposit whose
watermark is older than the one loaded for its TLD is refused unless forced.

How it stays fast and memory-flat whatever the deposit size:

1. Records stream from the parser into temporary *stage* tables, in batches (executemany).
   Each stage row keeps its references as strings (registrar clID, contact id, host name)
   plus the line it came from; primary keys are assigned here, by counters.
2. The TLD's old content is deleted (everything, when no other TLD is loaded) and each
   registry table is filled by one INSERT ... SELECT that resolves the string references with
   joins on unique indexes; new ids follow the highest id other TLDs left. A row lost to an
   unknown reference, a duplicate or an object another TLD shares shows as a row count below
   the staged count; only then do diagnostic queries find the culprit and its line, and
   shared objects are updated in place (their ids are referenced by other TLDs' rows).
3. Header counts are compared with what was parsed; a Deposit row records the import.

Any error rolls the whole transaction back, so the database is exactly as it was.
RFC 9022 does not fix the order of objects, and nothing here depends on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import json
import time
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import IO, Any, Final

import idna
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, Insert, Select
from sqlalchemy.sql.functions import FunctionElement

from rdap import data_version, search_columns
from rdap.db import Database
from rdap.errors import DepositError
from rdap.escrow import parallel
from rdap.escrow import parser as p
from rdap.models import (
    Base,
    Contact,
    ContactTld,
    Deposit,
    DnsKey,
    Domain,
    DomainContact,
    DomainNameserver,
    DsRecord,
    Host,
    HostAddress,
    HostTld,
    IdnTable,
    NonDelegatedName,
    PostalInfo,
    Registrar,
    RegistrarTld,
    Tld,
)
from rdap.models.base import Json, UtcDateTime

BATCH_SIZE: Final = 5000
IMPORT_LOCK: Final = 0x72646170  # PostgreSQL advisory lock key: one import at a time
CHUNK_OBJECTS: Final = 2000  # content objects per chunk (the unit worker processes hand over)
PARALLEL_MIN_BYTES: Final = 64 * 1024**2  # smaller deposits are parsed in the importer itself
MAX_WORKERS: Final = 4
IMPORT_CACHE_KIB: Final = 64 * 1024  # SQLite page cache during an import: memory stays flat


def _t(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# Registry tables a FULL deposit fills, children first (the order deletes must run in).
REGISTRY_TABLES: Final[tuple[Table, ...]] = tuple(
    _t(model)
    for model in (
        DomainContact,
        DomainNameserver,
        DsRecord,
        DnsKey,
        Domain,
        HostAddress,
        Host,
        PostalInfo,
        Contact,
        Registrar,
        IdnTable,
        NonDelegatedName,
        Tld,
    )
)
MEMBERSHIPS: Final[tuple[Table, ...]] = (_t(RegistrarTld), _t(ContactTld), _t(HostTld))
DOMAIN_CHILDREN: Final[tuple[Table, ...]] = (
    _t(DomainContact),
    _t(DomainNameserver),
    _t(DsRecord),
    _t(DnsKey),
)

OBJECT_NAMES: Final = {
    p.DOMAIN: "domain",
    p.HOST: "host",
    p.CONTACT: "contact",
    p.REGISTRAR: "registrar",
    p.IDN: "idnTableRef",
    p.NNDN: "NNDN",
}


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """What one import loaded: counts per object type and how long it took."""

    deposit_id: str
    deposit_type: str
    tld: str
    watermark: dt.datetime
    counts: dict[str, int]
    elapsed: float
    # Seconds per phase: parse+stage, resolve+copy into the registry tables.
    phases: dict[str, float] = dataclasses.field(default_factory=dict)

    def summary(self) -> str:
        parts = ", ".join(f"{n} {name}" for name, n in self.counts.items())
        return (
            f"imported {self.deposit_type} deposit {self.deposit_id} for .{self.tld} "
            f"(watermark {self.watermark.isoformat()}): {parts} in {self.elapsed:.1f}s"
        )


# --- stage tables ----------------------------------------------------------------------------

_stage = MetaData()


def _json_column(name: str) -> Column[Any]:
    """Stage JSON as text (serialized by the stager); the copy casts it back to JSON."""
    return Column(name, Text, info={"json": True})


def _temp(name: str, *columns: Column[Any]) -> Table:
    return Table(f"rde_stage_{name}", _stage, *columns, prefixes=["TEMPORARY"])


def _id() -> Column[Any]:
    return Column("id", Integer, primary_key=True, autoincrement=False)


def _line() -> Column[Any]:
    return Column("line", Integer, nullable=False)


S_REGISTRAR = _temp(
    "registrars",
    _id(),
    _line(),
    Column("client_id", String),
    Column("iana_id", Integer),
    Column("name", String),
    Column("status", String),
    _json_column("street"),
    Column("city", String),
    Column("state", String),
    Column("postal_code", String),
    Column("country", String),
    Column("voice", String),
    Column("voice_ext", String),
    Column("fax", String),
    Column("fax_ext", String),
    Column("email", String),
    Column("url", String),
    Column("whois_server", String),
    Column("whois_url", String),
    Column("created_at", UtcDateTime),
    Column("updated_at", UtcDateTime),
)
S_REGISTRAR_FACTS = _temp(
    "registrar_facts",
    _id(),
    _line(),
    Column("client_id", String),
    Column("rdap_base_url", String),
    Column("abuse_name", String),
    Column("abuse_email", String),
    Column("abuse_voice", String),
)
S_CONTACT = _temp(
    "contacts",
    _id(),
    _line(),
    Column("handle", String),
    Column("roid", String),
    Column("clid", String),
    Column("created_by", String),
    Column("updated_by", String),
    _json_column("statuses"),
    Column("voice", String),
    Column("voice_ext", String),
    Column("fax", String),
    Column("fax_ext", String),
    Column("email", String),
    Column("created_at", UtcDateTime),
    Column("updated_at", UtcDateTime),
    Column("transferred_at", UtcDateTime),
    _json_column("disclose"),
)
S_CONTACT_FACTS = _temp(
    "contact_facts",
    _id(),
    _line(),
    Column("handle", String),
    Column("person_kind", String),
    _json_column("publish_consent"),
    Column("consent_at", UtcDateTime),
    Column("verification_status", String),
    Column("verified_at", UtcDateTime),
    Column("verification_method", String),
    Column("community_id", String),
    Column("eligibility_verified_at", UtcDateTime),
    Column("registrant_group", String),
)
S_POSTAL = _temp(
    "postal_infos",
    _id(),
    Column("contact_id", Integer),
    Column("type", String),
    Column("name", String),
    Column("org", String),
    _json_column("street"),
    Column("city", String),
    Column("state", String),
    Column("postal_code", String),
    Column("country", String),
)
S_HOST = _temp(
    "hosts",
    _id(),
    _line(),
    Column("roid", String),
    Column("ldh_name", String),
    Column("unicode_name", String),
    Column("clid", String),
    Column("created_by", String),
    Column("updated_by", String),
    _json_column("statuses"),
    Column("created_at", UtcDateTime),
    Column("updated_at", UtcDateTime),
    Column("transferred_at", UtcDateTime),
)
S_HOST_ADDR = _temp(
    "host_addresses",
    _id(),
    Column("host_id", Integer),
    Column("version", String),
    Column("address", String),
)
S_DOMAIN = _temp(
    "domains",
    _id(),
    _line(),
    Column("roid", String),
    Column("ldh_name", String),
    Column("unicode_name", String),
    Column("tld", String),
    Column("clid", String),
    Column("registrant", String),
    Column("created_by", String),
    Column("updated_by", String),
    _json_column("statuses"),
    Column("created_at", UtcDateTime),
    Column("expires_at", UtcDateTime),
    Column("updated_at", UtcDateTime),
    Column("transferred_at", UtcDateTime),
    Column("idn_table", String),
    Column("original_name", String),
    Column("delegation_signed", Boolean),
    Column("max_sig_life", Integer),
)
S_DOMAIN_CONTACT = _temp(
    "domain_contacts",
    _id(),
    Column("domain_id", Integer),
    Column("handle", String),
    Column("type", String),
)
S_NAMESERVER = _temp(
    "domain_nameservers",
    _id(),
    Column("domain_id", Integer),
    Column("position", Integer),
    Column("is_object", Boolean),
    Column("ldh_name", String),
    _json_column("addresses"),
)
S_DS = _temp(
    "ds_records",
    _id(),
    Column("domain_id", Integer),
    Column("key_tag", Integer),
    Column("algorithm", Integer),
    Column("digest_type", Integer),
    Column("digest", String),
)
S_KEY = _temp(
    "dns_keys",
    _id(),
    Column("domain_id", Integer),
    Column("flags", Integer),
    Column("protocol", Integer),
    Column("algorithm", Integer),
    Column("public_key", Text),
)
S_IDN = _temp(
    "idn_tables",
    _id(),
    _line(),
    Column("table_id", String),
    Column("url", String),
    Column("url_policy", String),
)
S_NNDN = _temp(
    "nndn",
    _id(),
    _line(),
    Column("ldh_name", String),
    Column("unicode_name", String),
    Column("idn_table", String),
    Column("original_name", String),
    Column("state", String),
    Column("created_at", UtcDateTime),
)
S_PROTECTED = _temp(
    "protected_names", _id(), _line(), Column("ldh_name", String), Column("reason", String)
)

# The order _RowBuffer rows are built in (tests check it against the tables above).
STAGE_COLUMNS: Final = {
    S_REGISTRAR: ("id", "line", "client_id", "iana_id", "name", "status", "street", "city",
                  "state", "postal_code", "country", "voice", "voice_ext", "fax", "fax_ext",
                  "email", "url", "whois_server", "whois_url", "created_at", "updated_at"),
    S_REGISTRAR_FACTS: ("id", "line", "client_id", "rdap_base_url", "abuse_name", "abuse_email",
                        "abuse_voice"),
    S_CONTACT: ("id", "line", "handle", "roid", "clid", "created_by", "updated_by", "statuses",
                "voice", "voice_ext", "fax", "fax_ext", "email", "created_at", "updated_at",
                "transferred_at", "disclose"),
    S_CONTACT_FACTS: ("id", "line", "handle", "person_kind", "publish_consent", "consent_at",
                      "verification_status", "verified_at", "verification_method",
                      "community_id", "eligibility_verified_at", "registrant_group"),
    S_POSTAL: ("id", "contact_id", "type", "name", "org", "street", "city", "state",
               "postal_code", "country"),
    S_HOST: ("id", "line", "roid", "ldh_name", "unicode_name", "clid", "created_by", "updated_by",
             "statuses", "created_at", "updated_at", "transferred_at"),
    S_HOST_ADDR: ("id", "host_id", "version", "address"),
    S_DOMAIN: ("id", "line", "roid", "ldh_name", "unicode_name", "tld", "clid", "registrant",
               "created_by", "updated_by", "statuses", "created_at", "expires_at", "updated_at",
               "transferred_at", "idn_table", "original_name", "delegation_signed",
               "max_sig_life"),
    S_DOMAIN_CONTACT: ("id", "domain_id", "handle", "type"),
    S_NAMESERVER: ("id", "domain_id", "position", "is_object", "ldh_name", "addresses"),
    S_DS: ("id", "domain_id", "key_tag", "algorithm", "digest_type", "digest"),
    S_KEY: ("id", "domain_id", "flags", "protocol", "algorithm", "public_key"),
    S_IDN: ("id", "line", "table_id", "url", "url_policy"),
    S_NNDN: ("id", "line", "ldh_name", "unicode_name", "idn_table", "original_name", "state",
             "created_at"),
    S_PROTECTED: ("id", "line", "ldh_name", "reason"),
}  # fmt: skip

# Lookup indexes on stage tables, built after staging (cheaper than maintaining them per row).
STAGE_INDEXES: Final = (
    (S_CONTACT_FACTS, "handle"),
    (S_REGISTRAR_FACTS, "client_id"),
    (S_PROTECTED, "ldh_name"),
)


# --- staging ---------------------------------------------------------------------------------


def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    # The text form SQLAlchemy's SQLite DateTime reads back (UTC, naive, microseconds).
    if value is None:
        return None
    if value.tzinfo is dt.UTC:  # what the parser gives: drop "+00:00" (faster than replace())
        return value.isoformat(" ", "microseconds")[:-6]
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _same_datetime(value: dt.datetime | None) -> dt.datetime | None:
    return value


def _json_text(value: Any) -> str:
    if type(value) is list and all(type(v) is str for v in value):
        return _json_strings(tuple(value))  # status lists repeat: serialize each shape once
    return json.dumps(value, ensure_ascii=False)


@functools.lru_cache(maxsize=4096)
def _json_strings(values: tuple[str, ...]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


@dataclasses.dataclass
class _Chunk:
    """Stage rows for a run of content objects, keyed by stage table name, with ids counted
    from 1 per table (references to other stage rows count alike); the records the importer
    checks itself (deposit info, header); how many objects of each kind it holds."""

    rows: dict[str, list[tuple[Any, ...]]]
    records: list[p.Record]
    counts: dict[str, int]


class _RowBuffer:
    """Collects one chunk's stage rows; the _stage_* functions write into it."""

    def __init__(self, sqlite: bool) -> None:
        self.d: Callable[[dt.datetime | None], Any] = _sqlite_datetime if sqlite else _same_datetime
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.records: list[p.Record] = []
        self.counts: dict[str, int] = {}

    def add(self, table: Table, values: tuple[Any, ...]) -> int:
        """Stage one row (all columns but `id`, in column order); return its id in the chunk."""
        rows = self.rows.get(table.name)
        if rows is None:
            rows = self.rows[table.name] = []
        ident = len(rows) + 1
        rows.append((ident, *values))
        return ident

    def take(self) -> _Chunk:
        chunk = _Chunk(self.rows, self.records, self.counts)
        self.rows, self.records, self.counts = {}, [], {}
        return chunk


# Stage tables whose second column is the id of a row in another stage table.
_STAGE_PARENTS: Final[dict[str, str]] = {
    S_POSTAL.name: S_CONTACT.name,
    S_HOST_ADDR.name: S_HOST.name,
    S_DOMAIN_CONTACT.name: S_DOMAIN.name,
    S_NAMESERVER.name: S_DOMAIN.name,
    S_DS.name: S_DOMAIN.name,
    S_KEY.name: S_DOMAIN.name,
}


class _Stager:
    """Writes chunks into the stage tables in batches, numbering their rows in arrival order.

    Rows are tuples in the stage table's column order, values already in the driver's form
    (JSON as text, dates as the backend wants them), handed to the driver's executemany:
    per-row SQLAlchemy parameter processing would cost more than the database work.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        tables = {t.name: t for t in _stage.tables.values()}
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in tables}
        self.staged: dict[str, int] = dict.fromkeys(tables, 0)
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self.sql: dict[str, str] = {}
        for name, t in tables.items():
            names = ", ".join(c.name for c in t.c)
            marks = ", ".join(mark for _ in t.c)
            self.sql[name] = f"INSERT INTO {name} ({names}) VALUES ({marks})"  # noqa: S608 - names from our metadata

    def add_chunk(self, chunk: _Chunk) -> None:
        """Stage a chunk's rows, its ids moved past every row staged before it."""
        offsets = dict(self.staged)
        for name, chunk_rows in chunk.rows.items():
            offset = offsets[name]
            parent = _STAGE_PARENTS.get(name)
            rows = chunk_rows
            if parent is not None:
                parent_offset = offsets[parent]
                if offset or parent_offset:
                    rows = [(r[0] + offset, r[1] + parent_offset, *r[2:]) for r in rows]
            elif offset:
                rows = [(r[0] + offset, *r[1:]) for r in rows]
            self.staged[name] = offset + len(rows)
            buffer = self.rows[name]
            buffer.extend(rows)
            if len(buffer) >= BATCH_SIZE:
                self.conn.exec_driver_sql(self.sql[name], buffer)
                buffer.clear()

    def count(self, table: Table) -> int:
        return self.staged[table.name]

    def flush(self) -> None:
        for name, buffer in self.rows.items():
            if buffer:
                self.conn.exec_driver_sql(self.sql[name], buffer)
                buffer.clear()


def _phone_parts(phone: p.Phone | None) -> tuple[str | None, str | None]:
    return (phone.number, phone.ext) if phone else (None, None)


def _address_values(address: p.Address | None) -> tuple[Any, ...]:
    """(street JSON, city, state, postal_code, country)."""
    if address is None:
        return ("[]", None, None, None, None)
    a = address
    return (_json_text(a.street), a.city, a.state, a.postal_code, a.country)


def _stage_registrar(st: _RowBuffer, r: p.RegistrarRecord) -> None:
    voice, voice_ext = _phone_parts(r.voice)
    fax, fax_ext = _phone_parts(r.fax)
    st.add(
        S_REGISTRAR,
        (
            r.line, r.client_id, r.gurid, r.name, r.status, *_address_values(r.address),
            voice, voice_ext, fax, fax_ext, r.email, r.url, r.whois_server, r.whois_url,
            st.d(r.created), st.d(r.updated),
        ),
    )  # fmt: skip


def _stage_contact(st: _RowBuffer, c: p.ContactRecord) -> None:
    voice, voice_ext = _phone_parts(c.voice)
    fax, fax_ext = _phone_parts(c.fax)
    disclose = None if c.disclose is None else _json_text(c.disclose)
    contact_id = st.add(
        S_CONTACT,
        (
            c.line, c.handle, c.roid, c.clid, c.created_by, c.updated_by, _json_text(c.statuses),
            voice, voice_ext, fax, fax_ext, c.email, st.d(c.created), st.d(c.updated),
            st.d(c.transferred), disclose,
        ),
    )  # fmt: skip
    for info in c.postal_infos:
        st.add(
            S_POSTAL,
            (contact_id, info.type, info.name, info.org, *_address_values(info.address)),
        )


def _stage_host(st: _RowBuffer, h: p.HostRecord) -> None:
    host_id = st.add(
        S_HOST,
        (
            h.line, h.roid, h.name, h.unicode_name, h.clid, h.created_by, h.updated_by,
            _json_text(h.statuses), st.d(h.created), st.d(h.updated), st.d(h.transferred),
        ),
    )  # fmt: skip
    for addr in h.addresses:
        st.add(S_HOST_ADDR, (host_id, addr.version, addr.address))


def _stage_domain(st: _RowBuffer, d: p.DomainRecord) -> None:
    domain_id = st.add(
        S_DOMAIN,
        (
            d.line, d.roid, d.name, d.unicode_name, d.tld, d.clid, d.registrant, d.created_by,
            d.updated_by, _json_text(d.statuses), st.d(d.created), st.d(d.expires),
            st.d(d.updated), st.d(d.transferred), d.idn_table, d.original_name,
            bool(d.ds_data or d.key_data), d.max_sig_life,
        ),
    )  # fmt: skip
    for kind, handle in d.contacts:
        st.add(S_DOMAIN_CONTACT, (domain_id, handle, kind))
    position = 0
    for host_name in d.host_objects:
        st.add(S_NAMESERVER, (domain_id, position, True, host_name, "[]"))
        position += 1
    for attr in d.host_attrs:
        addresses = [{"version": a.version, "address": a.address} for a in attr.addresses]
        st.add(S_NAMESERVER, (domain_id, position, False, attr.name, _json_text(addresses)))
        position += 1
    for ds in d.ds_data:
        st.add(S_DS, (domain_id, ds.key_tag, ds.algorithm, ds.digest_type, ds.digest))
    for key in d.key_data:
        st.add(S_KEY, (domain_id, key.flags, key.protocol, key.algorithm, key.public_key))


def _stage_contact_facts(st: _RowBuffer, f: p.ContactFacts) -> None:
    stamps = [c.at for c in f.consents if c.at is not None]
    st.add(
        S_CONTACT_FACTS,
        (
            f.line, f.handle, f.person_kind, _json_text(sorted({c.element for c in f.consents})),
            st.d(max(stamps) if stamps else None), f.verification_status, st.d(f.verified_at),
            f.verification_method, f.community_id, st.d(f.eligibility_verified_at),
            f.registrant_group,
        ),
    )  # fmt: skip


# --- copy from stage to registry -------------------------------------------------------------


def _insert(conn: Connection, table: Table) -> Insert:
    """INSERT that skips rows violating a unique constraint (they are found by the row count)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)


def _copy(conn: Connection, table: Table, query: Select[Any]) -> int:
    names = [c.name for c in query.selected_columns]
    # SQLite needs a WHERE in INSERT ... SELECT ... ON CONFLICT to parse it unambiguously.
    stmt = _insert(conn, table).from_select(names, query.where(true()))
    # preserve_rowcount: without it some drivers (psycopg) report -1 for INSERT ... SELECT.
    return int(conn.execute(stmt.execution_options(preserve_rowcount=True)).rowcount)


def _cols(stage: Table, *names: str) -> list[ColumnElement[Any]]:
    """Stage columns by name, JSON text cast back to JSON."""
    return [_column(stage, n) for n in names]


def _column(stage: Table, name: str) -> ColumnElement[Any]:
    column = stage.c[name]
    if column.info.get("json"):
        return _JsonText(column).label(name)
    return column


class _JsonText(FunctionElement[Any]):
    """Staged JSON text as a JSON value: as is on SQLite (JSON is text), cast on PostgreSQL."""

    type = Json
    inherit_cache = True
    name = "json_text"


@compiles(_JsonText)
def _json_text_default(element: _JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_JsonText, "postgresql")
def _json_text_postgresql(element: _JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS JSONB)"


def _plus(column: ColumnElement[Any], offset: int, name: str) -> ColumnElement[Any]:
    """`column + offset` labelled `name`; the bare column when there is nothing to add."""
    return (column + offset).label(name) if offset else column.label(name)


@dataclasses.dataclass(frozen=True)
class _Kind:
    """Objects of one kind as the copy sees them: where they are staged and loaded, the key
    that names one across deposits, the TLDs holding each (None: the table has a `tld`
    column), and words for messages."""

    stage: Table
    table: Table
    key: str
    membership: Table | None
    tag: str
    what: str


CONTACTS: Final = _Kind(
    S_CONTACT, _t(Contact), "handle", _t(ContactTld), "rdeContact:contact", "contacts"
)
HOSTS: Final = _Kind(S_HOST, _t(Host), "ldh_name", _t(HostTld), "rdeHost:host", "hosts")
DOMAINS: Final = _Kind(S_DOMAIN, _t(Domain), "ldh_name", None, "rdeDomain:domain", "domains")


class _Copier:
    """Fills one TLD's registry rows from the stage tables (see the module docstring)."""

    def __init__(self, conn: Connection, st: _Stager, tld: str) -> None:
        self.conn = conn
        self.st = st
        self.tld = tld

    def first(self, query: Select[Any]) -> Any:
        return self.conn.execute(query.limit(1)).first()

    def offset(self, table: Table) -> int:
        """What new rows' ids add to their stage ids: the highest id other TLDs' rows hold."""
        return int(self.conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())

    def holders(self, membership: Table, object_id: int) -> str:
        """The TLDs whose deposits hold an object, for messages: ".mail, .post"."""
        key = next(c for c in membership.primary_key.columns if c.name != "tld")
        names = self.conn.scalars(
            select(membership.c.tld).where(key == object_id).order_by(membership.c.tld)
        ).all()
        return ", ".join(f".{name}" for name in names) or "another TLD"

    def orphan_facts(self, facts: Table, key: Any, target: Any, tag: str, what: str) -> None:
        """Raise for the first extension facts object whose `key` names no `target` object."""
        orphan = self.first(
            select(facts.c.line, key)
            .select_from(facts.outerjoin(target.table, target == key))
            .where(target.is_(None))
            .order_by(facts.c.line)
        )
        if orphan is not None:
            raise DepositError(
                f"line {orphan[0]}: <{tag}> {orphan[1]}: {what} '{orphan[1]}' is not in the deposit"
            )

    def duplicates(self, stage: Table, column: str, tag: str, what: str) -> None:
        """Raise for the first value of `column` that appears twice in `stage`."""
        key = stage.c[column]
        dupes = (
            select(key, func.min(stage.c.line).label("first"), func.max(stage.c.line).label("last"))
            .group_by(key)
            .having(func.count() > 1)
            .order_by(func.max(stage.c.line))
        )
        row = self.first(dupes)
        if row is not None:
            raise DepositError(
                f"line {row.last}: <{tag}> {row[0]}: duplicate {what} (first at line {row.first})"
            )

    def roid_taken(self, kind: _Kind, offset: int) -> None:
        """Raise when a staged object's ROID belongs to another TLD's object of another name."""
        stage, table, key = kind.stage, kind.table, kind.key
        row = self.first(
            select(
                stage.c.line,
                stage.c[key],
                stage.c.roid,
                table.c[key].label("other"),
                table.c.id,
                *([table.c.tld.label("of_tld")] if kind.membership is None else []),
            )
            .select_from(stage.join(table, table.c.roid == stage.c.roid))
            .where(table.c.id <= offset, table.c[key] != stage.c[key])
            .order_by(stage.c.line)
        )
        if row is not None:
            held = (
                f".{row.of_tld}"
                if kind.membership is None
                else self.holders(kind.membership, row.id)
            )
            raise DepositError(
                f"line {row.line}: <{kind.tag}> {row[1]}: ROID '{row.roid}' is '{row.other}' in "
                f"the deposit of {held}"
            )

    def registrars(self) -> None:
        s, f = S_REGISTRAR, S_REGISTRAR_FACTS
        query = select(
            *_cols(
                s,
                "id",
                "client_id",
                "iana_id",
                "name",
                "status",
                "street",
                "city",
                "state",
                "postal_code",
                "country",
                "voice",
                "voice_ext",
                "fax",
                "fax_ext",
                "email",
                "url",
                "whois_server",
                "whois_url",
                "created_at",
                "updated_at",
            ),
            *_cols(f, "rdap_base_url", "abuse_name", "abuse_email", "abuse_voice"),
        ).select_from(s.outerjoin(f, f.c.client_id == s.c.client_id))
        self.duplicates(s, "client_id", "rdeRegistrar:registrar", "registrar id")
        self.duplicates(f, "client_id", "rdapd:registrarFacts", "registrar facts")
        self.orphan_facts(f, f.c.client_id, s.c.client_id, "rdapd:registrarFacts", "registrar")
        # Registrars keep their row ids across deposits (matched by client id), so what refers
        # to them from outside the deposit (OAuth clients) stays bound to them. One that no
        # TLD's deposit holds any longer, and that nothing loaded refers to, is removed.
        table = _t(Registrar)
        existing = {
            row[0]: row[1] for row in self.conn.execute(select(table.c.client_id, table.c.id))
        }
        held = _t(RegistrarTld)
        self.conn.execute(
            delete(table).where(
                table.c.client_id.not_in(select(s.c.client_id)),
                ~select(held.c.registrar_id).where(held.c.registrar_id == table.c.id).exists(),
                *(
                    ~select(other.c.id).where(other.c.registrar_id == table.c.id).exists()
                    for other in (_t(Domain), _t(Contact), _t(Host))
                ),
            )
        )
        next_id = max(existing.values(), default=0) + 1
        inserts = []
        for row in self.conn.execute(query).mappings():
            values = dict(row)
            known = existing.get(values["client_id"])
            if known is None:
                values["id"] = next_id
                next_id += 1
                inserts.append(values)
            else:
                values["id"] = known
                self.conn.execute(update(table).where(table.c.id == known).values(**values))
        if inserts:
            self.conn.execute(insert(table), inserts)
        members = select(
            table.c.id.label("registrar_id"), literal(self.tld).label("tld")
        ).select_from(s.join(table, table.c.client_id == s.c.client_id))
        _copy(self.conn, _t(RegistrarTld), members)

    def _unknown_registrar(self, stage: Table, tag: str, ident: str) -> None:
        r = _t(Registrar)
        row = self.first(
            select(stage.c.line, stage.c[ident], stage.c.clid)
            .select_from(stage.outerjoin(r, r.c.client_id == stage.c.clid))
            .where(r.c.id.is_(None))
            .order_by(stage.c.line)
        )
        if row is not None:
            raise DepositError(
                f"line {row.line}: <{tag}> {row[1]}: registrar '{row.clid}' is not in the deposit"
            )

    def shared(self, kind: _Kind, offset: int, copied: int) -> None:
        """After a copy that left rows out: raise unless the rows left out are exactly objects
        that other TLDs' deposits hold under the same key (shared objects)."""
        stage, table = kind.stage, kind.table
        shared = self.conn.execute(
            select(func.count())
            .select_from(stage.join(table, table.c[kind.key] == stage.c[kind.key]))
            .where(table.c.id <= offset)
        ).scalar_one()
        if not shared or copied + shared != self.st.count(stage):
            raise DepositError(f"{kind.what} could not be loaded")

    def refresh(self, kind: _Kind, query: Select[Any], where: Any) -> None:
        """Update the shared objects `where` selects with this deposit's values, in place (other
        TLDs' rows refer to their ids)."""
        new = query.subquery()
        table, key = kind.table, kind.key
        names = [c.name for c in query.selected_columns if c.name not in ("id", key)]
        self.conn.execute(
            update(table)
            .values({name: new.c[name] for name in names})
            .where(table.c[key] == new.c[key], where)
        )

    def children(
        self, kind: _Kind, stage: Table, table: Table, parent_offset: int, refreshed: Any
    ) -> None:
        """Copy the child rows (postal infos, host addresses) of staged objects: those of new
        objects by id; with shared objects (`refreshed` selects those updated, else None),
        those of refreshed ones by key, after their old ones are deleted."""
        parent, key = kind.table, kind.key
        fk = stage.c[next(c.name for c in stage.c if c.name.endswith("_id"))]
        rest = [_column(stage, c.name) for c in stage.c if c.name not in ("id", fk.name)]
        ids = _plus(stage.c.id, self.offset(table), "id")
        plain = select(ids, _plus(fk, parent_offset, fk.name), *rest)
        if refreshed is None:
            _copy(self.conn, table, plain)
            return
        stale = (
            select(parent.c.id)
            .select_from(kind.stage.join(parent, parent.c[key] == kind.stage.c[key]))
            .where(refreshed)
        )
        self.conn.execute(delete(table).where(table.c[fk.name].in_(stale)))
        _copy(
            self.conn,
            table,
            plain.select_from(stage.join(parent, parent.c.id == fk + parent_offset)),
        )
        by_key = (
            select(ids, parent.c.id.label(fk.name), *rest)
            .select_from(
                stage.join(kind.stage, kind.stage.c.id == fk).join(
                    parent, parent.c[key] == kind.stage.c[key]
                )
            )
            .where(refreshed)
        )
        _copy(self.conn, table, by_key)

    def members(self, kind: _Kind, offset: int, shared: bool) -> None:
        """Record that this TLD's deposit holds every staged object of `kind`."""
        assert kind.membership is not None
        stage, table = kind.stage, kind.table
        column = next(c.name for c in kind.membership.primary_key.columns if c.name != "tld")
        tld = literal(self.tld).label("tld")
        if shared:
            query = select(table.c.id.label(column), tld).select_from(
                stage.join(table, table.c[kind.key] == stage.c[kind.key])
            )
        else:
            query = select(_plus(stage.c.id, offset, column), tld)
        _copy(self.conn, kind.membership, query)

    def contacts(self) -> None:
        s, f, r, c = S_CONTACT, S_CONTACT_FACTS, _t(Registrar), _t(Contact)
        offset = self.offset(c)
        query = select(
            _plus(s.c.id, offset, "id"),
            *_cols(s, "handle", "roid"),
            r.c.id.label("registrar_id"),
            *_cols(
                s,
                "created_by",
                "updated_by",
                "statuses",
                "voice",
                "voice_ext",
                "fax",
                "fax_ext",
                "email",
                "created_at",
                "updated_at",
                "transferred_at",
                "disclose",
            ),
            func.coalesce(f.c.person_kind, "natural").label("person_kind"),
            _JsonText(func.coalesce(f.c.publish_consent, "[]")).label("publish_consent"),
            f.c.consent_at,
            func.coalesce(f.c.verification_status, "unverified").label("verification_status"),
            *_cols(
                f,
                "verified_at",
                "verification_method",
                "community_id",
                "eligibility_verified_at",
                "registrant_group",
            ),
        ).select_from(s.join(r, r.c.client_id == s.c.clid).outerjoin(f, f.c.handle == s.c.handle))
        self.duplicates(f, "handle", "rdapd:contactFacts", "contact facts")
        copied = _copy(self.conn, c, query)
        refreshed = None
        if copied != self.st.count(s):
            self._unknown_registrar(s, "rdeContact:contact", "handle")
            self.duplicates(s, "handle", "rdeContact:contact", "contact id")
            self.duplicates(s, "roid", "rdeContact:contact", "roid")
            self.roid_taken(CONTACTS, offset)
            self.same_contacts(offset)
            self.shared(CONTACTS, offset, copied)
            refreshed = c.c.id <= offset  # a shared contact takes the latest deposit's values
            self.refresh(CONTACTS, query, refreshed)
        self.orphan_facts(f, f.c.handle, c.c.handle, "rdapd:contactFacts", "contact")
        self.children(CONTACTS, S_POSTAL, _t(PostalInfo), offset, refreshed)
        self.members(CONTACTS, offset, refreshed is not None)
        search_columns.refresh(self.conn)

    def same_contacts(self, offset: int) -> None:
        """A contact id another TLD's deposit holds must name the same contact (ROID): two
        registries' contacts are never merged into one."""
        s, c = S_CONTACT, _t(Contact)
        row = self.first(
            select(s.c.line, s.c.handle, s.c.roid, c.c.roid.label("held"), c.c.id)
            .select_from(s.join(c, c.c.handle == s.c.handle))
            .where(c.c.id <= offset, c.c.roid != s.c.roid)
            .order_by(s.c.line)
        )
        if row is not None:
            raise DepositError(
                f"line {row.line}: <rdeContact:contact> {row.handle}: contact id "
                f"'{row.handle}' is ROID '{row.held}' in the deposit of "
                f"{self.holders(_t(ContactTld), row.id)}, '{row.roid}' here; one contact id "
                "cannot name two contacts"
            )

    def plain(self, stage: Table, table: Table, parent_offset: int = 0) -> None:
        """Copy rows whose only reference is their parent's stage id (DS records, DNS keys)."""
        fk = stage.c[next(c.name for c in stage.c if c.name.endswith("_id"))]
        rest = [_column(stage, c.name) for c in stage.c if c.name not in ("id", fk.name)]
        query = select(
            _plus(stage.c.id, self.offset(table), "id"),
            _plus(fk, parent_offset, fk.name),
            *rest,
        )
        _copy(self.conn, table, query)

    def hosts(self) -> None:
        s, r, h = S_HOST, _t(Registrar), _t(Host)
        offset = self.offset(h)
        query = select(
            _plus(s.c.id, offset, "id"),
            *_cols(s, "roid", "ldh_name", "unicode_name"),
            r.c.id.label("registrar_id"),
            *_cols(
                s,
                "created_by",
                "updated_by",
                "statuses",
                "created_at",
                "updated_at",
                "transferred_at",
            ),
        ).select_from(s.join(r, r.c.client_id == s.c.clid))
        copied = _copy(self.conn, h, query)
        refreshed = None
        if copied != self.st.count(s):
            self._unknown_registrar(s, "rdeHost:host", "ldh_name")
            self.duplicates(s, "ldh_name", "rdeHost:host", "host name")
            self.duplicates(s, "roid", "rdeHost:host", "roid")
            self.roid_taken(HOSTS, offset)
            self.shared(HOSTS, offset, copied)
            # A host is the deposit's of the TLD it is under when that deposit holds it,
            # else the latest deposit's that holds it.
            ht = _t(HostTld)
            under_holder = (
                select(ht.c.host_id)
                .where(ht.c.host_id == h.c.id, h.c.ldh_name.like(literal("%.") + ht.c.tld))
                .exists()
            )
            refreshed = and_(
                h.c.id <= offset,
                or_(h.c.ldh_name.endswith(f".{self.tld}", autoescape=True), ~under_holder),
            )
            self.refresh(HOSTS, query, refreshed)
        self.children(HOSTS, S_HOST_ADDR, _t(HostAddress), offset, refreshed)
        self.members(HOSTS, offset, refreshed is not None)

    def domains(self) -> None:
        s, r, c, d = S_DOMAIN, _t(Registrar), _t(Contact), _t(Domain)
        offset = self.offset(d)
        query = (
            select(
                _plus(s.c.id, offset, "id"),
                *_cols(s, "roid", "ldh_name", "unicode_name", "tld"),
                r.c.id.label("registrar_id"),
                c.c.id.label("registrant_id"),
                *_cols(
                    s,
                    "created_by",
                    "updated_by",
                    "statuses",
                    "created_at",
                    "expires_at",
                    "updated_at",
                    "transferred_at",
                    "idn_table",
                    "original_name",
                    "delegation_signed",
                    "max_sig_life",
                ),
            )
            .select_from(
                s.join(r, r.c.client_id == s.c.clid).outerjoin(c, c.c.handle == s.c.registrant)
            )
            .where(or_(s.c.registrant.is_(None), c.c.id.is_not(None)))
        )
        if _copy(self.conn, d, query) != self.st.count(s):
            self._unknown_registrar(s, "rdeDomain:domain", "ldh_name")
            row = self.first(
                select(s.c.line, s.c.ldh_name, s.c.registrant)
                .select_from(s.outerjoin(c, c.c.handle == s.c.registrant))
                .where(and_(s.c.registrant.is_not(None), c.c.id.is_(None)))
                .order_by(s.c.line)
            )
            if row is not None:
                raise DepositError(
                    f"line {row.line}: <rdeDomain:domain> {row.ldh_name}: registrant "
                    f"'{row.registrant}' is not in the deposit"
                )
            self.duplicates(s, "ldh_name", "rdeDomain:domain", "domain name")
            self.duplicates(s, "roid", "rdeDomain:domain", "roid")
            self.roid_taken(DOMAINS, offset)
            raise DepositError("domains could not be loaded")
        self.domain_contacts(offset)
        self.nameservers(offset)
        self.plain(S_DS, _t(DsRecord), offset)
        self.plain(S_KEY, _t(DnsKey), offset)

    def _child_problem(self, stage: Table, join: Any, condition: Any, what: str) -> None:
        d = S_DOMAIN
        row = self.first(
            select(
                d.c.line,
                d.c.ldh_name,
                stage.c.ldh_name if what == "host" else stage.c.handle,
                *([stage.c.type] if what == "contact" else []),
            )
            .select_from(stage.join(d, d.c.id == stage.c.domain_id).outerjoin(*join))
            .where(condition)
            .order_by(d.c.line)
        )
        if row is not None:
            label = f"contact '{row[2]}' ({row[3]})" if what == "contact" else f"host '{row[2]}'"
            raise DepositError(
                f"line {row.line}: <rdeDomain:domain> {row.ldh_name}: {label} is not in the deposit"
            )

    def domain_contacts(self, domain_offset: int) -> None:
        s, c, table = S_DOMAIN_CONTACT, _t(Contact), _t(DomainContact)
        query = select(
            _plus(s.c.id, self.offset(table), "id"),
            _plus(s.c.domain_id, domain_offset, "domain_id"),
            c.c.id.label("contact_id"),
            s.c.type,
        ).select_from(s.join(c, c.c.handle == s.c.handle))
        if _copy(self.conn, table, query) != self.st.count(s):
            self._child_problem(s, (c, c.c.handle == s.c.handle), c.c.id.is_(None), "contact")
            self._duplicate_children(s, (s.c.domain_id, s.c.handle, s.c.type), "contact")

    def nameservers(self, domain_offset: int) -> None:
        s, h, table = S_NAMESERVER, _t(Host), _t(DomainNameserver)
        own = self.offset(table)
        objects = (
            select(
                _plus(s.c.id, own, "id"),
                _plus(s.c.domain_id, domain_offset, "domain_id"),
                s.c.position,
                h.c.id.label("host_id"),
                s.c.ldh_name,
                _column(s, "addresses"),
            )
            .select_from(s.join(h, h.c.ldh_name == s.c.ldh_name))
            .where(s.c.is_object.is_(True))
        )
        attrs = select(
            _plus(s.c.id, own, "id"),
            _plus(s.c.domain_id, domain_offset, "domain_id"),
            s.c.position,
            literal(None, Integer).label("host_id"),
            s.c.ldh_name,
            _column(s, "addresses"),
        ).where(s.c.is_object.is_(False))
        copied = _copy(self.conn, table, objects) + _copy(self.conn, table, attrs)
        if copied != self.st.count(s):
            self._child_problem(
                s,
                (h, h.c.ldh_name == s.c.ldh_name),
                and_(s.c.is_object.is_(True), h.c.id.is_(None)),
                "host",
            )
            self._duplicate_children(s, (s.c.domain_id, s.c.ldh_name), "name server")

    def _duplicate_children(self, stage: Table, key: tuple[Any, ...], what: str) -> None:
        d = S_DOMAIN
        row = self.first(
            select(d.c.line, d.c.ldh_name, key[1])
            .select_from(stage.join(d, d.c.id == stage.c.domain_id))
            .group_by(d.c.line, d.c.ldh_name, *key)
            .having(func.count() > 1)
            .order_by(d.c.line)
        )
        where = f"line {row.line}: <rdeDomain:domain> {row.ldh_name}: " if row else ""
        name = f" '{row[2]}'" if row else ""
        raise DepositError(f"{where}{what}{name} is listed twice")

    def nndn(self) -> None:
        s, pn, table = S_NNDN, S_PROTECTED, _t(NonDelegatedName)
        query = select(
            _plus(s.c.id, self.offset(table), "id"),
            *_cols(s, "ldh_name", "unicode_name"),
            literal(self.tld).label("tld"),
            *_cols(s, "idn_table", "original_name", "state"),
            pn.c.reason,
            s.c.created_at,
        ).select_from(s.outerjoin(pn, pn.c.ldh_name == s.c.ldh_name))
        self.duplicates(pn, "ldh_name", "rdapd:protectedName", "protected name")
        if _copy(self.conn, table, query) != self.st.count(s):
            self.duplicates(s, "ldh_name", "rdeNNDN:NNDN", "name")
            raise DepositError("non-delegated names could not be loaded")
        orphan = self.first(
            select(pn.c.line, pn.c.ldh_name)
            .select_from(pn.outerjoin(s, s.c.ldh_name == pn.c.ldh_name))
            .where(s.c.id.is_(None))
            .order_by(pn.c.line)
        )
        if orphan is not None:
            raise DepositError(
                f"line {orphan.line}: <rdapd:protectedName> {orphan.ldh_name}: name is not an "
                "<rdeNNDN:NNDN> of the deposit"
            )

    def idn_tables(self) -> None:
        s, table = S_IDN, _t(IdnTable)
        query = select(
            _plus(s.c.id, self.offset(table), "id"),
            literal(self.tld).label("tld"),
            *_cols(s, "table_id", "url", "url_policy"),
        )
        if _copy(self.conn, table, query) != self.st.count(s):
            self.duplicates(s, "table_id", "rdeIDN:idnTableRef", "IDN table id")
            raise DepositError("IDN tables could not be loaded")


# --- the import ------------------------------------------------------------------------------


def _check_header(header: p.Header | None, counts: dict[str, int], info: p.DepositInfo) -> None:
    if header is None:
        raise DepositError(f"line {info.line}: <rde:deposit>: missing <rdeHeader:header>")
    declared = {c.uri: c for c in header.counts}
    for c in header.counts:
        if c.uri in counts and counts[c.uri] != c.count:
            raise DepositError(
                f"line {c.line}: <rdeHeader:count> {c.uri}: header says {c.count}, "
                f"deposit has {counts[c.uri]}"
            )
    for uri, n in counts.items():
        if n and uri in OBJECT_NAMES and uri not in declared:
            raise DepositError(
                f"line {header.line}: <rdeHeader:header>: no <rdeHeader:count> for {uri}, "
                f"deposit has {n}"
            )


_COUNTED: Final[dict[type, str]] = {
    **p.OBJECT_URIS,
    p.ContactFacts: "contactFacts",
    p.RegistrarFacts: "registrarFacts",
    p.ProtectedName: "protectedName",
}


def _stage_record(buf: _RowBuffer, record: p.Record) -> None:
    if isinstance(record, p.DomainRecord):
        _stage_domain(buf, record)
    elif isinstance(record, p.ContactRecord):
        _stage_contact(buf, record)
    elif isinstance(record, p.HostRecord):
        _stage_host(buf, record)
    elif isinstance(record, p.ContactFacts):
        _stage_contact_facts(buf, record)
    elif isinstance(record, p.RegistrarRecord):
        _stage_registrar(buf, record)
    elif isinstance(record, p.RegistrarFacts):
        r = record
        buf.add(
            S_REGISTRAR_FACTS,
            (r.line, r.client_id, r.rdap_base_url, r.abuse_name, r.abuse_email, r.abuse_voice),
        )
    elif isinstance(record, p.NndnRecord):
        n = record
        buf.add(
            S_NNDN,
            (n.line, n.name, n.unicode_name, n.idn_table, n.original_name, n.state,
             buf.d(n.created)),
        )  # fmt: skip
    elif isinstance(record, p.ProtectedName):
        buf.add(S_PROTECTED, (record.line, record.name, record.reason))
    elif isinstance(record, p.IdnTableRecord):
        buf.add(S_IDN, (record.line, record.table_id, record.url, record.url_policy))
    else:  # DepositInfo, Header: the importer checks these itself
        buf.records.append(record)
        return
    counted = _COUNTED[type(record)]
    buf.counts[counted] = buf.counts.get(counted, 0) + 1


def _chunks(records: Iterable[p.Record], first: bool, *, sqlite: bool) -> Generator[_Chunk]:
    """Stage rows for runs of CHUNK_OBJECTS content objects, one chunk per run (parallel.Producer).

    Records before the content (DepositInfo) go with the first chunk, and only from the producer
    that owns the first run (`first`): every parallel worker reads them."""
    buf = _RowBuffer(sqlite)
    content = 0
    for record in records:
        if isinstance(record, p.DepositInfo):
            if first:
                buf.records.append(record)
            continue
        _stage_record(buf, record)
        content += 1
        if content == CHUNK_OBJECTS:
            yield buf.take()
            content = 0
    if content or buf.records:
        yield buf.take()


def _deposit_chunks(
    source: str | Path | IO[bytes], *, sqlite: bool, workers: int | None
) -> Generator[_Chunk]:
    """The deposit as chunks in document order: parsed here, or by worker processes when the
    deposit is a file large enough to pay for them and there is more than one CPU."""
    produce = functools.partial(_chunks, sqlite=sqlite)
    if isinstance(source, (str, Path)):
        if workers is None:
            big = Path(source).stat().st_size >= PARALLEL_MIN_BYTES
            workers = min(parallel.available_cpus(), MAX_WORKERS) if big else 1
        if workers > 1:
            return parallel.chunks(source, produce, workers=workers, size=CHUNK_OBJECTS)
    return produce(p.parse_deposit(source), True)


# Progress reports of an import: (phase, objects read so far).
ImportProgress = Callable[[str, int], None]


def _stage_all(
    st: _Stager,
    chunks: Iterable[_Chunk],
    identified: Callable[[p.DepositInfo, p.Header], None],
    progress: ImportProgress | None = None,
) -> tuple[p.DepositInfo, p.Header, dict[str, int]]:
    """Stage every chunk; `identified` is called as soon as the deposit's watermark and TLD
    are known (the header comes first in deposits we know, so before most of the staging)."""
    info: p.DepositInfo | None = None
    header: p.Header | None = None
    counts: dict[str, int] = dict.fromkeys(_COUNTED.values(), 0)
    checked = False
    for chunk in chunks:
        for record in chunk.records:
            if isinstance(record, p.Header):
                if header is not None:
                    raise DepositError(
                        f"line {record.line}: <rdeHeader:header>: second header (first at line "
                        f"{header.line})"
                    )
                header = record
            elif isinstance(record, p.DepositInfo):
                if record.deposit_type != "FULL":
                    raise DepositError(
                        f"line {record.line}: <rde:deposit>: type {record.deposit_type} cannot "
                        "be imported; only FULL deposits replace the registry content"
                    )
                info = record
        if not checked and info is not None and header is not None:
            identified(info, header)
            checked = True
        st.add_chunk(chunk)
        for kind, n in chunk.counts.items():
            counts[kind] += n
        if progress is not None:
            progress("read", sum(counts.values()))
    st.flush()
    if info is None:  # the parser raises first; kept for type narrowing
        raise DepositError("line 1: <rde:deposit>: missing <rde:watermark>")
    _check_header(header, counts, info)
    assert header is not None
    if not checked:
        identified(info, header)
    return info, header, {OBJECT_NAMES.get(kind, kind): n for kind, n in counts.items()}


def _widen_sqlite_cache(conn: Connection) -> int | None:
    """SQLite: a fixed, larger page cache while the registry indexes are filled (2 MiB by default;
    the resolve-and-copy phase thrashes it). Returns the old setting, None on other backends."""
    if conn.dialect.name != "sqlite":
        return None
    previous = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
    conn.exec_driver_sql(f"PRAGMA cache_size={-IMPORT_CACHE_KIB}")
    conn.commit()
    return previous


def _check_tld(conn: Connection, tld: str) -> None:
    """Domains and non-delegated names must be names under the deposit's TLD."""
    s = S_DOMAIN
    row = conn.execute(
        select(s.c.line, s.c.ldh_name).where(s.c.tld != tld).order_by(s.c.line).limit(1)
    ).first()
    if row is not None:
        raise DepositError(
            f"line {row.line}: <rdeDomain:domain> {row.ldh_name}: not under the deposit's "
            f"TLD '{tld}'"
        )
    n = S_NNDN
    row = conn.execute(
        select(n.c.line, n.c.ldh_name)
        .where(~n.c.ldh_name.endswith(f".{tld}", autoescape=True))
        .order_by(n.c.line)
        .limit(1)
    ).first()
    if row is not None:
        raise DepositError(
            f"line {row.line}: <rdeNNDN:NNDN> {row.ldh_name}: not under the deposit's TLD '{tld}'"
        )


class StaleDeposit(DepositError):
    """The deposit's watermark is older than that of the deposit loaded for its TLD."""


def _check_watermark(conn: Connection, info: p.DepositInfo, tld: str, *, force: bool) -> None:
    """A deposit older than the one loaded for its TLD would turn the registry back in time:
    refused unless forced. One of the same watermark (a resend, RFC 8909 `resend`) loads."""
    d = _t(Deposit)
    loaded = conn.execute(
        select(d.c.deposit_id, d.c.watermark)
        .where(d.c.tld == tld)
        .order_by(d.c.imported_at.desc(), d.c.id.desc())
        .limit(1)
    ).first()
    if loaded is not None and info.watermark < loaded.watermark and not force:
        raise StaleDeposit(
            f"line {info.line}: <rde:deposit>: watermark {info.watermark.isoformat()} is older "
            f"than {loaded.watermark.isoformat()}, the watermark of deposit {loaded.deposit_id} "
            f"loaded for .{tld}"
        )


def _other_tlds(conn: Connection, tld: str) -> bool:
    """Does the registry hold data of a TLD other than `tld`?"""
    t, d = _t(Tld), _t(Domain)
    return (
        conn.execute(select(t.c.id).where(t.c.name != tld).limit(1)).first() is not None
        or conn.execute(select(d.c.id).where(d.c.tld != tld).limit(1)).first() is not None
    )


def _clear(conn: Connection, tld: str) -> None:
    """Delete what the TLD's previous deposit loaded: its domains, non-delegated names and IDN
    tables, its hold on registrars, contacts and hosts, and the contacts and hosts no deposit
    holds any longer (registrars are matched by client id later, see _Copier.registrars).
    When no other TLD is loaded, that is every row, deleted the quick way."""
    if not _other_tlds(conn, tld):
        for table in (*MEMBERSHIPS, *REGISTRY_TABLES):
            if table.name != "registrars":
                conn.execute(delete(table))
        return
    d, dc, c, h = _t(Domain), _t(DomainContact), _t(Contact), _t(Host)
    ids = select(d.c.id).where(d.c.tld == tld)
    for child in DOMAIN_CHILDREN:
        conn.execute(delete(child).where(child.c.domain_id.in_(ids)))
    conn.execute(delete(d).where(d.c.tld == tld))
    for table in (_t(IdnTable), _t(NonDelegatedName)):
        conn.execute(delete(table).where(table.c.tld == tld))
    conn.execute(delete(_t(Tld)).where(_t(Tld).c.name == tld))
    for membership in MEMBERSHIPS:
        conn.execute(delete(membership).where(membership.c.tld == tld))
    # Held by no deposit any longer; rows that other TLDs' domains still refer to stay (they
    # can only be there if loaded before memberships were recorded). NOT EXISTS, not NOT IN:
    # PostgreSQL plans it as an anti-join on the indexes.
    ct, ht, ns = _t(ContactTld), _t(HostTld), _t(DomainNameserver)
    unheld_contacts = select(c.c.id).where(
        ~select(ct.c.contact_id).where(ct.c.contact_id == c.c.id).exists(),
        ~select(d.c.id).where(d.c.registrant_id == c.c.id).exists(),
        ~select(dc.c.id).where(dc.c.contact_id == c.c.id).exists(),
    )
    unheld_hosts = select(h.c.id).where(
        ~select(ht.c.host_id).where(ht.c.host_id == h.c.id).exists(),
        ~select(ns.c.id).where(ns.c.host_id == h.c.id).exists(),
    )
    for table, column, objects in (
        (_t(PostalInfo), "contact_id", unheld_contacts),
        (_t(HostAddress), "host_id", unheld_hosts),
    ):
        conn.execute(delete(table).where(table.c[column].in_(objects)))
    conn.execute(delete(c).where(c.c.id.in_(unheld_contacts)))
    conn.execute(delete(h).where(h.c.id.in_(unheld_hosts)))


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: move each serial past the ids the loader assigned."""
    if conn.dialect.name != "postgresql":
        return
    for table in REGISTRY_TABLES:
        highest = select(func.max(table.c.id)).scalar_subquery()
        sequence = func.pg_get_serial_sequence(table.name, "id")
        conn.execute(select(func.setval(sequence, func.coalesce(highest, 0) + 1, false())))


def _drop_stage(conn: Connection) -> None:
    for table in reversed(_stage.sorted_tables):
        conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))


def import_deposit(
    db: Database,
    source: str | Path | IO[bytes],
    *,
    now: Callable[[], dt.datetime] | None = None,
    workers: int | None = None,
    force: bool = False,
    progress: ImportProgress | None = None,
) -> ImportResult:
    """Replace the data of the deposit's TLD with that FULL deposit, in one transaction; other
    TLDs' data stays as it is.

    Raises DepositError (message: line, element, problem) and leaves the database unchanged
    when the deposit is refused; StaleDeposit when its watermark is older than that of the
    deposit loaded for its TLD, unless `force`. `workers` parser processes share the parsing
    (default: one per CPU, up to MAX_WORKERS, for deposit files of PARALLEL_MIN_BYTES or more).
    `progress(phase, objects)` hears of each chunk read ("read") and the start of the copy
    into the registry tables ("copy").
    """
    started = time.perf_counter()
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    phases: dict[str, float] = {}
    with db.bulk_connection() as conn:
        cache_size = _widen_sqlite_cache(conn)
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":  # imports run one at a time
                    conn.execute(select(func.pg_advisory_xact_lock(IMPORT_LOCK)))
                _drop_stage(conn)
                _stage.create_all(conn)
                st = _Stager(conn)
                sqlite_backend = conn.dialect.name == "sqlite"
                # Closed as soon as staging ends, also on a refusal: parser processes stop then.
                with contextlib.closing(
                    _deposit_chunks(source, sqlite=sqlite_backend, workers=workers)
                ) as chunks:
                    info, header, counts = _stage_all(
                        st,
                        chunks,
                        lambda info, header: _check_watermark(conn, info, header.tld, force=force),
                        progress,
                    )
                phases["parse and stage"] = time.perf_counter() - started
                if progress is not None:
                    progress("copy", sum(counts.values()))
                _check_tld(conn, header.tld)
                for table, column in STAGE_INDEXES:
                    conn.execute(text(f"CREATE INDEX {table.name}_ix ON {table.name} ({column})"))
                _clear(conn, header.tld)
                copier = _Copier(conn, st, header.tld)
                copier.registrars()
                copier.contacts()
                copier.hosts()
                copier.domains()
                copier.idn_tables()
                copier.nndn()
                tld_id = copier.offset(_t(Tld)) + 1
                conn.execute(
                    insert(_t(Tld)),
                    [{"id": tld_id, "name": header.tld, "unicode_name": _unicode_tld(header.tld)}],
                )
                _reset_sequences(conn)
                conn.execute(
                    insert(_t(Deposit)),
                    [
                        {
                            "deposit_id": info.deposit_id,
                            "deposit_type": info.deposit_type,
                            "watermark": info.watermark,
                            "tld": header.tld,
                            "imported_at": clock(),
                            "counts": counts,
                        }
                    ],
                )
                data_version.bump(conn, clock())  # answers kept by version become stale
                _drop_stage(conn)
                phases["resolve and copy"] = time.perf_counter() - started - sum(phases.values())
        finally:
            # Temporary tables may outlive a rolled-back transaction on SQLite; never leave them.
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                _drop_stage(conn)
            if cache_size is not None:
                conn.exec_driver_sql(f"PRAGMA cache_size={int(cache_size)}")
    return ImportResult(
        deposit_id=info.deposit_id,
        deposit_type=info.deposit_type,
        tld=header.tld,
        watermark=info.watermark,
        counts=counts,
        elapsed=time.perf_counter() - started,
        phases=phases,
    )


def _unicode_tld(tld: str) -> str | None:
    if not tld.startswith("xn--"):
        return None
    try:
        return str(idna.decode(tld))
    except (idna.IDNAError, UnicodeError):
        return None
