"""JSContact answers: the same redacted document written with RFC 9553 cards, its redacted[] paths
moved into them (evaluated with an independent RFC 9535 JSONPath library), and the cards valid
against a JSON Schema written from RFC 9553 (no JSContact implementation is packaged for Python
or npm here: see docs/decisions.md)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import jsonpath_rfc9535
import jsonschema
import orjson
import pytest

from rdap.principal import Grant, Principal
from rdap.profile import Profile
from rdap.redaction import RedactedDocument, json_bytes, load_policy, redact
from rdap.render import contact_format, rdap_json
from rdap.render.contact_format import JsContactForm, requested
from rdap.render.contacts import Card, read_card
from rdap.render.jscontact import UID_NAMESPACE, card_json, uid
from rdap.settings import PROJECT_ROOT
from tests import redacted_paths
from tests.redaction import sample

POLICY = load_policy(PROJECT_ROOT / "policies")
FORM = "https://rdap.example/contact?domain=example.post&role={role}"
WRITER = JsContactForm(POLICY)
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

PRINCIPALS = {
    "public": Principal(),
    "registrar (other)": Principal(role="registrar", registrar_id=sample.OTHER_REGISTRAR_ID),
    "registrar (sponsor)": Principal(role="registrar", registrar_id=sample.SPONSOR_ID),
    "staff": Principal(role="staff"),
    "requester (granted)": Principal(
        role="requester",
        purposes=frozenset({"legalActions"}),
        grants=(
            Grant(
                grant_id="g1",
                domain=sample.DOMAIN,
                elements=frozenset({"registrant.email", "technical.phone", "registrant.street"}),
                purpose="legalActions",
                expires_at=sample.NOW + dt.timedelta(days=30),
            ),
        ),
    ),
}


def _redacted(who: str, kind: str = "natural", *, entity: bool = False) -> RedactedDocument:
    document = (
        sample.entity_document(person_kind=kind)
        if entity
        else sample.domain_document(person_kind=kind)
    )
    return redact(document, PRINCIPALS[who], POLICY, now=sample.NOW, contact_uri=FORM)


def _answer(document: RedactedDocument, form: JsContactForm | None) -> Any:
    body = rdap_json.document_json(
        document,
        profile=PROFILE,
        base_url="https://rdap.example",
        request_url="https://rdap.example/x",
        contact_form=form,
    )
    return orjson.loads(json_bytes(body))


def _entities(answer: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    pending = [answer] if answer.get("objectClassName") == "entity" else []
    pending += answer.get("entities", [])
    while pending:
        entity = pending.pop()
        found.append(entity)
        pending += entity.get("entities", [])
    return found


def _declared(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return list(answer.get("redacted", []))


def _shown(card: Card) -> dict[str, Any]:
    """What a card shows, "" and absent alike counting as nothing."""
    street = tuple(line for line in card.street or () if line)
    values = {**card.__dict__, "street": street}
    return {field: value for field, value in values.items() if value not in (None, "", ())}


# Members that differ by format (or hold other entities, compared on their own).
CARDS_ETC = ("vcardArray", "jscontact_card", "entities", "rdapConformance", "redacted")

CASES = [
    (who, kind, entity)
    for who in PRINCIPALS
    for kind in ("natural", "legal")
    for entity in (False, True)
]


@pytest.mark.parametrize(("who", "kind", "entity"), CASES)
def test_both_formats_show_the_same_facts_and_declare_the_same_hidden_elements(
    who: str, kind: str, entity: bool
) -> None:
    document = _redacted(who, kind, entity=entity)
    jcard, jscontact = _answer(document, None), _answer(document, WRITER)
    assert "jscontact" in jscontact["rdapConformance"]
    assert "jscontact" not in jcard["rdapConformance"]
    assert "vcardArray" not in json.dumps(jscontact)
    # The same declarations, in the same order, but for their paths.
    strip = [{k: v for k, v in e.items() if not k.endswith("Path")} for e in _declared(jcard)]
    assert strip == [
        {k: v for k, v in e.items() if not k.endswith("Path")} for e in _declared(jscontact)
    ]
    old, new = _entities(jcard), _entities(jscontact)
    assert len(old) == len(new) > 0
    for before, after in zip(old, new, strict=True):
        assert _shown(read_card(before)) == _shown(read_card(after))
        assert {k: v for k, v in before.items() if k not in CARDS_ETC} == {
            k: v for k, v in after.items() if k not in CARDS_ETC
        }
        SCHEMA.validate(after["jscontact_card"])
    # Everything but the cards and the paths is the same answer.
    rest = {k: v for k, v in jcard.items() if k not in CARDS_ETC}
    assert rest == {k: v for k, v in jscontact.items() if k not in CARDS_ETC}
    redacted_paths.check(jcard)
    redacted_paths.check(jscontact)


def test_every_catalogue_location_is_used_by_a_public_answer() -> None:
    """The public sees the most redactions: every field's JSContact path appears (moved)."""
    answer = _answer(_redacted("public"), WRITER)
    paths = {e.get("prePath") or e.get("postPath") for e in answer["redacted"]}
    assert all("vcardArray" not in p for p in paths)
    registrant = sample.entity_path("registrant")
    assert registrant + ".jscontact_card.name.full" in paths
    assert registrant + ".jscontact_card.emails.email" in paths
    assert (
        registrant + ".jscontact_card.addresses.addr.components[?(@.kind=='locality')].value"
        in paths
    )
    card = next(e for e in _entities(answer) if e["roles"] == ["registrant"])["jscontact_card"]
    assert card["links"] == {
        "contact-uri": {"kind": "contact", "uri": FORM.replace("{role}", "registrant")}
    }
    assert card["name"] == {"full": ""}  # emptied, its postPath resolves


def test_a_stripped_extension_is_declared_at_the_jscontact_number() -> None:
    """A granted phone without its extension: partialValue points at the Phone's number."""
    answer = _answer(_redacted("requester (granted)"), WRITER)
    partial = [e for e in answer["redacted"] if e["method"] == "partialValue"]
    assert [e["postPath"] for e in partial] == [
        sample.entity_path("technical") + ".jscontact_card.phones.voice.number"
    ]
    assert jsonpath_rfc9535.find(partial[0]["postPath"], answer).values() == ["tel:+41.31123453"]
    assert redacted_paths.check(answer) > 0


def test_the_uid_says_nothing_redaction_hid() -> None:
    """Two contacts whose visible cards are equal get the same uid; a hidden handle or value
    never shapes it."""
    card = Card(name="", street=("",), city="", state="BE", postal_code="", country="CH")
    one = card_json(card, role="registrant", emptied={"name"})
    assert one == card_json(card, role="registrant", emptied={"name"})
    assert one["uid"] != card_json(card, role="technical", emptied={"name"})["uid"]
    assert one["uid"].startswith("urn:uuid:")
    for source in (b"", b"x", b'registrant\n["vcard"]'):
        assert uid(source) == f"urn:uuid:{uuid.uuid5(UID_NAMESPACE, source.decode())}"
    SCHEMA.validate(one)


def test_an_address_keeps_emptied_components_and_drops_absent_ones() -> None:
    card = Card(street=("",), city="", state="", postal_code="", country=None)
    assert "addresses" not in card_json(card, role="x")
    written = card_json(card, role="x", emptied={"street", "city"})
    assert written["addresses"] == {
        "addr": {"components": [{"kind": "name", "value": ""}, {"kind": "locality", "value": ""}]}
    }


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        (None, "jcard"),
        ("application/rdap+json", "jcard"),
        ('application/rdap+json;exts_list="jscontact"', "jscontact"),
        ('application/json, application/rdap+json; exts_list="redacted jscontact"', "jscontact"),
        ("application/rdap+json;exts_list=jscontact", "jscontact"),
        ('Application/RDAP+JSON; EXTS_LIST="jscontact"', "jscontact"),
        ('application/rdap+json;exts_list="jscontactx"', "jcard"),
        ('application/rdap+json;exts_list="fred"', "jcard"),
        ('text/html;exts_list="jscontact"', "jcard"),
        ('application/rdap+json;other="jscontact"', "jcard"),
    ],
)
def test_the_format_is_asked_for_in_the_accept_header(accept: str | None, wanted: str) -> None:
    assert requested(accept) == wanted
    assert wanted in contact_format.FORMATS
