"""Repository: queries → read records; read-only, a fixed handful of indexed SELECTs per answer.

Lookups and searches share the batch loaders (`domains_by_ids`, ...), so a page of fifty
domains costs the same six queries as one domain. Statements are built once, at import, with
bind parameters: building a SELECT costs more than SQLite takes to answer it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Select,
    bindparam,
    func,
    literal,
    or_,
    select,
    union_all,
)

from rdap import models
from rdap.prepared import Prepared, PreparedBatch
from rdap.records import (
    ContactRecord,
    DelegationRecord,
    DomainRecord,
    DsRecord,
    HostRecord,
    KeyRecord,
    NameRecord,
    PostalRecord,
    RegistrarRecord,
)

D = models.Domain.__table__
R = models.Registrar.__table__
C = models.Contact.__table__
P = models.PostalInfo.__table__
DC = models.DomainContact.__table__
DN = models.DomainNameserver.__table__
H = models.Host.__table__
HA = models.HostAddress.__table__
DS = models.DsRecord.__table__
DK = models.DnsKey.__table__
NDN = models.NonDelegatedName.__table__

_REGISTRAR_COLUMNS = [
    c for c in R.c if c.name not in ("status", "whois_url", "created_at", "updated_at")
]
_CONTACT_COLUMNS = [
    c
    for c in C.c
    if c.name not in ("created_by", "updated_by", "disclose", "consent_at", "fn", "consent_name")
]
_POSTAL_COLUMNS = [
    P.c.type,
    P.c.name,
    P.c.org,
    P.c.street,
    P.c.city,
    P.c.state,
    P.c.postal_code,
    P.c.country,
]
_HOST_COLUMNS = [
    H.c.id,
    H.c.roid,
    H.c.ldh_name,
    H.c.unicode_name,
    H.c.registrar_id,
    H.c.statuses,
    H.c.created_at,
    H.c.updated_at,
    H.c.transferred_at,
]


_REGISTRAR_FIELDS = (
    "id", "client_id", "iana_id", "name", "street", "city", "state", "postal_code", "country",
    "voice", "voice_ext", "fax", "fax_ext", "email", "url", "whois_server", "rdap_base_url",
    "abuse_name", "abuse_email", "abuse_voice",
)  # fmt: skip
_REGISTRAR_KEYS: dict[str, tuple[tuple[str, str], ...]] = {}


def _registrar(m: Mapping[str, Any], prefix: str = "") -> RegistrarRecord:
    keys = _REGISTRAR_KEYS.get(prefix)
    if keys is None:
        keys = _REGISTRAR_KEYS[prefix] = tuple((f, prefix + f) for f in _REGISTRAR_FIELDS)
    values = {field: m[key] for field, key in keys}
    values["street"] = tuple(values["street"] or ())
    return RegistrarRecord(**values)


def _postal(m: Any) -> PostalRecord:
    return PostalRecord(
        type=m["type"],
        name=m["name"],
        org=m["org"],
        street=tuple(m["street"] or ()),
        city=m["city"],
        state=m["state"],
        postal_code=m["postal_code"],
        country=m["country"],
    )


def _contact(m: Any, postal: tuple[PostalRecord, ...]) -> ContactRecord:
    return ContactRecord(
        id=m["id"],
        handle=m["handle"],
        roid=m["roid"],
        registrar_id=m["registrar_id"],
        statuses=tuple(m["statuses"] or ()),
        voice=m["voice"],
        voice_ext=m["voice_ext"],
        fax=m["fax"],
        fax_ext=m["fax_ext"],
        email=m["email"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        transferred_at=m["transferred_at"],
        person_kind=m["person_kind"],
        publish_consent=frozenset(m["publish_consent"] or ()),
        verification_status=m["verification_status"],
        verified_at=m["verified_at"],
        verification_method=m["verification_method"],
        community_id=m["community_id"],
        eligibility_verified_at=m["eligibility_verified_at"],
        registrant_group=m["registrant_group"],
        postal=postal,
    )


def _host(m: Any, addresses: tuple[tuple[str, str], ...]) -> HostRecord:
    return HostRecord(
        id=m["id"],
        roid=m["roid"],
        ldh_name=m["ldh_name"],
        unicode_name=m["unicode_name"],
        registrar_id=m["registrar_id"],
        statuses=tuple(m["statuses"] or ()),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        transferred_at=m["transferred_at"],
        addresses=addresses,
    )


def _domain(
    row: Mapping[str, Any],
    registrar: RegistrarRecord,
    *,
    registrant: ContactRecord | None = None,
    contacts: tuple[tuple[str, ContactRecord], ...] = (),
    nameservers: tuple[DelegationRecord, ...] = (),
    ds_records: tuple[DsRecord, ...] = (),
    dns_keys: tuple[KeyRecord, ...] = (),
) -> DomainRecord:
    return DomainRecord(
        id=row["id"],
        roid=row["roid"],
        ldh_name=row["ldh_name"],
        unicode_name=row["unicode_name"],
        tld=row["tld"],
        statuses=tuple(row["statuses"] or ()),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        updated_at=row["updated_at"],
        transferred_at=row["transferred_at"],
        idn_table=row["idn_table"],
        original_name=row["original_name"],
        delegation_signed=bool(row["delegation_signed"]),
        max_sig_life=row["max_sig_life"],
        registrar=registrar,
        registrant=registrant,
        contacts=contacts,
        nameservers=nameservers,
        ds_records=ds_records,
        dns_keys=dns_keys,
    )


_REGISTRAR_LABELLED = [c.label(f"r_{c.name}") for c in _REGISTRAR_COLUMNS]
_POSTAL_LABELLED = [c.label(f"p_{c.name}") for c in _POSTAL_COLUMNS]
_POSTAL_KEYS = ("type", "name", "org", "street", "city", "state", "postal_code", "country")
_POSTAL_PREFIXED = tuple((k, f"p_{k}") for k in _POSTAL_KEYS)

_DOMAIN_SELECT = select(D, *_REGISTRAR_LABELLED).join(R, R.c.id == D.c.registrar_id)
DOMAIN_BY_NAME = Prepared(_DOMAIN_SELECT.where(D.c.ldh_name == bindparam("name")))
DOMAINS_BY_IDS = PreparedBatch(lambda ids: _DOMAIN_SELECT.where(D.c.id.in_(ids)))


# A domain's admin, tech and billing links, in link order; the registrant is on the domain row.
# Contacts are then read once each by id: one contact often fills several roles.
CONTACT_LINKS = PreparedBatch(
    lambda ids: (
        select(DC.c.domain_id, DC.c.type, DC.c.contact_id)
        .where(DC.c.domain_id.in_(ids))
        .order_by(DC.c.domain_id, DC.c.id)
    )
)


def _dnssec_of(ids: list[BindParameter[Any]]) -> Any:
    """DS and DNSKEY data in one round trip: kind, three integers, one text, order."""
    return union_all(
        select(
            DS.c.domain_id,
            literal("ds").label("kind"),
            DS.c.key_tag.label("n1"),
            DS.c.algorithm.label("n2"),
            DS.c.digest_type.label("n3"),
            DS.c.digest.label("txt"),
            DS.c.id.label("ord"),
        ).where(DS.c.domain_id.in_(ids)),
        select(
            DK.c.domain_id,
            literal("key").label("kind"),
            DK.c.flags,
            DK.c.protocol,
            DK.c.algorithm,
            DK.c.public_key,
            DK.c.id,
        ).where(DK.c.domain_id.in_(ids)),
    ).order_by("domain_id", "kind", "ord")


DNSSEC_OF_DOMAINS = PreparedBatch(_dnssec_of)


# A domain's delegations in order; host objects are then read once each by id: a registrar's
# name servers serve many domains of a page.
DELEGATIONS_OF_DOMAINS = PreparedBatch(
    lambda ids: (
        select(DN.c.domain_id, DN.c.ldh_name, DN.c.addresses, DN.c.host_id)
        .where(DN.c.domain_id.in_(ids))
        .order_by(DN.c.domain_id, DN.c.position, DN.c.id)
    )
)

_CONTACT_SELECT = (
    select(*_CONTACT_COLUMNS, *_POSTAL_LABELLED)
    .select_from(C)
    .outerjoin(P, P.c.contact_id == C.c.id)
)
CONTACT_BY_HANDLE = Prepared(
    _CONTACT_SELECT.where(C.c.handle == bindparam("handle")).order_by(P.c.type)
)
CONTACTS_BY_IDS = PreparedBatch(
    lambda ids: _CONTACT_SELECT.where(C.c.id.in_(ids)).order_by(C.c.id, P.c.type)
)

_HOST_SELECT = (
    select(*_HOST_COLUMNS, HA.c.version, HA.c.address)
    .select_from(H)
    .outerjoin(HA, HA.c.host_id == H.c.id)
)
HOST_BY_NAME = Prepared(_HOST_SELECT.where(H.c.ldh_name == bindparam("name")).order_by(HA.c.id))
HOSTS_BY_IDS = PreparedBatch(
    lambda ids: _HOST_SELECT.where(H.c.id.in_(ids)).order_by(H.c.id, HA.c.id)
)
REGISTRAR_BY_ID = Prepared(select(*_REGISTRAR_COLUMNS).where(R.c.id == bindparam("id")))
REGISTRAR_BY_IANA_ID = Prepared(
    select(*_REGISTRAR_COLUMNS).where(R.c.iana_id == bindparam("iana_id")).order_by(R.c.id).limit(1)
)
# Registrars by name (port 43): ASCII case folded; a registry has a few hundred registrars, so
# no index. Names are not unique: the oldest registrar of a name answers.
REGISTRAR_BY_NAME = Prepared(
    select(*_REGISTRAR_COLUMNS)
    .where(func.lower(R.c.name) == func.lower(bindparam("name")))
    .order_by(R.c.id)
    .limit(1)
)
REGISTRY_FACTS = Prepared(
    select(
        select(func.max(models.DataVersion.version)).scalar_subquery().label("version"),
        select(func.max(models.Deposit.imported_at)).scalar_subquery().label("updated_at"),
    )
)
_ROOT: BindParameter[Any] = bindparam("root")
VARIANTS_REGISTERED = Prepared(
    select(D.c.ldh_name, D.c.unicode_name, D.c.idn_table)
    .where(or_(D.c.original_name == _ROOT, D.c.ldh_name == _ROOT))
    .where(D.c.id != bindparam("id"))
    .order_by(D.c.ldh_name)
)
VARIANTS_BLOCKED = Prepared(
    select(NDN.c.ldh_name, NDN.c.unicode_name, NDN.c.idn_table, NDN.c.state)
    .where(NDN.c.original_name == _ROOT)
    .order_by(NDN.c.ldh_name)
)


@dataclasses.dataclass(frozen=True)
class RegistryFacts:
    """Registry-wide facts read together, so an answer's version and its stamp agree."""

    version: int  # bumped by every write that changes an answer (rdap.data_version)
    updated_at: dt.datetime | None  # when the newest deposit was imported


def read_registry_facts(connection: Connection) -> RegistryFacts:
    (row,) = REGISTRY_FACTS.rows(connection)
    return RegistryFacts(version=int(row["version"] or 0), updated_at=row["updated_at"])


class FactsCache:
    """Registry facts, read at most once per `ttl` seconds per process (0: on every call).

    The bound this sets: a write (a new deposit) reaches every answer of a process at most
    `ttl` seconds after its commit; the first request after that reads the new version, and
    answers kept under the old one are never served again."""

    def __init__(self, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()  # threaded servers (the dev server) share one cache
        self._read: tuple[float, RegistryFacts] | None = None

    def current(self, load: Callable[[], RegistryFacts]) -> RegistryFacts:
        now = self.clock()
        with self._lock:
            cached = self._read
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        value = load()
        with self._lock:
            self._read = (now, value)
        return value


def _group_contacts(rows: Sequence[Mapping[str, Any]]) -> dict[int, ContactRecord]:
    """Rows of contact ⟕ postal info (grouped by contact, in order) → records by contact id."""
    grouped: dict[int, tuple[Any, list[PostalRecord]]] = {}
    for m in rows:
        entry = grouped.get(m["id"])
        if entry is None:
            entry = grouped[m["id"]] = (m, [])
        if m["p_type"] is not None:
            entry[1].append(_postal({k: m[p] for k, p in _POSTAL_PREFIXED}))
    return {key: _contact(m, tuple(postal)) for key, (m, postal) in grouped.items()}


def _group_hosts(rows: Sequence[Mapping[str, Any]]) -> list[HostRecord]:
    grouped: dict[int, tuple[Any, list[tuple[str, str]]]] = {}
    for row in rows:
        entry = grouped.setdefault(row["id"], (row, []))
        if row["address"] is not None:
            entry[1].append((row["version"], row["address"]))
    return [_host(m, tuple(addresses)) for m, addresses in grouped.values()]


def _delegations(
    rows: list[dict[str, Any]], hosts: Mapping[int, HostRecord]
) -> dict[int, tuple[DelegationRecord, ...]]:
    """Delegation rows (in order) → each domain's name servers: host objects, or host attributes
    with their inline addresses."""
    grouped: dict[int, list[DelegationRecord]] = defaultdict(list)
    for row in rows:
        host = hosts.get(row["host_id"]) if row["host_id"] is not None else None
        if host is not None:
            delegation = DelegationRecord(row["ldh_name"], host, host.addresses)
        else:
            inline = tuple((a["version"], a["address"]) for a in row["addresses"] or ())
            delegation = DelegationRecord(row["ldh_name"], None, inline)
        grouped[row["domain_id"]].append(delegation)
    return {domain_id: tuple(found) for domain_id, found in grouped.items()}


class Repository:
    """Read access for the lookup pipeline. Never writes, never commits."""

    def __init__(
        self, connection: Connection, facts: FactsCache | RegistryFacts | None = None
    ) -> None:
        """`facts`: the process's cache of registry facts, or facts already read on this
        connection (so the stamp an answer carries belongs to the data it shows)."""
        self.connection = connection
        self.facts = facts

    @property
    def dialect(self) -> str:
        """The database's dialect name ("sqlite", "postgresql"), for SQL that differs."""
        return self.connection.dialect.name

    # --- domains ------------------------------------------------------------------------------
    def domain(self, ldh_name: str) -> DomainRecord | None:
        found = self._domains(DOMAIN_BY_NAME.rows(self.connection, name=ldh_name))
        if not found:
            return None
        record = found[0]
        if record.idn_table or record.original_name:
            record = dataclasses.replace(record, variants=self.variants_of(record))
        return record

    def domains_by_ids(self, ids: Sequence[int], *, related: bool = True) -> list[DomainRecord]:
        """Records for these ids, in the order given (missing ids are skipped).

        related=False reads the domain and registrar rows only: no contacts, name servers or
        DNSSEC data, for answers that show none of them (RFC 8982 "id" and "brief"). Such
        records are incomplete and must not be rendered in full."""
        if not ids:
            return []
        rows = DOMAINS_BY_IDS.rows(self.connection, ids)
        by_id = {r.id: r for r in self._domains(rows, related=related)}
        return [by_id[i] for i in ids if i in by_id]

    def _domains(self, rows: list[dict[str, Any]], *, related: bool = True) -> list[DomainRecord]:
        # Records shared by several domains (registrars, contacts) are built once per call.
        registrars: dict[int, RegistrarRecord] = {}
        for row in rows:
            if row["registrar_id"] not in registrars:
                registrars[row["registrar_id"]] = _registrar(row, "r_")
        if not rows or not related:
            return [_domain(row, registrars[row["registrar_id"]]) for row in rows]
        ids = [row["id"] for row in rows]
        links = CONTACT_LINKS.rows(self.connection, ids)
        wanted = {row["registrant_id"] for row in rows if row["registrant_id"] is not None}
        wanted.update(link["contact_id"] for link in links)
        contacts = (
            _group_contacts(CONTACTS_BY_IDS.rows(self.connection, sorted(wanted))) if wanted else {}
        )
        contacts_of: dict[int, list[tuple[str, ContactRecord]]] = defaultdict(list)
        for link in links:
            contact = contacts.get(link["contact_id"])
            if contact is not None:
                contacts_of[link["domain_id"]].append((link["type"], contact))
        delegation_rows = DELEGATIONS_OF_DOMAINS.rows(self.connection, ids)
        host_ids = {r["host_id"] for r in delegation_rows if r["host_id"] is not None}
        hosts = {h.id: h for h in self.hosts_by_ids(sorted(host_ids))}
        delegations = _delegations(delegation_rows, hosts)
        ds_of: dict[int, list[DsRecord]] = defaultdict(list)
        keys_of: dict[int, list[KeyRecord]] = defaultdict(list)
        for r in DNSSEC_OF_DOMAINS.rows(self.connection, ids):
            if r["kind"] == "ds":
                ds_of[r["domain_id"]].append(DsRecord(r["n1"], r["n2"], r["n3"], r["txt"]))
            else:
                keys_of[r["domain_id"]].append(KeyRecord(r["n1"], r["n2"], r["n3"], r["txt"]))
        return [
            _domain(
                row,
                registrars[row["registrar_id"]],
                registrant=contacts.get(row["registrant_id"]),
                contacts=tuple(contacts_of.get(row["id"], ())),
                nameservers=delegations.get(row["id"], ()),
                ds_records=tuple(ds_of.get(row["id"], ())),
                dns_keys=tuple(keys_of.get(row["id"], ())),
            )
            for row in rows
        ]

    def variants_of(self, domain: DomainRecord) -> tuple[NameRecord, ...]:
        """Other names in the same IDN variant set: registered and non-delegated."""
        root = domain.original_name or domain.ldh_name
        registered = VARIANTS_REGISTERED.rows(self.connection, root=root, id=domain.id)
        blocked = VARIANTS_BLOCKED.rows(self.connection, root=root)
        return tuple(
            [NameRecord(r["ldh_name"], r["unicode_name"], r["idn_table"], None) for r in registered]
            + [
                NameRecord(r["ldh_name"], r["unicode_name"], r["idn_table"], r["state"])
                for r in blocked
            ]
        )

    # --- contacts, hosts, registrars ----------------------------------------------------------
    def contact(self, handle: str) -> ContactRecord | None:
        found = _group_contacts(CONTACT_BY_HANDLE.rows(self.connection, handle=handle))
        return next(iter(found.values()), None)

    def nameserver(self, ldh_name: str) -> HostRecord | None:
        found = _group_hosts(HOST_BY_NAME.rows(self.connection, name=ldh_name))
        return found[0] if found else None

    def hosts_by_ids(self, ids: Sequence[int]) -> list[HostRecord]:
        if not ids:
            return []
        return _group_hosts(HOSTS_BY_IDS.rows(self.connection, ids))

    def registrar(self, registrar_id: int) -> RegistrarRecord | None:
        rows = REGISTRAR_BY_ID.rows(self.connection, id=registrar_id)
        return _registrar(rows[0]) if rows else None

    def registrar_by_iana_id(self, iana_id: int) -> RegistrarRecord | None:
        rows = REGISTRAR_BY_IANA_ID.rows(self.connection, iana_id=iana_id)
        return _registrar(rows[0]) if rows else None

    def registrar_by_name(self, name: str) -> RegistrarRecord | None:
        rows = REGISTRAR_BY_NAME.rows(self.connection, name=name)
        return _registrar(rows[0]) if rows else None

    def contact_domains(self, contact_id: int) -> list[str]:
        """Names of domains that reference a contact (for grant scope on entity lookups)."""
        as_registrant = select(D.c.ldh_name).where(D.c.registrant_id == contact_id)
        as_contact = (
            select(D.c.ldh_name)
            .join(DC, DC.c.domain_id == D.c.id)
            .where(DC.c.contact_id == contact_id)
        )
        return sorted(set(self.connection.scalars(as_registrant.union(as_contact)).all()))

    # --- registry facts -----------------------------------------------------------------------
    def facts_now(self) -> RegistryFacts:
        """Data version and database stamp: as given, through the process's cache, or read."""
        if isinstance(self.facts, RegistryFacts):
            return self.facts

        def load() -> RegistryFacts:
            return read_registry_facts(self.connection)

        return self.facts.current(load) if self.facts else load()

    def database_updated_at(self) -> dt.datetime | None:
        return self.facts_now().updated_at

    def execute(self, statement: Select[Any]) -> Sequence[Any]:
        """Run a read-only statement (search stages build their own keyset queries)."""
        return self.connection.execute(statement).all()
