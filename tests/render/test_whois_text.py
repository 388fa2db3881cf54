"""The WHOIS text renderer: Specification 4 lines, hidden fields as the placeholder."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rdap.document import FullDocument, Subject, stamp_database_update
from rdap.errors import NotFound, QueryError
from rdap.principal import Grant, Principal
from rdap.profile import WhoisProfile
from rdap.redaction import RedactedDocument, load_policy, redact
from rdap.render.contacts import ContactReader, declared_name
from rdap.render.whois_text import WhoisText
from rdap.settings import PROJECT_ROOT
from tests.redaction import sample
from tests.render import declaring

POLICY = load_policy(PROJECT_ROOT / "policies")
FORM = "https://rdap.example/contact?domain=example.post&role={role}"
PROFILE = WhoisProfile(
    placeholder="REDACTED FOR PRIVACY",
    status_url="https://icann.org/epp#{status}",
    inaccuracy_form_url="https://www.icann.org/wicf/",
    domain_notice=(
        "For more information on Whois status codes, please visit https://icann.org/epp",
    ),
    terms_of_use=("Terms of use.",),
)
RENDERER = WhoisText(ContactReader.for_policy(POLICY), PROFILE)


def _redacted(
    document: FullDocument | None = None, principal: Principal | None = None, **kw: Any
) -> RedactedDocument:
    full = stamp_database_update(document or sample.domain_document(**kw), sample.NOW)
    return redact(full, principal or Principal(), POLICY, now=sample.NOW, contact_uri=FORM)


def _text(document: RedactedDocument, renderer: WhoisText = RENDERER) -> str:
    raw = renderer.render(document)
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends only
    return raw.decode("utf-8").replace("\r\n", "\n")


def _contact_block(label: str, role: str) -> str:
    hidden = "REDACTED FOR PRIVACY"
    return f"""Registry {label} ID: {hidden}
{label} Name: {hidden}
{label} Organization: {hidden}
{label} Street: {hidden}
{label} City: {hidden}
{label} State/Province: BE
{label} Postal Code: {hidden}
{label} Country: CH
{label} Phone: {hidden}
{label} Phone Ext: {hidden}
{label} Fax: {hidden}
{label} Fax Ext: {hidden}
{label} Email: https://rdap.example/contact?domain=example.post&role={role}
{label} Verification: {hidden}
"""


def test_the_public_view_of_a_domain() -> None:
    contacts = "".join(_contact_block(label, role) for role, label in sample.ROLE_LABELS.items())
    assert _text(_redacted()) == (
        """Domain Name: example.post
Registry Domain ID: D1234-POST
Registrar WHOIS Server:
Registrar URL: https://registrar.example
Updated Date:
Creation Date: 2024-01-01T00:00:00Z
Registry Expiry Date: 2027-01-01T00:00:00Z
Registrar: Good Registrar
Registrar IANA ID: 9999
Registrar Abuse Contact Email: abuse@registrar.example
Registrar Abuse Contact Phone: +41.310000000
Domain Status: ok https://icann.org/epp#ok
"""
        + contacts
        + """Name Server: ns1.example.post
DNSSEC: signedDelegation
URL of the ICANN Whois Inaccuracy Complaint Form: https://www.icann.org/wicf/
>>> Last update of WHOIS database: 2026-03-01T12:00:00Z <<<

For more information on Whois status codes, please visit https://icann.org/epp

Terms of use.
"""
    )


def _hidden_keys(text: str) -> set[str]:
    found = set()
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if value == "REDACTED FOR PRIVACY" or value.startswith("https://rdap.example/contact"):
            found.add(key)
    return found


@pytest.mark.parametrize("person_kind", ["natural", "legal"])
@pytest.mark.parametrize("consent", [frozenset(), frozenset({"name", "email", "voice"})])
def test_hidden_lines_are_exactly_the_declared_redactions(
    person_kind: str, consent: frozenset[str]
) -> None:
    document = _redacted(person_kind=person_kind, consent=consent)
    declared = {declared_name(entry) for entry in document.redacted}
    assert _hidden_keys(_text(document)) == declared
    assert declared  # there is something to compare


def test_legal_persons_show_organisation_and_phone() -> None:
    text = _text(_redacted(person_kind="legal"))
    assert "Registrant Organization: Org1 registrant Post\n" in text
    assert "Registrant Phone: +41.31123451\nRegistrant Phone Ext: 8181\n" in text
    assert "Registry Registrant ID: C1001-POST\n" in text
    assert "Registrant Name: REDACTED FOR PRIVACY\n" in text


def test_staff_see_every_value_and_no_placeholder() -> None:
    document = _redacted(principal=Principal(role="staff"))
    text = _text(document)
    assert "REDACTED FOR PRIVACY" not in text
    for n, role in enumerate(sample.CONTACT_ROLES, start=1):
        values = sample.personal_values(sample.contact(role, n))
        del values["verification"]  # a remark: port 43 shows no remarks
        for value in (v.removeprefix("tel:") for found in values.values() for v in found):
            assert value in text
    assert "Registrant Street: Street1a registrant\nRegistrant Street: Street1b registrant\n" in (
        text
    )
    assert "Registrant Email: person1@registrant.example\n" in text


def test_a_phone_shown_without_its_extension() -> None:
    grant = Grant(
        grant_id="G1",
        domain=sample.DOMAIN,
        elements=frozenset({"registrant.phone"}),
        purpose="legalActions",
        expires_at=sample.NOW + dt.timedelta(days=1),
    )
    text = _text(_redacted(principal=Principal(role="requester", grants=(grant,))))
    assert "Registrant Phone: +41.31123451\nRegistrant Phone Ext: REDACTED FOR PRIVACY\n" in text


def test_without_a_contact_form_a_hidden_email_shows_the_placeholder() -> None:
    full = stamp_database_update(sample.domain_document(), sample.NOW)
    document = redact(full, Principal(), POLICY, now=sample.NOW)
    assert "Registrant Email: REDACTED FOR PRIVACY\n" in _text(document)


def test_the_placeholder_and_notices_come_from_the_profile() -> None:
    profile = WhoisProfile(placeholder="(withheld)")
    text = _text(_redacted(), WhoisText(ContactReader.for_policy(POLICY), profile))
    assert "Registrant Name: (withheld)\n" in text
    assert "Domain Status: ok\n" in text
    assert "REDACTED FOR PRIVACY" not in text
    assert "icann" not in text.lower()
    assert text.endswith("<<<\n")


def test_values_cannot_forge_lines() -> None:
    document = sample.domain_document()
    registrar = document.body["entities"][0] = dict(sample.REGISTRAR_ENTITY)
    registrar["vcardArray"] = [
        "vcard",
        [["fn", {}, "text", "Evil\r\nRegistrant Name: John Doe\x1b[2J"]],
    ]
    text = _text(_redacted(document))
    assert "Registrar: Evil  Registrant Name: John Doe [2J\n" in text
    assert "\nRegistrant Name: John Doe" not in text


def test_an_idn_shows_both_labels() -> None:
    document = sample.domain_document()
    document.body["ldhName"] = "xn--envos-rpidos-1-1gb1q.post"
    document.body["unicodeName"] = "envíos-rápidos-1.post"
    raw = RENDERER.render(_redacted(document))
    assert raw.startswith(
        "Domain Name: xn--envos-rpidos-1-1gb1q.post\r\n"
        "Internationalized Domain Name: envíos-rápidos-1.post\r\n".encode()
    )


def test_statuses_are_epp_values_with_their_icann_url() -> None:
    document = sample.domain_document()
    document.body["status"] = ["client hold", "server transfer prohibited", "redemption period"]
    text = _text(_redacted(document))
    assert (
        "Domain Status: clientHold https://icann.org/epp#clientHold\n"
        "Domain Status: serverTransferProhibited https://icann.org/epp#serverTransferProhibited\n"
        "Domain Status: redemptionPeriod https://icann.org/epp#redemptionPeriod\n"
    ) in text


def test_an_unsigned_delegation() -> None:
    document = sample.domain_document()
    document.body["secureDNS"] = {"delegationSigned": False}
    assert "\nDNSSEC: unsigned\n" in _text(_redacted(document))


def test_a_hidden_domain_id_shows_the_placeholder() -> None:
    document = _redacted()
    extra = {"name": {"type": "Registry Domain ID"}, "prePath": "$.handle", "method": "removal"}
    document = declaring(document, extra, without="handle")
    text = _text(document)
    assert "Registry Domain ID: REDACTED FOR PRIVACY\n" in text
    assert text.count("Registry Domain ID") == 1


def test_a_nameserver() -> None:
    body = {
        "objectClassName": "nameserver",
        "handle": "H1-POST",
        "ldhName": "ns1.example.post",
        "ipAddresses": {"v4": ["192.0.2.1"], "v6": ["2001:db8::1"]},
        "status": ["active"],
        "entities": [sample.REGISTRAR_ENTITY],
    }
    full = FullDocument(body=body, subject=Subject("nameserver", "ns1.example.post", 7))
    assert _text(_redacted(full)) == (
        """Server Name: ns1.example.post
IP Address: 192.0.2.1
IP Address: 2001:db8::1
Registrar: Good Registrar
Registrar WHOIS Server:
Registrar URL: https://registrar.example
>>> Last update of WHOIS database: 2026-03-01T12:00:00Z <<<

Terms of use.
"""
    )


def test_a_registrar() -> None:
    body = dict(sample.REGISTRAR_ENTITY)
    body["vcardArray"] = [
        "vcard",
        [
            ["fn", {}, "text", "Good Registrar"],
            ["adr", {"cc": "CH"}, "text", ["", "", ["Weg 1", "Haus 2"], "Bern", "BE", "3000", ""]],
            ["tel", {"type": "voice"}, "uri", "tel:+41.311111111;ext=7"],
            ["tel", {"type": "fax"}, "uri", "tel:+41.312222222"],
            ["email", {}, "text", "info@registrar.example"],
        ],
    ]
    full = FullDocument(body=body, subject=Subject("entity", "9999", 7))
    assert _text(_redacted(full)) == (
        """Registrar: Good Registrar
Street: Weg 1
Street: Haus 2
City: Bern
State/Province: BE
Postal Code: 3000
Country: CH
Phone Number: +41.311111111
Phone Ext: 7
Fax Number: +41.312222222
Email: info@registrar.example
Registrar WHOIS Server:
Registrar URL: https://registrar.example
Registrar IANA ID: 9999
Registrar Abuse Contact Email: abuse@registrar.example
Registrar Abuse Contact Phone: +41.310000000
>>> Last update of WHOIS database: 2026-03-01T12:00:00Z <<<

Terms of use.
"""
    )


def test_contact_lookups_are_not_port_43_answers() -> None:
    with pytest.raises(ValueError, match="entity"):
        RENDERER.render(redact(sample.entity_document(), Principal(), POLICY, now=sample.NOW))


def test_only_redacted_documents_are_rendered() -> None:
    with pytest.raises(TypeError):
        RENDERER.render(sample.domain_document())  # type: ignore[arg-type]


def test_errors_are_one_line() -> None:
    assert RENDERER.render_error(NotFound("no domain x.post in this registry")) == (
        b"Not Found: no domain x.post in this registry\r\n"
    )
    assert RENDERER.render_error(QueryError("bad\r\nname")) == b"Bad Request: bad  name\r\n"
