"""The contact reader: jCard values, and hidden fields read from the document's declarations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rdap.principal import Grant, Principal
from rdap.redaction import RedactedDocument, load_policy, redact
from rdap.render.contacts import Card, ContactReader, Phone, declared_name, phone, read_card
from rdap.settings import PROJECT_ROOT
from tests.redaction import sample
from tests.render import declaring

POLICY = load_policy(PROJECT_ROOT / "policies")
READER = ContactReader.for_policy(POLICY)
FORM = "https://rdap.example/contact?domain=example.post&role={role}"


def _redacted(principal: Principal | None = None, **kw: Any) -> RedactedDocument:
    return redact(
        sample.domain_document(**kw),
        principal or Principal(),
        POLICY,
        now=sample.NOW,
        contact_uri=FORM,
    )


def test_a_card_reads_every_property() -> None:
    card = read_card(sample.contact("registrant", 1))
    assert card == Card(
        name="Person1 Nameregistrant",
        org="Org1 registrant Post",
        street=("Street1a registrant", "Street1b registrant"),
        city="City1registrant",
        state="BE",
        postal_code="3010",
        country="CH",
        phone=Phone("+41.31123451", "8181"),
        fax=Phone("+41.31765431", "9191"),
        email="person1@registrant.example",
        contact_uri=None,
    )


def test_a_card_without_properties_is_empty_and_odd_shapes_are_skipped() -> None:
    assert read_card({}) == Card()
    odd = {
        "vcardArray": ["vcard", [["fn"], "x", ["adr", {}, "text", "flat"], ["tel", {}, "uri", 5]]]
    }
    assert read_card(odd) == Card(street=("",), city="", state="", postal_code="")


def test_tel_uris_become_epp_numbers_with_their_extension() -> None:
    assert phone("tel:+1.5555551234;ext=12") == Phone("+1.5555551234", "12")
    assert phone("tel:+1.5555551234;foo=bar") == Phone("+1.5555551234", None)


def test_the_public_view_hides_what_the_document_declares() -> None:
    document = _redacted()
    reading = READER.read(document)
    declared = {declared_name(entry) for entry in document.redacted}
    assert [c.role for c in reading.contacts] == list(sample.CONTACT_ROLES)
    for contact in reading.contacts:
        assert set(contact.hidden) == {
            "handle", "name", "org", "street", "city", "postal_code", "phone", "phone_ext",
            "fax", "fax_ext", "email", "verification",
        }  # fmt: skip
        assert contact.handle is None
        assert contact.card.name == ""  # emptied
        assert contact.card.email is None  # removed
        assert contact.card.contact_uri == FORM.format(role=contact.role)
        assert contact.card.state == "BE"
    assert {name for c in reading.contacts for name in c.hidden.values()} == declared
    assert reading.other_hidden == ()


def test_what_a_grant_shows_is_not_hidden() -> None:
    grant = Grant(
        grant_id="G1",
        domain=sample.DOMAIN,
        elements=frozenset({"registrant.phone"}),
        purpose="legalActions",
        expires_at=sample.NOW + dt.timedelta(days=1),
    )
    reading = READER.read(_redacted(Principal(role="requester", grants=(grant,))))
    registrant = reading.contact("registrant")
    assert registrant is not None
    assert registrant.card.phone == Phone("+41.31123451", None)  # its ;ext= stripped
    assert "phone" not in registrant.hidden
    assert registrant.hidden["phone_ext"] == "Registrant Phone Ext"


def test_staff_see_everything_and_nothing_is_hidden() -> None:
    reading = READER.read(_redacted(Principal(role="staff")))
    assert all(not c.hidden for c in reading.contacts)
    registrant = reading.contact("registrant")
    assert registrant is not None
    assert registrant.card == read_card(sample.contact("registrant", 1))
    assert registrant.handle == "C1001-POST"
    assert [r.title for r in registrant.remarks] == ["Contact verification"]


def test_the_registrar_and_its_abuse_contact() -> None:
    registrar = READER.read(_redacted()).registrar
    assert registrar is not None
    assert (registrar.name, registrar.handle, registrar.iana_id, registrar.url) == (
        "Good Registrar", "9999", "9999", "https://registrar.example",
    )  # fmt: skip
    assert registrar.abuse == Card(
        name="Abuse Desk", phone=Phone("+41.310000000"), email="abuse@registrar.example"
    )


def test_an_entity_lookup_is_one_contact_of_role_contact() -> None:
    document = redact(sample.entity_document(), Principal(), POLICY, now=sample.NOW)
    reading = READER.read(document)
    assert [c.role for c in reading.contacts] == ["contact"]
    assert reading.contacts[0].hidden["name"] == "Contact Name"
    assert reading.registrar is None


def test_declarations_no_contact_field_carries_are_kept() -> None:
    document = _redacted()
    extra = {"name": {"type": "Registry Domain ID"}, "prePath": "$.handle", "method": "removal"}
    document = declaring(document, extra)
    assert READER.read(document).other_hidden == ("Registry Domain ID",)
