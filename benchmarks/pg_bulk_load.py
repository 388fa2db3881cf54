"""Bulk load of a generated registry into PostgreSQL with COPY: the rows an import writes, fast.

`rdap.escrow.generator.generate_records` yields the records the parser would read from the
generated deposit (no XML written or parsed); this module turns them into the rows
`rdap.escrow.loader.import_deposit` writes (same ids, same values, search columns, TLD
memberships, the deposit row, a data version bump) and streams them into the registry tables
with COPY, one connection per table, while the generator runs. Indexes and constraints of the
registry tables are dropped before the load and recreated from their own definitions after it
(then ANALYZE), which is what makes a bulk load fast; the schema ends as the migrations made it.

`verify()` loads the same small registry both ways (the real import of the generated deposit
and this loader) into two databases and compares every registry table row by row, and the
indexes and constraints: the benchmark measures the registry an import would have written.

Benchmark only: it replaces the whole registry of a throwaway database (no other TLD, no
checks the importer makes on untrusted deposits).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import idna
import psycopg
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import insert

from rdap import data_version, migrate
from rdap.db import Database
from rdap.escrow import parser as p
from rdap.escrow.generator import generate_deposit, generate_records
from rdap.escrow.loader import OBJECT_NAMES, REGISTRY_TABLES, import_deposit
from rdap.models import Deposit
from rdap.visibility import consent_values

# Registry tables and the columns this loader fills, in COPY order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "registrars": ("id", "client_id", "iana_id", "name", "status", "street", "city", "state",
                   "postal_code", "country", "voice", "voice_ext", "fax", "fax_ext", "email",
                   "url", "whois_server", "whois_url", "rdap_base_url", "abuse_name",
                   "abuse_email", "abuse_voice", "created_at", "updated_at"),
    "registrar_tlds": ("registrar_id", "tld"),
    "contacts": ("id", "handle", "roid", "registrar_id", "created_by", "updated_by", "statuses",
                 "voice", "voice_ext", "fax", "fax_ext", "email", "created_at", "updated_at",
                 "transferred_at", "disclose", "person_kind", "publish_consent", "consent_at",
                 "verification_status", "verified_at", "verification_method", "community_id",
                 "eligibility_verified_at", "registrant_group", "fn", "consent_name"),
    "contact_postal_infos": ("id", "contact_id", "type", "name", "org", "street", "city",
                             "state", "postal_code", "country"),
    "contact_tlds": ("contact_id", "tld"),
    "hosts": ("id", "roid", "ldh_name", "unicode_name", "registrar_id", "created_by",
              "updated_by", "statuses", "created_at", "updated_at", "transferred_at"),
    "host_addresses": ("id", "host_id", "version", "address"),
    "host_tlds": ("host_id", "tld"),
    "domains": ("id", "roid", "ldh_name", "unicode_name", "tld", "registrar_id", "registrant_id",
                "created_by", "updated_by", "statuses", "created_at", "expires_at", "updated_at",
                "transferred_at", "idn_table", "original_name", "delegation_signed",
                "max_sig_life"),
    "domain_contacts": ("id", "domain_id", "contact_id", "type"),
    "domain_nameservers": ("id", "domain_id", "position", "host_id", "ldh_name", "addresses"),
    "ds_records": ("id", "domain_id", "key_tag", "algorithm", "digest_type", "digest"),
    "dns_keys": ("id", "domain_id", "flags", "protocol", "algorithm", "public_key"),
    "idn_tables": ("id", "tld", "table_id", "url", "url_policy"),
    "non_delegated_names": ("id", "ldh_name", "unicode_name", "tld", "idn_table",
                            "original_name", "state", "reason", "created_at"),
    "tlds": ("id", "name", "unicode_name"),
}  # fmt: skip

NAME_CONSENTS = frozenset(consent_values("name"))
COUNTED: dict[type, str] = {
    **p.OBJECT_URIS,
    p.ContactFacts: "contactFacts",
    p.RegistrarFacts: "registrarFacts",
    p.ProtectedName: "protectedName",
}


def dsn(url: str) -> str:
    """A libpq connection string from a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _street(address: p.Address | None) -> tuple[Any, ...]:
    if address is None:
        return ("[]", None, None, None, None)
    a = address
    return (_json(a.street), a.city, a.state, a.postal_code, a.country)


def _phone(phone: p.Phone | None) -> tuple[str | None, str | None]:
    return (phone.number, phone.ext) if phone else (None, None)


# --- indexes and constraints -----------------------------------------------------------------

_CONSTRAINTS = """
SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid), c.contype
FROM pg_constraint c
WHERE c.contype IN ('p', 'u', 'f')
  AND (c.conrelid = ANY(%(tables)s::regclass[]) OR c.confrelid = ANY(%(tables)s::regclass[]))
"""
_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY(%(tables)s::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
"""


def schema_definition(conn: psycopg.Connection[Any]) -> list[str]:
    """The registry tables' constraints and indexes as DDL, in the order they can be made:
    primary keys and unique constraints, indexes, then foreign keys."""
    tables = {"tables": list(COLUMNS)}
    constraints = conn.execute(_CONSTRAINTS, tables).fetchall()
    indexes = conn.execute(_INDEXES, tables).fetchall()
    keys = [
        f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}" for n, t, d, kind in constraints if kind != "f"
    ]
    foreign = [
        f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}" for n, t, d, kind in constraints if kind == "f"
    ]
    return sorted(keys) + sorted(d for _, d in indexes) + sorted(foreign)


def drop_schema_extras(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop the registry tables' constraints and indexes; return the DDL that recreates them."""
    tables = {"tables": list(COLUMNS)}
    constraints = conn.execute(_CONSTRAINTS, tables).fetchall()
    indexes = conn.execute(_INDEXES, tables).fetchall()
    recreate = schema_definition(conn)
    for name, table, _, _ in sorted(constraints, key=lambda c: c[3] != "f"):  # foreign first
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    return recreate


# --- rows ------------------------------------------------------------------------------------


class _Copies:
    """One COPY per table, each on its own connection, open while the records stream."""

    def __init__(self, url: str, stack: contextlib.ExitStack) -> None:
        self.url = url
        self.stack = stack
        self.copies: dict[str, psycopg.Copy] = {}
        self.rows: dict[str, int] = dict.fromkeys(COLUMNS, 0)

    def write(self, table: str, row: tuple[Any, ...]) -> None:
        copy = self.copies.get(table)
        if copy is None:
            conn = self.stack.enter_context(psycopg.connect(dsn(self.url)))
            cursor = self.stack.enter_context(conn.cursor())
            names = ", ".join(COLUMNS[table])
            manager = cursor.copy(
                f"COPY {table} ({names}) FROM STDIN", writer=QueuedLibpqWriter(cursor)
            )
            copy = self.copies[table] = self.stack.enter_context(manager)
        copy.write_row(row)
        self.rows[table] += 1


class _Rows:
    """Turns the generated records into registry rows, ids in arrival order as the import
    assigns them, and writes them."""

    def __init__(self, out: _Copies, tld: str) -> None:
        self.out = out
        self.tld = tld
        self.next_id: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self.registrar_ids: dict[str, int] = {}
        self.contact_ids: dict[str, int] = {}
        self.host_ids: dict[str, int] = {}
        self.registrars: list[p.RegistrarRecord] = []
        self.registrar_facts: dict[str, p.RegistrarFacts] = {}
        # Contacts waiting for their facts: (row without facts, fn).
        self.pending: dict[str, tuple[tuple[Any, ...], str | None]] = {}
        self.facts: dict[str, p.ContactFacts] = {}  # facts seen before their contact
        self.nndn: list[p.NndnRecord] = []
        self.reasons: dict[str, str | None] = {}
        self.counts: dict[str, int] = dict.fromkeys(COUNTED.values(), 0)
        self.info: p.DepositInfo | None = None

    def id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    def add(self, record: p.Record) -> None:
        kind = COUNTED.get(type(record))
        if kind is not None:
            self.counts[kind] += 1
        if isinstance(record, p.DomainRecord):
            self.domain(record)
        elif isinstance(record, p.ContactRecord):
            self.contact(record)
        elif isinstance(record, p.ContactFacts):
            self.contact_facts(record)
        elif isinstance(record, p.HostRecord):
            self.host(record)
        elif isinstance(record, p.RegistrarRecord):
            self.registrars.append(record)
            self.registrar_ids[record.client_id] = len(self.registrars)
        elif isinstance(record, p.RegistrarFacts):
            self.registrar_facts[record.client_id] = record
        elif isinstance(record, p.IdnTableRecord):
            row = (self.id("idn_tables"), self.tld, record.table_id, record.url, record.url_policy)
            self.out.write("idn_tables", row)
        elif isinstance(record, p.NndnRecord):
            self.nndn.append(record)
        elif isinstance(record, p.ProtectedName):
            self.reasons[record.name] = record.reason
        elif isinstance(record, p.DepositInfo):
            self.info = record

    def registrar(self, clid: str) -> int:
        return self.registrar_ids[clid]

    def contact(self, c: p.ContactRecord) -> None:
        contact_id = self.id("contacts")
        self.contact_ids[c.handle] = contact_id
        voice, voice_ext = _phone(c.voice)
        fax, fax_ext = _phone(c.fax)
        for info in c.postal_infos:
            self.out.write(
                "contact_postal_infos",
                (self.id("contact_postal_infos"), contact_id, info.type, info.name, info.org,
                 *_street(info.address)),
            )  # fmt: skip
        # The search column fn: the int postal name, else the other (rdap.search_columns).
        ints = [info for info in c.postal_infos if info.type == "int"]
        shown = ints or c.postal_infos
        preferred = shown[0].name if shown else None
        base = (
            contact_id, c.handle, c.roid, self.registrar(c.clid), c.created_by, c.updated_by,
            _json(c.statuses), voice, voice_ext, fax, fax_ext, c.email, c.created, c.updated,
            c.transferred, None if c.disclose is None else _json(c.disclose),
        )  # fmt: skip
        self.out.write("contact_tlds", (contact_id, self.tld))
        facts = self.facts.pop(c.handle, None)
        if facts is not None:
            self.write_contact(base, preferred, facts)
        else:
            self.pending[c.handle] = (base, preferred)

    def contact_facts(self, f: p.ContactFacts) -> None:
        waiting = self.pending.pop(f.handle, None)
        if waiting is None:
            self.facts[f.handle] = f
        else:
            self.write_contact(*waiting, f)

    def write_contact(
        self, base: tuple[Any, ...], preferred: str | None, f: p.ContactFacts | None
    ) -> None:
        if f is None:  # what the import gives a contact without facts
            facts: tuple[Any, ...] = ("natural", "[]", None, "unverified", *([None] * 5))
            consent: list[str] = []
        else:
            consent = sorted({c.element for c in f.consents})
            stamps = [c.at for c in f.consents if c.at is not None]
            facts = (
                f.person_kind, _json(consent), max(stamps) if stamps else None,
                f.verification_status, f.verified_at, f.verification_method, f.community_id,
                f.eligibility_verified_at, f.registrant_group,
            )  # fmt: skip
        named = not NAME_CONSENTS.isdisjoint(consent)
        self.out.write("contacts", (*base, *facts, preferred, named))

    def host(self, h: p.HostRecord) -> None:
        host_id = self.id("hosts")
        self.host_ids[h.name] = host_id
        self.out.write(
            "hosts",
            (host_id, h.roid, h.name, h.unicode_name, self.registrar(h.clid), h.created_by,
             h.updated_by, _json(h.statuses), h.created, h.updated, h.transferred),
        )  # fmt: skip
        for addr in h.addresses:
            self.out.write("host_addresses", (self.id("host_addresses"), host_id, addr.version,
                                              addr.address))  # fmt: skip
        self.out.write("host_tlds", (host_id, self.tld))

    def domain(self, d: p.DomainRecord) -> None:
        domain_id = self.id("domains")
        registrant = None if d.registrant is None else self.contact_ids[d.registrant]
        write = self.out.write
        write(
            "domains",
            (domain_id, d.roid, d.name, d.unicode_name, d.tld, self.registrar(d.clid), registrant,
             d.created_by, d.updated_by, _json(d.statuses), d.created, d.expires, d.updated,
             d.transferred, d.idn_table, d.original_name, bool(d.ds_data or d.key_data),
             d.max_sig_life),
        )  # fmt: skip
        for kind, handle in d.contacts:
            write("domain_contacts", (self.id("domain_contacts"), domain_id,
                                      self.contact_ids[handle], kind))  # fmt: skip
        position = 0
        for name in d.host_objects:
            write("domain_nameservers", (self.id("domain_nameservers"), domain_id, position,
                                         self.host_ids[name], name, "[]"))  # fmt: skip
            position += 1
        for attr in d.host_attrs:
            addresses = [{"version": a.version, "address": a.address} for a in attr.addresses]
            write("domain_nameservers", (self.id("domain_nameservers"), domain_id, position,
                                         None, attr.name, _json(addresses)))  # fmt: skip
            position += 1
        for ds in d.ds_data:
            write("ds_records", (self.id("ds_records"), domain_id, ds.key_tag, ds.algorithm,
                                 ds.digest_type, ds.digest))  # fmt: skip
        for key in d.key_data:
            write("dns_keys", (self.id("dns_keys"), domain_id, key.flags, key.protocol,
                               key.algorithm, key.public_key))  # fmt: skip

    def finish(self) -> None:
        """Rows that wait for later records: contacts without facts, registrars (their facts
        follow them), non-delegated names (their reasons follow them), the TLD."""
        for base, preferred in self.pending.values():
            self.write_contact(base, preferred, None)
        for n, r in enumerate(self.registrars, start=1):
            f = self.registrar_facts.get(r.client_id)
            voice, voice_ext = _phone(r.voice)
            fax, fax_ext = _phone(r.fax)
            self.out.write(
                "registrars",
                (n, r.client_id, r.gurid, r.name, r.status, *_street(r.address), voice,
                 voice_ext, fax, fax_ext, r.email, r.url, r.whois_server, r.whois_url,
                 *((f.rdap_base_url, f.abuse_name, f.abuse_email, f.abuse_voice) if f else
                   (None,) * 4),
                 r.created, r.updated),
            )  # fmt: skip
            self.out.write("registrar_tlds", (n, self.tld))
        for name in self.nndn:
            self.out.write(
                "non_delegated_names",
                (self.id("non_delegated_names"), name.name, name.unicode_name, self.tld,
                 name.idn_table, name.original_name, name.state, self.reasons.get(name.name),
                 name.created),
            )  # fmt: skip
        unicode_tld = str(idna.decode(self.tld)) if self.tld.startswith("xn--") else None
        self.out.write("tlds", (1, self.tld, unicode_tld))


# --- the load --------------------------------------------------------------------------------


def reset_schema(url: str) -> None:
    """An empty database at the migrations' head."""
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    migrate.upgrade(url)


def bulk_load(
    url: str,
    *,
    size: int,
    seed: int,
    tld: str = "post",
    progress: Callable[[str], None] | None = None,
    stop_after: float | None = None,
) -> dict[str, Any]:
    """Replace the database's content with the generated registry of (tld, size, seed).
    Returns seconds per phase, rows per table and the database's size on disk. With
    `stop_after` (seconds), generation stops there and the partial load is reported as such
    (`complete` false): the measure of how far a load gets, not a registry to serve."""
    say = progress or (lambda _: None)
    phases: dict[str, float] = {}
    started = time.perf_counter()
    reset_schema(url)
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        recreate = drop_schema_extras(conn)
    phases["schema"] = time.perf_counter() - started

    mark = time.perf_counter()
    complete = True
    last_report = mark
    with contextlib.ExitStack() as stack:
        rows = _Rows(_Copies(url, stack), tld)
        for record in generate_records(tld=tld, size=size, seed=seed):
            rows.add(record)
            if isinstance(record, p.DomainRecord) and rows.next_id["domains"] % 10_000 == 0:
                now = time.perf_counter()
                if now - last_report >= 30:
                    last_report = now
                    done = rows.next_id["domains"]
                    say(f"  {done} domains in {now - mark:.0f} s ({done / (now - mark):.0f}/s)")
                if stop_after is not None and now - mark >= stop_after:
                    complete = False
                    break
        rows.finish()
        copied = dict(rows.out.rows)
    phases["generate and copy"] = time.perf_counter() - mark
    domains_copied = copied["domains"]
    say(f"  copied {domains_copied} domains in {phases['generate and copy']:.0f} s")

    mark = time.perf_counter()
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        for ddl in recreate:
            conn.execute(ddl)
    phases["indexes and constraints"] = time.perf_counter() - mark

    mark = time.perf_counter()
    db = Database(url)
    with db.engine.begin() as sa:
        for table in REGISTRY_TABLES:
            sa.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                f" coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
            )
        assert rows.info is not None
        counts = {OBJECT_NAMES.get(kind, kind): n for kind, n in rows.counts.items()}
        sa.execute(
            insert(Deposit),
            [
                {
                    "deposit_id": rows.info.deposit_id,
                    "deposit_type": rows.info.deposit_type,
                    "watermark": rows.info.watermark,
                    "tld": tld,
                    "imported_at": dt.datetime.now(dt.UTC),
                    "counts": counts,
                }
            ],
        )
        data_version.bump(sa, dt.datetime.now(dt.UTC))
    db.dispose()
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        assert row is not None
        disk = int(row[0])
    phases["vacuum analyze"] = time.perf_counter() - mark
    return {
        "domains": domains_copied,
        "complete": complete,
        "seconds": round(time.perf_counter() - started, 1),
        "phases": {k: round(v, 1) for k, v in phases.items()},
        "rows": copied,
        "disk_bytes": disk,
    }


# --- the equivalence check -------------------------------------------------------------------


def _table_rows(url: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn(url)) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()


def verify(url_import: str, url_bulk: str, *, size: int, seed: int) -> list[str]:
    """Load the generated registry of `size` domains with the real import (into `url_import`)
    and with `bulk_load` (into `url_bulk`); return the differences found (none: identical)."""
    with tempfile.TemporaryDirectory() as tmp:
        deposit = Path(tmp) / "deposit.xml"
        generate_deposit(deposit, size=size, seed=seed)
        reset_schema(url_import)
        db = Database(url_import)
        import_deposit(db, deposit)
        db.dispose()
    bulk_load(url_bulk, size=size, seed=seed)
    problems = []
    for table in (*COLUMNS, "deposits"):
        a, b = _table_rows(url_import, table), _table_rows(url_bulk, table)
        if table == "deposits":  # the import's own clock and row id
            a = [r[1:5] + r[6:] for r in a]
            b = [r[1:5] + r[6:] for r in b]
        if a != b:
            diff = next((x, y) for x, y in itertools.zip_longest(a, b) if x != y)
            problems.append(f"{table}: {len(a)} rows by import, {len(b)} by COPY; first: {diff}")
    for url in (url_import, url_bulk):
        with psycopg.connect(dsn(url)) as conn:
            schema = schema_definition(conn)
        if url == url_import:
            expected = schema
        elif schema != expected:
            problems.append(f"schema: {sorted(set(expected) ^ set(schema))}")
    return problems
