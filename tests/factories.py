"""factory_boy factories, one per registry model; bind a session with `bind(session)`."""

from __future__ import annotations

import datetime as dt

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from rdap import models
from rdap.visibility import consent_values

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


class RegistrarFactory(_Base):
    class Meta:
        model = models.Registrar

    client_id = factory.Sequence(lambda n: f"reg-{n}")
    iana_id = factory.Sequence(lambda n: 9990 + n)
    name = factory.Sequence(lambda n: f"Registrar {n} AG")
    status = "ok"
    street = factory.LazyFunction(lambda: ["Weltpoststrasse 4"])
    city = "Bern"
    state = "BE"
    postal_code = "3015"
    country = "CH"
    voice = "+41.313503111"
    email = factory.Sequence(lambda n: f"info@registrar{n}.example")
    url = factory.Sequence(lambda n: f"https://registrar{n}.example")
    whois_server = factory.Sequence(lambda n: f"whois.registrar{n}.example")
    rdap_base_url = factory.Sequence(lambda n: f"https://rdap.registrar{n}.example")
    abuse_email = factory.Sequence(lambda n: f"abuse@registrar{n}.example")
    abuse_voice = "+41.313503199"
    created_at = NOW - dt.timedelta(days=900)


class PostalInfoFactory(_Base):
    class Meta:
        model = models.PostalInfo

    type = "int"
    name = factory.Sequence(lambda n: f"Person {n}")
    org = None
    street = factory.LazyFunction(lambda: ["1 Post Road"])
    city = "Geneva"
    state = "GE"
    postal_code = "1201"
    country = "CH"


class ContactFactory(_Base):
    class Meta:
        model = models.Contact

    handle = factory.Sequence(lambda n: f"C{n:05d}-POST")
    roid = factory.Sequence(lambda n: f"C{n}-POST")
    registrar_id = factory.LazyAttribute(lambda o: RegistrarFactory().id)
    statuses = factory.LazyFunction(lambda: ["ok"])
    voice = "+41.225551234"
    voice_ext = None
    fax = "+41.225554321"
    email = factory.Sequence(lambda n: f"person{n}@mail.example")
    created_at = NOW - dt.timedelta(days=400)
    updated_at = NOW - dt.timedelta(days=10)
    person_kind = models.NATURAL
    publish_consent = factory.LazyFunction(list)
    verification_status = "verified"
    verified_at = NOW - dt.timedelta(days=30)

    @factory.post_generation
    def postal(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        info = PostalInfoFactory(contact=self, **kwargs)
        self.postal_infos.append(info)
        # The search columns rdap.search_columns.refresh() derives after a load.
        self.fn = info.name
        self.consent_name = bool(set(self.publish_consent) & set(consent_values("name")))


class HostFactory(_Base):
    class Meta:
        model = models.Host

    roid = factory.Sequence(lambda n: f"H{n}-POST")
    ldh_name = factory.Sequence(lambda n: f"ns{n}.dns.example")
    registrar_id = factory.LazyAttribute(lambda o: RegistrarFactory().id)
    statuses = factory.LazyFunction(lambda: ["ok"])
    created_at = NOW - dt.timedelta(days=500)


class HostAddressFactory(_Base):
    class Meta:
        model = models.HostAddress

    version = "v4"
    address = factory.Sequence(lambda n: f"192.0.2.{n % 250 + 1}")


class DomainFactory(_Base):
    class Meta:
        model = models.Domain

    roid = factory.Sequence(lambda n: f"D{n}-POST")
    ldh_name = factory.Sequence(lambda n: f"domain{n}.post")
    tld = "post"
    registrar = factory.SubFactory(RegistrarFactory)
    statuses = factory.LazyFunction(lambda: ["ok"])
    created_at = NOW - dt.timedelta(days=365)
    expires_at = NOW + dt.timedelta(days=365)
    updated_at = NOW - dt.timedelta(days=5)
    delegation_signed = True


def bind(session: Session) -> None:
    for cls in (
        RegistrarFactory,
        PostalInfoFactory,
        ContactFactory,
        HostFactory,
        HostAddressFactory,
        DomainFactory,
    ):
        cls._meta.sqlalchemy_session = session


def full_domain(
    session: Session,
    *,
    name: str = "example.post",
    registrant_kind: str = "legal",
    unicode_name: str | None = None,
    registrar: models.Registrar | None = None,
    marker: str = "",
) -> models.Domain:
    """A realistic domain: registrar, registrant, admin/tech contacts, two hosts, a DS record."""
    bind(session)
    registrar = registrar or RegistrarFactory()
    registrant = ContactFactory(
        registrar_id=registrar.id,
        person_kind=registrant_kind,
        postal__name=f"Registrant Person{marker}",
        postal__org="Example Postal Services Ltd" if registrant_kind == "legal" else None,
        postal__street=[f"1 Registrant Road{marker}"],
        postal__city=f"Geneva{marker}",
        email=f"registrant{marker.lower()}@mail.example",
    )
    tech = ContactFactory(registrar_id=registrar.id, postal__name=f"Tech Person{marker}")
    admin = ContactFactory(registrar_id=registrar.id, postal__name=f"Admin Person{marker}")
    hosts = []
    for i in (1, 2):
        host = HostFactory(registrar_id=registrar.id, ldh_name=f"ns{i}.{name}")
        host.addresses.append(HostAddressFactory(host=host, version="v4", address=f"192.0.2.{i}"))
        host.addresses.append(HostAddressFactory(host=host, version="v6", address=f"2001:db8::{i}"))
        hosts.append(host)
    domain = DomainFactory(
        ldh_name=name,
        unicode_name=unicode_name,
        tld=name.rsplit(".", 1)[-1],
        registrar=registrar,
        registrant_id=registrant.id,
        statuses=["clientTransferProhibited", "serverDeleteProhibited"],
    )
    domain.contacts.append(models.DomainContact(contact_id=tech.id, type="tech"))
    domain.contacts.append(models.DomainContact(contact_id=admin.id, type="admin"))
    for i, host in enumerate(hosts):
        domain.nameservers.append(
            models.DomainNameserver(host_id=host.id, ldh_name=host.ldh_name, position=i)
        )
    domain.ds_records.append(
        models.DsRecord(key_tag=12345, algorithm=13, digest_type=2, digest="AB" * 32)
    )
    if session.query(models.Tld).filter_by(name=domain.tld).first() is None:
        session.add(models.Tld(name=domain.tld))
        session.add(
            models.Deposit(
                deposit_id="test",
                deposit_type="FULL",
                watermark=NOW,
                tld=domain.tld,
                imported_at=NOW,
                counts={},
            )
        )
    session.flush()
    return domain
