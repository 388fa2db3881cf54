"""The loader: a FULL deposit replaces the registry in one transaction; refusals change nothing."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

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


def load(db: Database, source: object, *, force: bool = False) -> object:
    return import_deposit(db, source, now=lambda: NOW, force=force)  # type: ignore[arg-type]


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


def test_full_deposit_replaces_its_own_tld(db: Database, generated: Path) -> None:
    load(db, DATA / "rfc9022-example.xml")
    moving = ("deposits", "tlds", "data_version")  # rows every import adds or moves on
    example = {k: v for k, v in dump(db).items() if k not in moving}
    load(db, generated)
    with db.read_scope() as session:
        assert session.scalars(select(Domain.tld).distinct().order_by(Domain.tld)).all() == [
            "example",
            "post",
        ]
        assert session.scalars(select(Tld.name).order_by(Tld.name)).all() == ["example", "post"]
        assert len(session.scalars(select(Deposit)).all()) == 2  # import history is kept
    load(db, DATA / "small-valid.xml", force=True)  # older than the generated .post deposit
    with db.read_scope() as session:
        assert session.scalars(select(Domain.ldh_name).where(Domain.tld == "post")).all() == [
            "example.post"
        ]
    after = dump(db)
    for table, rows in example.items():  # every .example row is still there, unchanged
        assert [row for row in rows if row not in after[table]] == [], table


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
    # A deposit without that registrar (older: forced) unbinds its clients.
    load(db, DATA / "small-valid.xml", force=True)
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
        load(db, DATA / name, force=True)  # older than the generated deposit: forced
    assert dump(db) == before
    load(db, DATA / "small-valid.xml", force=True)  # and the database still takes a good one


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


# --- several TLDs -----------------------------------------------------------------------------


def small(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> Path:
    """small-valid.xml (one .post domain, contact C1, host ns1.example.net, registrar reg-a)
    with text replaced."""
    text = (DATA / "small-valid.xml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.xml"
    path.write_text(text, encoding="utf-8")
    return path


MAIL = (
    ("<rdeHeader:tld>post<", "<rdeHeader:tld>mail<"),
    ("example.post", "example.mail"),
    ("D1-POST", "D1-MAIL"),
    ('id="SMALL01"', 'id="MAIL01"'),
)
EXTRA_HOST = (
    ('rdeHost-1.0">1<', 'rdeHost-1.0">2<'),
    (
        "    <rdeDomain:domain>",
        "    <rdeHost:host><rdeHost:name>ns1.example.post</rdeHost:name>"
        "<rdeHost:roid>H2-POST</rdeHost:roid><rdeHost:status s='ok'/>"
        "<rdeHost:addr ip='v4'>192.0.2.1</rdeHost:addr><rdeHost:clID>reg-a</rdeHost:clID>"
        "</rdeHost:host>\n    <rdeDomain:domain>",
    ),
)


def holders(db: Database, model: type, key: object, value: str) -> list[str]:
    from rdap.models import ContactTld, HostTld

    membership = {Contact: ContactTld, Host: HostTld}[model]
    column = membership.contact_id if model is Contact else membership.host_id  # type: ignore[attr-defined]
    with db.read_scope() as session:
        return list(
            session.scalars(
                select(membership.tld)  # type: ignore[attr-defined]
                .join(model, model.id == column)  # type: ignore[attr-defined]
                .where(key == value)
                .order_by(membership.tld)  # type: ignore[attr-defined]
            )
        )


def test_generated_registries_of_two_tlds_are_served_side_by_side(
    db: Database,
    client,
    generated: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    mail = tmp_path / "mail.xml"
    generate_deposit(mail, tld="mail", size=80, seed=5)
    load(db, generated)

    def rows_of(tld: str) -> list[tuple[object, ...]]:
        """The TLD's domains by what a deposit says of them (row ids are the database's, and
        a host outside every loaded TLD shows the latest deposit's ROID)."""
        with db.read_scope() as session:
            domains = session.scalars(select(Domain).where(Domain.tld == tld)).all()
            return sorted(
                (
                    (d.ldh_name, d.roid, d.statuses, d.expires_at, d.registrar.client_id),
                    d.registrant.handle if d.registrant else None,
                    [(c.type, c.contact.handle) for c in d.contacts],
                    [n.ldh_name for n in d.nameservers],
                    [(r.key_tag, r.digest) for r in d.ds_records],
                )
                for d in domains
            )

    post_rows = rows_of("post")
    result = load(db, mail)
    assert result.tld == "mail"  # type: ignore[attr-defined]
    assert rows_of("post") == post_rows
    load(db, mail)  # a resend: same watermark
    load(db, generated)
    assert rows_of("post") == post_rows
    with db.read_scope() as session:
        per_tld = dict(session.execute(select(Domain.tld, func.count()).group_by(Domain.tld)).all())
        assert per_tld == {"post": 120, "mail": 80}
        assert session.scalars(select(Tld.name).order_by(Tld.name)).all() == ["mail", "post"]
        assert session.scalars(select(func.count()).select_from(IdnTable)).one() == 6
        post_name = session.scalars(select(Domain.ldh_name).where(Domain.tld == "post")).first()
        mail_name = session.scalars(select(Domain.ldh_name).where(Domain.tld == "mail")).first()
        registrars = session.scalars(select(Registrar.client_id)).all()
    assert len(registrars) == len(set(registrars))  # one row per registrar, shared
    assert holders(db, Host, Host.ldh_name, "ns1.dnsprovider-a.net") == ["mail", "post"]
    for name in (post_name, mail_name):
        response = client.get(f"/domain/{name}")
        assert response.status_code == 200, name
        assert response.get_json()["ldhName"] == name


def test_shared_contacts_and_hosts_stay_while_a_deposit_holds_them(
    db: Database, tmp_path: Path
) -> None:
    load(db, small(tmp_path, "post"))
    load(db, small(tmp_path, "mail", *MAIL))  # same repository: C1 is C1-POST in both
    with db.read_scope() as session:
        assert session.scalars(select(func.count()).select_from(Contact)).one() == 1
    assert holders(db, Contact, Contact.handle, "C1") == ["mail", "post"]
    assert holders(db, Host, Host.ldh_name, "ns1.example.net") == ["mail", "post"]
    # .post moves to contact C2: C1 stays, .mail still holds it (and its domain uses it).
    load(db, small(tmp_path, "post2", (">C1<", ">C2<"), ("C1-POST", "C2-POST")))
    assert holders(db, Contact, Contact.handle, "C1") == ["mail"]
    assert holders(db, Contact, Contact.handle, "C2") == ["post"]
    with db.read_scope() as session:
        domain = session.scalars(select(Domain).where(Domain.ldh_name == "example.mail")).one()
        assert domain.registrant is not None
        assert domain.registrant.handle == "C1"
        assert [p.name for p in domain.registrant.postal_infos] == ["Anna Example"]
    # .mail moves too: no deposit holds C1 any longer.
    load(db, small(tmp_path, "mail2", *MAIL, (">C1<", ">C3<"), ("C1-POST", "C3-POST")))
    with db.read_scope() as session:
        handles = session.scalars(select(Contact.handle).order_by(Contact.handle)).all()
    assert handles == ["C2", "C3"]


def test_a_shared_contact_takes_the_latest_deposits_values(db: Database, tmp_path: Path) -> None:
    load(db, small(tmp_path, "post"))
    load(db, small(tmp_path, "mail", *MAIL, ("Anna Example", "Anna Renamed")))
    with db.read_scope() as session:
        contact = session.scalars(select(Contact)).one()
        assert [p.name for p in contact.postal_infos] == ["Anna Renamed"]
        post = session.scalars(select(Domain).where(Domain.ldh_name == "example.post")).one()
        assert post.registrant_id == contact.id


def test_a_host_is_its_own_tlds_deposits(db: Database, tmp_path: Path) -> None:
    load(db, small(tmp_path, "post", *EXTRA_HOST))
    mail = small(
        tmp_path,
        "mail",
        *MAIL,
        *EXTRA_HOST,
        ("H1-POST", "H1-MAIL"),
        ("H2-POST", "H2-MAIL"),
        ("<rdeHost:addr ip='v4'>192.0.2.1</rdeHost:addr>", ""),
    )
    load(db, mail)
    with db.read_scope() as session:
        hosts = {h.ldh_name: h for h in session.scalars(select(Host))}
        # ns1.example.post is under .post: .post's deposit says what it is.
        assert hosts["ns1.example.post"].roid == "H2-POST"
        assert [a.address for a in hosts["ns1.example.post"].addresses] == ["192.0.2.1"]
        # ns1.example.net is under no loaded TLD: the latest deposit says what it is.
        assert hosts["ns1.example.net"].roid == "H1-MAIL"
    assert holders(db, Host, Host.ldh_name, "ns1.example.post") == ["mail", "post"]


@pytest.mark.parametrize(
    ("replacements", "message"),
    [
        ((("C1-POST", "C1-MAIL"),),
         r"^line 38: <rdeContact:contact> C1: contact id 'C1' is ROID 'C1-POST' in the deposit "
         r"of \.post, 'C1-MAIL' here; one contact id cannot name two contacts$"),
        (((">C1<", ">C9<"),),
         r"^line 38: <rdeContact:contact> C9: ROID 'C1-POST' is 'C1' in the deposit of \.post$"),
        ((("D1-MAIL", "D1-POST"),),
         r"^line 62: <rdeDomain:domain> example\.mail: ROID 'D1-POST' is 'example\.post' in "
         r"the deposit of \.post$"),
    ],
)  # fmt: skip
def test_objects_of_another_tld_are_never_merged(
    db: Database, tmp_path: Path, replacements: tuple[tuple[str, str], ...], message: str
) -> None:
    load(db, small(tmp_path, "post"))
    before = dump(db)
    with pytest.raises(DepositError, match=message):
        load(db, small(tmp_path, "mail", *MAIL, *replacements))
    assert dump(db) == before


def test_non_delegated_names_must_be_under_the_tld(db: Database, tmp_path: Path) -> None:
    variant = _variant(
        tmp_path, ">xn--exmple-cua.example<", ">xn--exmple-cua.other<", "rfc9022-example.xml"
    )
    with pytest.raises(
        DepositError,
        match=r"^line 210: <rdeNNDN:NNDN> xn--exmple-cua\.other: not under the deposit's TLD",
    ):
        load(db, variant)


def test_an_older_deposit_of_the_same_tld_is_refused_unless_forced(
    db: Database, generated: Path, tmp_path: Path
) -> None:
    load(db, generated)
    before = dump(db)
    old = tmp_path / "old.xml"
    generate_deposit(old, size=40, seed=9, watermark=dt.datetime(2019, 3, 1, tzinfo=dt.UTC))
    with pytest.raises(
        loader.StaleDeposit,
        match=r"^line \d+: <rde:deposit>: watermark 2019-03-01T00:00:00\+00:00 is older than "
        r"2026-11-23T00:00:00\+00:00, the watermark of deposit 2026112300003 loaded for \.post$",
    ):
        load(db, old)
    assert dump(db) == before
    load(db, generated)  # the same watermark: a resend loads
    load(db, old, force=True)
    with db.read_scope() as session:
        assert session.scalars(select(func.count()).select_from(Domain)).one() == 40
    # Another TLD's deposits are compared with that TLD's only.
    load(db, DATA / "rfc9022-example.xml")
