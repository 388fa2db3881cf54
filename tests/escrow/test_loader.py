"""The loader: a FULL deposit replaces the registry in one transaction; refusals change nothing."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from rdap.db import Database
from rdap.errors import DepositError
from rdap.escrow import loader
from rdap.escrow.generator import generate_deposit
from rdap.escrow.loader import import_deposit
from rdap.models import (
    Contact,
    Deposit,
    Domain,
    DomainNameserver,
    DsRecord,
    Host,
    IdnTable,
    NonDelegatedName,
    OAuthClient,
    Registrar,
    Tld,
)
from tests.escrow.conftest import DATA, dump

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def load(db: Database, source: object) -> object:
    return import_deposit(db, source, now=lambda: NOW)  # type: ignore[arg-type]


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    path = tmp_path / "deposit.xml"
    generate_deposit(path, size=120, seed=3)
    return path


def test_someone_elses_rfc9022_deposit_loads(db: Database) -> None:
    result = load(db, DATA / "rfc9022-example.xml")
    assert result.counts == {  # type: ignore[attr-defined]
        "domain": 3, "host": 2, "contact": 2, "registrar": 1, "idnTableRef": 1, "NNDN": 1,
        "contactFacts": 0, "registrarFacts": 0, "protectedName": 0,
    }  # fmt: skip
    with db.read_scope() as session:
        domain = session.scalars(select(Domain).where(Domain.ldh_name == "example1.example")).one()
        assert domain.registrar.client_id == "RegistrarX"
        assert domain.registrant is not None
        assert domain.registrant.handle == "jd1234"
        assert [(c.type, c.contact.handle) for c in domain.contacts] == [
            ("admin", "sh8013"), ("tech", "sh8013"),
        ]  # fmt: skip
        assert [(ns.ldh_name, ns.host is not None) for ns in domain.nameservers] == [
            ("ns1.example.com", True), ("ns1.example1.example", True),
        ]  # fmt: skip
        assert domain.created_at == dt.datetime(1999, 4, 3, 22, tzinfo=dt.UTC)
        signed = session.scalars(select(Domain).where(Domain.ldh_name == "example2.example")).one()
        assert signed.delegation_signed
        assert signed.max_sig_life == 604800
        assert [(d.key_tag, d.digest) for d in signed.ds_records] == [
            (12345, "49FD46E6C4B45C55D4AC")
        ]
        idn = session.scalars(select(Domain).where(Domain.idn_table == "LATN")).one()
        assert (idn.unicode_name, idn.registrant_id) == ("examplé.example", None)
        assert idn.statuses == ["pendingDelete", "redemptionPeriod"]
        # No rdapd extension: every contact takes the safe defaults.
        contact = session.scalars(select(Contact).where(Contact.handle == "sh8013")).one()
        assert (contact.person_kind, contact.publish_consent, contact.verification_status) == (
            "natural", [], "unverified",
        )  # fmt: skip
        assert contact.disclose == {"flag": False, "elements": ["voice", "email"]}
        assert (contact.voice, contact.voice_ext) == ("+1.7035555555", "1234")
        assert contact.postal_infos[0].street == ["123 Example Dr.", "Suite 100"]
        host = session.scalars(select(Host).where(Host.ldh_name == "ns1.example1.example")).one()
        assert [a.address for a in host.addresses] == [
            "192.0.2.2",
            "192.0.2.29",
            "1080::8:800:200c:417a",
        ]
        registrar = session.scalars(select(Registrar)).one()
        assert (registrar.iana_id, registrar.whois_server, registrar.rdap_base_url) == (
            8, "whois.example.test", None,
        )  # fmt: skip
        assert session.scalars(select(Tld.name)).all() == ["example"]
        assert session.scalars(select(IdnTable.table_id)).all() == ["LATN"]
        nndn = session.scalars(select(NonDelegatedName)).one()
        assert (nndn.state, nndn.reason) == ("blocked", None)
        deposit = session.scalars(select(Deposit)).one()
        assert (deposit.deposit_id, deposit.deposit_type, deposit.tld) == (
            "20191017001",
            "FULL",
            "example",
        )
        assert deposit.imported_at == NOW
        assert deposit.watermark == dt.datetime(2019, 10, 17, tzinfo=dt.UTC)


def test_extension_facts_reach_the_registry(db: Database, generated: Path) -> None:
    load(db, generated)
    with db.read_scope() as session:
        kinds = set(session.scalars(select(Contact.person_kind)))
        assert kinds == {"natural", "legal"}
        legal = session.scalars(
            select(Contact).where(Contact.person_kind == "legal").limit(1)
        ).one()
        assert legal.community_id is not None
        assert legal.community_id.startswith("POST-")
        assert legal.eligibility_verified_at is not None
        states = set(session.scalars(select(Contact.verification_status)))
        assert "verified" in states
        assert len(states) > 1
        registrar = session.scalars(select(Registrar).where(Registrar.client_id == "postreg")).one()
        assert registrar.rdap_base_url == "https://rdap.postreg.example/"
        assert registrar.abuse_email == "abuse@postreg.example"
        rows = session.execute(select(NonDelegatedName.ldh_name, NonDelegatedName.reason)).all()
        reasons = dict(rows)
        assert reasons["upu.post"] == "reserved for the Universal Postal Union"
        for domain in session.scalars(select(Domain)).all():
            # DNSSEC on every delegation; only inactive names have no name servers.
            assert domain.delegation_signed == bool(domain.nameservers)
            assert bool(domain.nameservers) != ("inactive" in domain.statuses)


def test_full_deposit_replaces_everything(db: Database, generated: Path) -> None:
    load(db, DATA / "rfc9022-example.xml")
    load(db, generated)
    with db.read_scope() as session:
        assert session.scalars(select(Domain).where(Domain.tld == "example")).first() is None
        assert session.scalars(select(Tld.name)).all() == ["post"]
        assert len(session.scalars(select(Deposit)).all()) == 2  # import history is kept
    load(db, DATA / "small-valid.xml")
    with db.read_scope() as session:
        assert session.scalars(select(Domain.ldh_name)).all() == ["example.post"]


def test_reimport_keeps_registrars_and_their_oauth_clients_bound(
    db: Database, generated: Path
) -> None:
    from rdap.oauth import service

    load(db, generated)
    with db.session_scope() as session:
        before = dict(session.execute(select(Registrar.client_id, Registrar.id)).all())
        client, _ = service.create_client(
            session,
            role="registrar",
            name="postreg",
            registrar_iana_id=session.scalars(
                select(Registrar.iana_id).where(Registrar.client_id == "postreg")
            ).one(),
            purposes=(),
            now=NOW,
        )
        client_id = client.client_id
    load(db, generated)
    with db.read_scope() as session:
        after = dict(session.execute(select(Registrar.client_id, Registrar.id)).all())
        bound = session.scalars(
            select(OAuthClient.registrar_id).where(OAuthClient.client_id == client_id)
        ).one()
    assert after == before
    assert bound == before["postreg"]
    load(db, DATA / "small-valid.xml")  # a deposit without that registrar unbinds its clients
    with db.read_scope() as session:
        assert (
            session.scalars(
                select(OAuthClient.registrar_id).where(OAuthClient.client_id == client_id)
            ).one()
            is None
        ) == ("postreg" not in set(session.scalars(select(Registrar.client_id))))


@pytest.mark.postgres_only
def test_sequences_follow_assigned_ids(db: Database) -> None:
    load(db, DATA / "rfc9022-example.xml")
    with db.session_scope() as session:
        session.add(Tld(name="extra"))
    with db.read_scope() as session:
        assert session.scalars(select(Tld.id).where(Tld.name == "extra")).one() == 2


REFUSED = [
    ("wrong-counts.xml",
     r"^line 19: <rdeHeader:count> urn:ietf:params:xml:ns:rdeDomain-1.0: "
     r"header says 5, deposit has 1$"),
    ("unknown-registrar.xml",
     r"^line 62: <rdeDomain:domain> example.post: registrar 'reg-x' is not in the deposit$"),
    ("unknown-contact.xml",
     r"^line 62: <rdeDomain:domain> example.post: registrant 'C9' is not in the deposit$"),
    ("unknown-host.xml",
     r"^line 62: <rdeDomain:domain> example.post: host 'ns9.example.net' is not in the deposit$"),
    ("xxe.xml", r"^line \d+: <rde:deposit>: a DOCTYPE"),
    ("billion-laughs.xml", r"^line \d+: <rde:deposit>: a DOCTYPE"),
    ("truncated.xml", r"^line \d+: malformed XML: "),
    ("malformed.xml", r"^line 49: malformed XML: "),
]  # fmt: skip


@pytest.mark.parametrize(("name", "message"), REFUSED)
def test_refused_deposit_leaves_database_unchanged(
    db: Database, generated: Path, name: str, message: str
) -> None:
    load(db, generated)
    before = dump(db)
    with pytest.raises(DepositError, match=message):
        load(db, DATA / name)
    assert dump(db) == before
    load(db, DATA / "small-valid.xml")  # and the database still takes a good deposit


def _variant(tmp_path: Path, old: str, new: str, source: str = "small-valid.xml") -> Path:
    path = tmp_path / "variant.xml"
    path.write_text(
        (DATA / source).read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('<rdeDomain:contact type="admin">C1<', '<rdeDomain:contact type="admin">C7<',
         r"^line 62: <rdeDomain:domain> example.post: "
         r"contact 'C7' \(admin\) is not in the deposit$"),
        ("<rdeContact:clID>reg-a<", "<rdeContact:clID>reg-q<",
         r"^line 38: <rdeContact:contact> C1: registrar 'reg-q' is not in the deposit$"),
        ("<rdeHost:name>ns1.example.net<", "<rdeHost:name>ns9.example.net<",
         r"host 'ns1.example.net' is not in the deposit"),
        ("<rdeDomain:name>example.post<", "<rdeDomain:name>example.net<",
         r"^line 62: <rdeDomain:domain> example.net: not under the deposit's TLD 'post'$"),
        ('type="FULL"', 'type="INCR"', r"type INCR cannot be imported; only FULL"),
        ("<rdeHeader:header>", "<rdeHeader:hdr>", r"malformed XML"),
    ],
)  # fmt: skip
def test_more_refusals(db: Database, tmp_path: Path, old: str, new: str, message: str) -> None:
    load(db, DATA / "rfc9022-example.xml")
    before = dump(db)
    with pytest.raises(DepositError, match=message):
        load(db, _variant(tmp_path, old, new))
    assert dump(db) == before


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("<rdapd:registrarFacts>\n<rdapd:id>postreg<", "<rdapd:registrarFacts>\n<rdapd:id>ghost<",
         r"^line \d+: <rdapd:registrarFacts> ghost: registrar 'ghost' is not in the deposit$"),
        ("<rdapd:contactFacts>\n<rdapd:id>", "<rdapd:contactFacts>\n<rdapd:id>GHOST-",
         r"^line \d+: <rdapd:contactFacts> GHOST-\S+: contact 'GHOST-\S+' is not in the deposit$"),
    ],
)  # fmt: skip
def test_facts_about_unknown_objects_are_refused(
    db: Database, generated: Path, old: str, new: str, message: str
) -> None:
    load(db, generated)
    before = dump(db)
    text = generated.read_text(encoding="utf-8")
    assert old in text
    variant = generated.with_name("orphan.xml")
    variant.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DepositError, match=message):
        load(db, variant)
    assert dump(db) == before


def test_duplicates_are_refused_with_both_lines(db: Database, tmp_path: Path) -> None:
    text = (DATA / "small-valid.xml").read_text(encoding="utf-8")
    start = text.index("    <rdeContact:contact>")
    end = text.index("</rdeContact:contact>") + len("</rdeContact:contact>\n")
    duplicated = text[:end] + text[start:end].replace("C1-POST", "C2-POST") + text[end:]
    duplicated = duplicated.replace('rdeContact-1.0">1<', 'rdeContact-1.0">2<')
    path = tmp_path / "dup.xml"
    path.write_text(duplicated, encoding="utf-8")
    with pytest.raises(
        DepositError,
        match=r"^line 54: <rdeContact:contact> C1: duplicate contact id \(first at line 38\)$",
    ):
        load(db, path)
    assert dump(db) == {name: [] for name in dump(db)}


def test_missing_header_and_uncounted_objects(db: Database, tmp_path: Path) -> None:
    text = (DATA / "small-valid.xml").read_text(encoding="utf-8")
    no_host_count = text.replace(
        '<rdeHeader:count uri="urn:ietf:params:xml:ns:rdeHost-1.0">1</rdeHeader:count>', ""
    )
    path = tmp_path / "nohost.xml"
    path.write_text(no_host_count, encoding="utf-8")
    with pytest.raises(
        DepositError,
        match=r"no <rdeHeader:count> for urn:ietf:params:xml:ns:rdeHost-1.0, deposit has 1",
    ):
        load(db, path)
    start, end = text.index("<rdeHeader:header>"), text.index("</rdeHeader:header>") + 19
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(DepositError, match=r"missing <rdeHeader:header>"):
        load(db, path)


def test_reads_from_a_stream(db: Database) -> None:
    result = load(db, io.BytesIO((DATA / "small-valid.xml").read_bytes()))
    assert result.counts["domain"] == 1  # type: ignore[attr-defined]
    with db.read_scope() as session:
        ns = session.scalars(select(DomainNameserver)).one()
        assert ns.host is not None
        assert ns.host.ldh_name == "ns1.example.net"
        assert session.scalars(select(DsRecord)).all() == []


def test_stage_rows_follow_stage_table_columns() -> None:
    for table, names in loader.STAGE_COLUMNS.items():
        assert tuple(c.name for c in table.c) == names, table.name
    assert set(loader.STAGE_COLUMNS) == set(loader._stage.tables.values())


def test_host_attributes_load_inline(db: Database, tmp_path: Path) -> None:
    attrs = (
        "<domain:hostAttr><domain:hostName>ns1.example.post</domain:hostName>"
        '<domain:hostAddr ip="v4">192.0.2.53</domain:hostAddr>'
        '<domain:hostAddr ip="v6">2001:DB8::53</domain:hostAddr></domain:hostAttr>'
        "<domain:hostAttr><domain:hostName>ns2.example.net</domain:hostName></domain:hostAttr>"
    )
    load(db, _variant(tmp_path, "<domain:hostObj>ns1.example.net</domain:hostObj>", attrs))
    with db.read_scope() as session:
        servers = session.scalars(select(DomainNameserver).order_by(DomainNameserver.position))
        assert [(s.ldh_name, s.host_id, s.addresses) for s in servers] == [
            ("ns1.example.post", None, [
                {"version": "v4", "address": "192.0.2.53"},
                {"version": "v6", "address": "2001:db8::53"},
            ]),
            ("ns2.example.net", None, []),
        ]  # fmt: skip
