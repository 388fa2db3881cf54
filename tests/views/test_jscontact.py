"""Contact formats over HTTP: every caller asks for the same objects of a generated registry in
jCard and in JSContact and gets the same facts, the same hidden elements and redacted[] paths
that evaluate in the answer they came with, and cards valid against the RFC 9553 schema; the
answer cache keeps the formats apart."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import jsonpath_rfc9535
import jsonschema
import pytest
from sqlalchemy import select

from rdap.db import Database
from rdap.escrow.generator import generate_deposit
from rdap.escrow.loader import import_deposit
from rdap.models import Contact, Domain, Host, Registrar
from rdap.render.contacts import Card, read_card
from rdap.settings import PROJECT_ROOT
from tests import redacted_paths
from tests.oauth_fixtures import MakeClient, bind_to_deposit_registrar
from tests.snapshot import Snapshot, built_once, restored

SCHEMA = jsonschema.Draft202012Validator(
    json.loads((PROJECT_ROOT / "tests" / "data" / "jscontact-card.schema.json").read_text()),
    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
)
JSCONTACT = {"Accept": 'application/rdap+json;exts_list="jscontact"'}
JCARD = {"Accept": "application/rdap+json"}
# Members whose form depends on the contact format (entities are compared one by one).
BY_FORMAT = (
    "vcardArray",
    "jscontact_card",
    "entities",
    "rdapConformance",
    "redacted",
    "reverse_search_properties_mapping",  # its paths (checked below)
)


@pytest.fixture(scope="module")
def _generated(migrated_url: str, tmp_path_factory: pytest.TempPathFactory) -> Snapshot[None]:
    path = tmp_path_factory.mktemp("formats") / "formats.xml"

    def build(db: Database) -> None:
        generate_deposit(path, size=60, seed=23, markers=True)
        import_deposit(db, path)

    return built_once(migrated_url, build)


@pytest.fixture
def paths(db: Database, _generated: Snapshot[None]) -> list[str]:
    """Every domain of a generated registry (natural and legal persons, with and without
    consent), some contacts, hosts and registrars, and searches that find contacts."""
    restored(db, _generated)
    with db.read_scope() as session:
        domains = session.scalars(select(Domain.ldh_name).order_by(Domain.id)).all()
        contacts = session.scalars(select(Contact.handle).order_by(Contact.id).limit(30)).all()
        hosts = session.scalars(select(Host.ldh_name).order_by(Host.id).limit(5)).all()
        registrars = session.scalars(select(Registrar.iana_id)).all()
    return [
        *(f"/domain/{name}" for name in domains),
        *(f"/entity/{handle}" for handle in contacts),
        *(f"/nameserver/{name}" for name in hosts),
        *(f"/entity/{iana}" for iana in registrars if iana is not None),
        *(f"/domains?name={prefix}*" for prefix in sorted({name[:2] for name in domains})[:3]),
        "/domains?name=xn--*",
        "/entities?fn=PII*",
        *(f"/entities?handle={handle[:3]}*" for handle in contacts[:2]),
        "/domains/reverse_search/entity?fn=PII*",
    ]


@pytest.fixture
def callers(
    db: Database,
    make_client: MakeClient,
    token_for: Callable[[str, str], str],
    paths: list[str],
) -> dict[str, dict[str, str]]:
    """Authorization headers of every kind of caller (the public sends none), once the
    generated registry is in place."""
    bearer = {
        "requester": make_client(role="requester"),
        "law-enforcement": make_client(role="law-enforcement"),
        "registrar (no domains)": make_client(role="registrar"),
        "registrar (sponsor)": bind_to_deposit_registrar(db, make_client)[:2],
        "staff": make_client(role="staff", purposes=()),
    }
    return {
        "public": {},
        **{who: {"Authorization": f"Bearer {token_for(*pair)}"} for who, pair in bearer.items()},
    }


def _entities(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Every entity of an answer, results of a search included, in document order."""
    found: list[dict[str, Any]] = []
    pending = [answer]
    for member in redacted_paths.RESULT_MEMBERS:
        pending += answer.get(member, [])
    while pending:
        current = pending.pop(0)
        if current.get("objectClassName") == "entity":
            found.append(current)
        pending += current.get("entities", [])
    return found


def _shown(card: Card) -> dict[str, Any]:
    street = tuple(line for line in card.street or () if line)
    values = {**card.__dict__, "street": street}
    return {field: value for field, value in values.items() if value not in (None, "", ())}


def _without(value: dict[str, Any]) -> dict[str, Any]:
    """An object (or a search answer's results) without what depends on the contact format."""
    return {
        k: [_without(result) for result in v] if k in redacted_paths.RESULT_MEMBERS else v
        for k, v in value.items()
        if k not in BY_FORMAT
    }


def _declared(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (entry["name"].get("type") or entry["name"]["description"], entry["method"])
        for entry in redacted_paths.declarations(answer)
    ]


def test_every_caller_gets_the_same_facts_and_redactions_in_both_formats(  # type: ignore[no-untyped-def]
    client, paths: list[str], callers: dict[str, dict[str, str]]
) -> None:
    compared = {"hidden": 0, "cards": 0, "emptied": 0}
    for who, auth in callers.items():
        for path in paths:
            old = client.get(path, headers={**auth, **JCARD})
            new = client.get(path, headers={**auth, **JSCONTACT})
            assert old.status_code == new.status_code, (who, path)
            if old.status_code != 200:  # reverse search refused to this caller: no contacts
                assert old.get_json() == new.get_json(), (who, path)
                continue
            jcard, jscontact = old.get_json(), new.get_json()
            assert "jscontact" in jscontact["rdapConformance"]
            assert "jscontact" not in jcard["rdapConformance"]
            assert "vcardArray" not in new.get_data(as_text=True), (who, path)
            assert _declared(jcard) == _declared(jscontact), (who, path)
            assert _without(jcard) == _without(jscontact), (who, path)
            before, after = _entities(jcard), _entities(jscontact)
            assert len(before) == len(after), (who, path)
            for one, other in zip(before, after, strict=True):
                assert "jscontact_card" in other, (who, path)
                SCHEMA.validate(other["jscontact_card"])
                assert _shown(read_card(one)) == _shown(read_card(other)), (who, path)
                assert _without(one) == _without(other), (who, path)
            compared["cards"] += len(after)
            compared["hidden"] += redacted_paths.check(jcard)
            assert redacted_paths.check(jscontact) == len(_declared(jcard))
            compared["emptied"] += sum(m == "emptyValue" for _, m in _declared(jscontact))
    assert compared["cards"] > 1000
    assert compared["hidden"] > 1000
    assert compared["emptied"] > 100


def test_help_offers_both_formats(client) -> None:  # type: ignore[no-untyped-def]
    for headers in (JCARD, JSCONTACT):
        body = client.get("/help", headers=headers).get_json()
        assert "jscontact" in body["rdapConformance"]
        text = " ".join(line for notice in body["notices"] for line in notice["description"])
        assert 'exts_list="jscontact"' in text


def test_the_answer_cache_keeps_the_formats_apart(  # type: ignore[no-untyped-def]
    client, paths: list[str]
) -> None:
    for path in paths[:5]:
        for _ in range(2):  # the second round is answered from the cache
            assert "jscontact_card" in client.get(path, headers=JSCONTACT).get_data(as_text=True)
            assert "vcardArray" in client.get(path, headers=JCARD).get_data(as_text=True)
            assert "vcardArray" in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize(
    "accept",
    [
        'application/rdap+json;exts_list="fred"',
        'text/plain;exts_list="jscontact"',
        "application/rdap+json;exts_list=",
        'application/rdap+json;exts_list="jscontact_level_0 jscard"',
    ],
)
def test_a_format_not_offered_is_answered_in_jcard(client, paths: list[str], accept) -> None:  # type: ignore[no-untyped-def]
    response = client.get(paths[0], headers={"Accept": accept})
    assert response.status_code == 200
    body = response.get_json()
    assert "jscontact" not in body["rdapConformance"]
    assert all("vcardArray" in entity for entity in body["entities"])


def test_reverse_search_mapping_points_into_jscontact(  # type: ignore[no-untyped-def]
    client, paths: list[str], callers: dict[str, dict[str, str]]
) -> None:
    staff = callers["staff"]
    domain = client.get(paths[0], headers={**staff, **JSCONTACT}).get_json()
    registrant = next(e for e in domain["entities"] if e["roles"] == ["registrant"])
    name = registrant["jscontact_card"]["name"]["full"]
    path = "/domains/reverse_search/entity?fn=" + quote(name)
    body = client.get(path, headers={**staff, **JSCONTACT}).get_json()
    mapping = {m["property"]: m["propertyPath"] for m in body["reverse_search_properties_mapping"]}
    assert mapping["fn"] == "$.entities[*].jscontact_card.name.full"
    assert mapping["email"] == "$.entities[*].jscontact_card.emails.email.address"
    assert body["domainSearchResults"]
    for result in body["domainSearchResults"]:
        assert name in jsonpath_rfc9535.find(mapping["fn"], result).values()
    email = registrant["jscontact_card"]["emails"]["email"]["address"]
    assert email in jsonpath_rfc9535.find(mapping["email"], domain).values()
