"""Searches read only what the caller may see: the SQL follows the policy, and costs alike.

- The SQL condition rdap.visibility derives from the policy selects exactly the contacts whose
  redacted lookup shows the field, for every role and every combination of facts.
- A search whose value matches many hidden contacts and one that matches nothing do the same
  work (SQLite virtual-machine steps: a count, not a time) and return the same answer.
- Entity searches find registrars as lookups do (handle = IANA ID, fn = name), in handle order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from rdap import search
from rdap.app import runtime_of
from rdap.db import Database
from rdap.document import Links
from rdap.lookup import LookupContext, lookup
from rdap.oauth import service
from rdap.principal import Grant, Principal
from rdap.query import EntityLookup
from rdap.redaction.policy import Rule
from rdap.repository import C, Repository
from rdap.visibility import CONDITIONS, Visibility, consent_values
from tests import factories

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
CONSENTS = ([], ["name"], ["email"], ["name", "email", "voice"], ["addr"])


def test_every_rule_condition_has_its_sql():
    conditions = {f.name for f in dataclasses.fields(Rule)} - {"id", "note", "elements"}
    assert conditions == set(CONDITIONS)
    assert consent_values("name") == ("name",)
    assert consent_values("street") == ("addr", "street")  # an unknown entry names its field
    assert consent_values("phone") == ("phone", "voice")


@pytest.fixture
def population(db: Database) -> dict[str, Any]:
    """Contacts of two registrars with every combination of person kind and consent, each the
    registrant of a domain of its own."""
    handles = []
    with db.session_scope() as session:
        factories.bind(session)
        registrars = [factories.RegistrarFactory(), factories.RegistrarFactory()]
        for n, (registrar, kind, consent) in enumerate(
            itertools.product(registrars, ("natural", "legal"), CONSENTS)
        ):
            contact = factories.ContactFactory(
                registrar_id=registrar.id,
                person_kind=kind,
                publish_consent=consent,
                handle=f"VIS{n:03d}",
                postal__name=f"Visible Or Not {n:03d}",
            )
            factories.DomainFactory(
                ldh_name=f"vis{n:03d}.post",
                tld="post",
                registrar=registrar,
                registrant_id=contact.id,
            )
            handles.append(contact.handle)
        return {"handles": handles, "registrars": [r.id for r in registrars]}


def _principals(registrar_ids: list[int]) -> dict[str, Principal]:
    grant = Grant(
        grant_id="g1",
        domain="vis003.post",
        elements=frozenset({"contact.name", "contact.handle"}),
        purpose="legalActions",
        expires_at=NOW + dt.timedelta(days=1),
    )
    expired = dataclasses.replace(grant, grant_id="g2", domain="vis004.post", expires_at=NOW)
    return {
        "public": Principal(),
        "registrar-a": Principal(role="registrar", registrar_id=registrar_ids[0], client_id="a"),
        "registrar-b": Principal(role="registrar", registrar_id=registrar_ids[1], client_id="b"),
        "requester": Principal(role="requester", client_id="r", grants=(grant, expired)),
        "law-enforcement": Principal(role="law-enforcement", client_id="l"),
        "staff": Principal(role="staff", client_id="s"),
    }


def _shown_by_lookup(document: Any, prop: str) -> bool:
    if prop == "handle":
        return "handle" in document.body
    card = document.body["vcardArray"][1]
    return any(p[0] == "fn" and p[3] for p in card)


@pytest.mark.parametrize("prop", ["name", "handle"])
def test_sql_selects_exactly_what_lookups_show(app, population, prop):
    rt = runtime_of(app)
    ctx = LookupContext(now=NOW, links=Links(base_url="http://x", request_url="http://x/"))
    for label, principal in _principals(population["registrars"]).items():
        with rt.db.read_connection() as connection:
            repo = Repository(connection)
            facts = search.entity_facts(repo.dialect)
            visibility = Visibility(rt.policy, principal, NOW)
            condition = visibility.shown(f"contact.{prop}", facts)
            by_sql = set(connection.scalars(select(C.c.handle).where(condition)))
            by_lookup = {
                handle
                for handle in population["handles"]
                if _shown_by_lookup(
                    lookup(EntityLookup(handle), principal, repo=repo, policy=rt.policy, ctx=ctx),
                    prop,
                )
            }
        assert by_sql == by_lookup, label
        assert by_lookup  # every caller sees some of them (consent, legal persons, ...)


# --- the same work whether hidden data matches or not ------------------------------------------


@pytest.fixture
def hidden_crowd(db: Database, registrar) -> dict[str, Any]:
    """Sixty contacts nobody but their registrar may name: natural persons, no consent,
    all called "Hidden ..." and each the registrant of a domain; their email shared."""
    with db.session_scope() as session:
        factories.bind(session)
        other = factories.RegistrarFactory()
        for n in range(60):
            contact = factories.ContactFactory(
                registrar_id=other.id,
                person_kind="natural",
                handle=f"HID{n:03d}",
                email="shared.hidden@mail.example",
                postal__name=f"Hidden Person {n:03d}",
            )
            factories.DomainFactory(
                ldh_name=f"hidden{n:03d}.post",
                tld="post",
                registrar=other,
                registrant_id=contact.id,
            )
        return {"other": other.iana_id}


@pytest.fixture
def steps(app) -> Iterator[list[int]]:
    """SQLite virtual-machine steps (in 50s) of the statements run while a request is served."""
    engine = app.extensions["rdapd"].db.read_engine
    if engine.dialect.name != "sqlite":
        pytest.skip("counts SQLite virtual-machine steps")
    counter = [0]

    def count() -> int:
        counter[0] += 1
        return 0

    def watch(dbapi_connection, _record, _proxy):  # type: ignore[no-untyped-def]
        dbapi_connection.set_progress_handler(count, 50)

    event.listen(engine, "checkout", watch)
    yield counter
    event.remove(engine, "checkout", watch)


def _cost(client, counter: list[int], path: str, headers: dict[str, str] | None = None) -> Any:
    client.get(path, headers=headers)  # warm: compiled statements, caches
    counter[0] = 0
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    return counter[0], body.get("entitySearchResults", body.get("domainSearchResults"))


def test_entity_search_costs_the_same_with_many_hidden_matches_or_none(client, hidden_crowd, steps):
    many, many_results = _cost(client, steps, "/entities?fn=Hidden*")
    none, none_results = _cost(client, steps, "/entities?fn=Zq*")
    assert many_results == none_results == []
    assert many <= 1.05 * none, (many, none)
    many, _ = _cost(client, steps, "/entities?handle=HID*")
    none, _ = _cost(client, steps, "/entities?handle=ZQ*")
    assert many <= 1.05 * none, (many, none)


def test_entity_search_reads_no_hidden_candidate(client, hidden_crowd, monkeypatch):
    built: list[str] = []
    real = search.doc.entity_document

    def spy(contact, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(contact.handle)
        return real(contact, *args, **kwargs)

    monkeypatch.setattr(search.doc, "entity_document", spy)
    assert client.get("/entities?fn=Hidden*").get_json()["entitySearchResults"] == []
    assert client.get("/entities?handle=HID*").get_json()["entitySearchResults"] == []
    assert built == []  # nothing was built (and then dropped) for a hidden contact


def test_reverse_search_reads_no_hidden_domain(
    client, db, hidden_crowd, registrar, make_client, token_for, monkeypatch
):
    """Another registrar's hidden registrants are never read as domains (before: every match was
    read, built, redacted and dropped); their own registrar gets them all."""
    read: list[int] = []
    real = Repository.domains_by_ids

    def spy(self, ids, **kwargs):  # type: ignore[no-untyped-def]
        read.extend(ids)
        return real(self, ids, **kwargs)

    monkeypatch.setattr(Repository, "domains_by_ids", spy)
    outsider = {"Authorization": "Bearer " + token_for(*make_client(role="registrar"))}
    with db.session_scope() as session:
        own, secret = service.create_client(
            session, role="registrar", name="own", registrar_iana_id=hidden_crowd["other"],
            now=dt.datetime.now(dt.UTC),
        )  # fmt: skip
        own_id = own.client_id
    sponsor = {"Authorization": "Bearer " + token_for(own_id, secret)}
    path = "/domains/reverse_search/entity?role=registrant&email=shared.hidden@mail.example"
    assert client.get(path, headers=outsider).get_json()["domainSearchResults"] == []
    assert read == []
    assert len(client.get(path, headers=sponsor).get_json()["domainSearchResults"]) == 50
    assert len(read) == 51  # a page and the one that tells there is a next


def test_reverse_search_still_finds_what_the_registrar_sees(
    client, db, hidden_crowd, make_client, token_for
):
    with db.session_scope() as session:  # one of them consents to publish the email
        session.execute(C.update().where(C.c.handle == "HID007").values(publish_consent=["email"]))
    outsider = {"Authorization": "Bearer " + token_for(*make_client(role="registrar"))}
    path = "/domains/reverse_search/entity?role=registrant&email=shared.hidden@mail.example"
    found = client.get(path, headers=outsider).get_json()["domainSearchResults"]
    assert [d["ldhName"] for d in found] == ["hidden007.post"]
    staff = {"Authorization": "Bearer " + token_for(*make_client(role="staff", purposes=()))}
    found = client.get(path, headers=staff).get_json()["domainSearchResults"]
    assert len(found) == 50  # a full page of the sixty


# --- registrars are entities to searches as to lookups -------------------------------------------


@pytest.fixture
def registrars(db: Database) -> list[int]:
    with db.session_scope() as session:
        factories.bind(session)
        for iana, name in ((9995, "PostReg Registrar"), (9996, "MailNames"), (99, "Tiny Reg")):
            factories.RegistrarFactory(iana_id=iana, name=name)
        lone = factories.RegistrarFactory(iana_id=5150, name="Old Post")
        # Legal persons (handles public) whose handles sort among the registrars'.
        for handle in ("9995A", "9990", "998"):
            factories.ContactFactory(registrar_id=lone.id, person_kind="legal", handle=handle)
        return [9995, 9996, 99]


def _handles(client, path: str) -> list[str]:
    handles, pages = [], 0
    while path:
        body = client.get(path).get_json()
        handles += [e["handle"] for e in body["entitySearchResults"]]
        links = body["paging_metadata"].get("links", [])
        path = links[0]["href"].replace("http://localhost", "") if links else None
        pages += 1
        assert pages < 20
    return handles


def test_entity_searches_find_registrars_by_iana_id_prefix(client, registrars):
    body = client.get("/entities?handle=9995").get_json()
    assert [(e["handle"], e["roles"]) for e in body["entitySearchResults"]] == [
        ("9995", ["registrar"])
    ]
    assert _handles(client, "/entities?handle=99*") == [
        "99",
        "998",
        "9990",
        "9995",
        "9995A",
        "9996",
    ]
    assert _handles(client, "/entities?handle=999*") == ["9990", "9995", "9995A", "9996"]
    assert _handles(client, "/entities?handle=51*") == ["5150"]
    assert _handles(client, "/entities?handle=99*&sort=handle:d") == [
        "9996", "9995A", "9995", "9990", "998", "99",
    ]  # fmt: skip
    assert _handles(client, "/entities?fn=Post*") == ["9995"]
    assert _handles(client, "/entities?handle=9x*") == []


def test_registrars_and_contacts_page_in_one_handle_order(app, client, registrars):
    runtime_of(app).settings = dataclasses.replace(runtime_of(app).settings, search_page_size=2)
    assert _handles(client, "/entities?handle=99*") == [
        "99",
        "998",
        "9990",
        "9995",
        "9995A",
        "9996",
    ]
    assert _handles(client, "/entities?handle=99*&sort=handle:d") == [
        "9996", "9995A", "9995", "9990", "998", "99",
    ]  # fmt: skip
