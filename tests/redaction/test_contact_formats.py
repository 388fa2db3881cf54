"""One redaction, two contact formats: the builder writes each card in the format asked for and
the engine hides, empties and strips at the catalogue's locations in that format. Both answers
show the same facts and declare the same elements; every redacted[] path evaluates (with an
independent RFC 9535 library) in the answer it came with; every JSContact card is valid against
a JSON Schema written from RFC 9553 (no JSContact implementation is packaged for Python or npm
here: see docs/decisions.md)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jsonpath_rfc9535
import jsonschema
import orjson
import pytest
from sqlalchemy import select

from rdap import cards, models
from rdap import document as doc
from rdap.db import Database
from rdap.principal import Grant, Principal
from rdap.profile import Profile
from rdap.records import DomainRecord
from rdap.redaction import RedactedDocument, json_bytes, load_policy, redact
from rdap.render import rdap_json
from rdap.render.contacts import Card, read_card
from rdap.repository import Repository
from rdap.settings import PROJECT_ROOT
from tests import factories, redacted_paths

POLICY = load_policy(PROJECT_ROOT / "policies")
NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
NAME = "formats.post"
FORM = "https://rdap.example/contact?domain=formats.post&role={role}"
SCHEMA = jsonschema.Draft202012Validator(
    json.loads((PROJECT_ROOT / "tests" / "data" / "jscontact-card.schema.json").read_text()),
    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
)
PROFILE = Profile(
    operator_name="Registry",
    port43="",
    contact_uri=FORM,
    terms_of_service_url="",
    conformance=("rdap_level_0",),
    notices=(),
    help_description=(),
)
GRANTED = frozenset({"registrant.email", "technical.phone", "registrant.street"})
# Members whose form depends on the contact format (entities are compared one by one).
BY_FORMAT = ("vcardArray", "jscontact_card", "entities", "rdapConformance", "redacted")


def _principals(record: DomainRecord) -> dict[str, Principal]:
    return {
        "public": Principal(),
        "registrar (other)": Principal(role="registrar", registrar_id=record.registrar.id + 100),
        "registrar (sponsor)": Principal(role="registrar", registrar_id=record.registrar.id),
        "staff": Principal(role="staff"),
        "requester (granted)": Principal(
            role="requester",
            purposes=frozenset({"legalActions"}),
            grants=(
                Grant(
                    grant_id="g1",
                    domain=NAME,
                    elements=GRANTED,
                    purpose="legalActions",
                    expires_at=NOW + dt.timedelta(days=30),
                ),
            ),
        ),
    }


@pytest.fixture(params=["natural", "legal"])
def record(request: pytest.FixtureRequest, db: Database) -> DomainRecord:
    """A domain whose registrant has two street lines and no postal code, and whose technical
    contact's phone has an extension."""
    with db.session_scope() as session:
        domain = factories.full_domain(session, name=NAME, registrant_kind=request.param)
        registrant = session.get(models.Contact, domain.registrant_id)
        assert registrant is not None
        registrant.postal_infos[0].street = ["1 Registrant Road", "Building B"]
        registrant.postal_infos[0].postal_code = None
        tech_id = session.scalars(
            select(models.DomainContact.contact_id).where(models.DomainContact.type == "tech")
        ).one()
        tech = session.get(models.Contact, tech_id)
        assert tech is not None
        tech.voice_ext = "77"
    with db.read_connection() as connection:
        found = Repository(connection).domain(NAME)
    assert found is not None
    return found


def _links(contact_format: str) -> doc.Links:
    return doc.Links("https://rdap.example", "https://rdap.example/x", contact_format)


def _full(record: DomainRecord, contact_format: str, *, entity: bool) -> doc.FullDocument:
    links = _links(contact_format)
    if entity:
        return doc.entity_document(record.registrant, links, [NAME])
    return doc.domain_document(record, links)


def _answer(document: RedactedDocument) -> Any:
    body = rdap_json.document_json(
        document,
        profile=PROFILE,
        base_url="https://rdap.example",
        request_url="https://rdap.example/x",
    )
    return orjson.loads(json_bytes(body))


def _both(record: DomainRecord, who: str, *, entity: bool = False) -> tuple[Any, Any]:
    principal = _principals(record)[who]
    return tuple(  # type: ignore[return-value]
        _answer(
            redact(_full(record, f, entity=entity), principal, POLICY, now=NOW, contact_uri=FORM)
        )
        for f in cards.FORMATS
    )


def _entities(answer: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    pending = [answer] if answer.get("objectClassName") == "entity" else []
    pending += answer.get("entities", [])
    while pending:
        entity = pending.pop(0)
        found.append(entity)
        pending += entity.get("entities", [])
    return found


def _shown(card: Card) -> dict[str, Any]:
    """What a card shows, "" and absent alike counting as nothing."""
    street = tuple(line for line in card.street or () if line)
    values = {**card.__dict__, "street": street}
    return {field: value for field, value in values.items() if value not in (None, "", ())}


def _declared(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (e["name"].get("type") or e["name"]["description"], e["method"])
        for e in answer.get("redacted", [])
    ]


def _registrant_card(answer: dict[str, Any]) -> dict[str, Any]:
    entity = next(e for e in _entities(answer) if e.get("roles") == ["registrant"])
    card: dict[str, Any] = entity["jscontact_card"]
    return card


WHO = ["public", "registrar (other)", "registrar (sponsor)", "staff", "requester (granted)"]


@pytest.mark.parametrize("entity", [False, True], ids=["domain", "entity"])
@pytest.mark.parametrize("who", WHO)
def test_both_formats_show_the_same_facts_and_declare_the_same_hidden_elements(
    record: DomainRecord, who: str, entity: bool
) -> None:
    jcard, jscontact = _both(record, who, entity=entity)
    assert "jscontact" in jscontact["rdapConformance"]
    assert "jscontact" not in jcard["rdapConformance"]
    assert "vcardArray" not in json.dumps(jscontact)
    assert _declared(jcard) == _declared(jscontact)
    before, after = _entities(jcard), _entities(jscontact)
    assert len(before) == len(after) > 0
    for one, other in zip(before, after, strict=True):
        assert _shown(read_card(one)) == _shown(read_card(other))
        assert {k: v for k, v in one.items() if k not in BY_FORMAT} == {
            k: v for k, v in other.items() if k not in BY_FORMAT
        }
        SCHEMA.validate(other["jscontact_card"])
    assert {k: v for k, v in jcard.items() if k not in BY_FORMAT} == {
        k: v for k, v in jscontact.items() if k not in BY_FORMAT
    }
    assert redacted_paths.check(jcard) == redacted_paths.check(jscontact)


def test_the_builder_writes_the_same_values_in_both_formats(record: DomainRecord) -> None:
    """Before redaction: every card of the full document reads the same in both formats."""
    full = [_full(record, f, entity=False).body for f in cards.FORMATS]
    jcard, jscontact = (_entities(orjson.loads(orjson.dumps(body))) for body in full)
    assert [_shown(read_card(e)) for e in jcard] == [_shown(read_card(e)) for e in jscontact]
    assert all("vcardArray" not in e for e in jscontact)


def test_every_public_redaction_is_declared_where_the_jscontact_card_has_it(
    record: DomainRecord,
) -> None:
    _, answer = _both(record, "public")
    paths = {e.get("prePath") or e.get("postPath") for e in answer["redacted"]}
    assert all("vcardArray" not in p for p in paths)
    registrant = "$.entities[?(@.roles[0]=='registrant')]"
    assert registrant + ".jscontact_card.emails.email" in paths
    card = _registrant_card(answer)
    assert card["links"] == {
        "contact-uri": {"kind": "contact", "uri": FORM.replace("{role}", "registrant")}
    }
    if record.registrant.person_kind == "natural":
        assert registrant + ".jscontact_card.name.full" in paths
        assert card["name"] == {"full": ""}  # emptied: its postPath resolves
        # Two street lines emptied are one empty component: the number of lines is not shown.
        components = card["addresses"]["addr"]["components"]
        assert [c for c in components if c["kind"] == "name"] == [{"kind": "name", "value": ""}]
        street = registrant + ".jscontact_card.addresses.addr.components[?(@.kind=='name')].value"
        assert jsonpath_rfc9535.find(street, answer).values() == [""]
    assert redacted_paths.check(answer) > 5


def test_a_stripped_extension_is_declared_at_the_jscontact_number(record: DomainRecord) -> None:
    """A granted phone without its extension: partialValue points at the Phone's number."""
    _, answer = _both(record, "requester (granted)")
    partial = [e for e in answer["redacted"] if e["method"] == "partialValue"]
    assert [e["postPath"] for e in partial] == [
        "$.entities[?(@.roles[0]=='technical')].jscontact_card.phones.voice.number"
    ]
    assert jsonpath_rfc9535.find(partial[0]["postPath"], answer).values() == ["tel:+41.225551234"]
    _, staff = _both(record, "staff")
    tech = next(e for e in _entities(staff) if e.get("roles") == ["technical"])
    assert tech["jscontact_card"]["phones"]["voice"]["number"] == "tel:+41.225551234;ext=77"


def test_cards_are_jscontact_2_without_a_uid(record: DomainRecord) -> None:
    """JSContact 2.0 (RFC 9982) makes `uid` optional, and our cards carry none: nothing in a
    card identifies its contact beyond what the answer shows."""
    for who in WHO:
        _, answer = _both(record, who)
        for found in _entities(answer):
            card = found["jscontact_card"]
            assert card["@type"] == "Card"
            assert card["version"] == "2.0"
            assert "uid" not in card


def test_redaction_leaves_the_full_document_as_built(record: DomainRecord) -> None:
    """Cards are shared with the full document (and other answers): redaction copies first."""
    full = _full(record, cards.JSCONTACT, entity=False)
    before = orjson.dumps(full.body)
    for who, principal in _principals(record).items():
        redact(full, principal, POLICY, now=NOW, contact_uri=FORM)
        assert orjson.dumps(full.body) == before, who


def test_registrar_cards_shared_between_answers_stay_as_written(record: DomainRecord) -> None:
    """A registrar's and its abuse desk's cards are written once and shared by every answer
    (and request) that shows them: no answer, redacted for any caller in any format, changes
    them."""
    for contact_format in cards.FORMATS:
        member = cards.MEMBER[contact_format]
        shared = [_full(record, contact_format, entity=False) for _ in range(2)]
        held = [
            next(e for e in full.body["entities"] if e.get("roles") == ["registrar"])
            for full in shared
        ]
        assert held[0][member] is held[1][member]  # one card for both documents
        before = orjson.dumps(held[0])
        for who, principal in _principals(record).items():
            for full in shared:
                _answer(redact(full, principal, POLICY, now=NOW, contact_uri=FORM))
            registrar = doc.registrar_document(record.registrar, _links(contact_format))
            _answer(redact(registrar, principal, POLICY, now=NOW, contact_uri=FORM))
            assert orjson.dumps(held[0]) == before, (contact_format, who)


def test_an_address_has_every_component_jcard_has(record: DomainRecord) -> None:
    """No postal code held: the component is there, "" (as in jCard's adr), so emptying it is
    declared alike in both formats."""
    _, staff = _both(record, "staff")
    components = _registrant_card(staff)["addresses"]["addr"]["components"]
    assert [c["kind"] for c in components] == ["name", "name", "locality", "region", "postcode"]
    assert components[-1] == {"kind": "postcode", "value": ""}
