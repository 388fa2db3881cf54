"""The engine on a full sample domain: nothing hidden leaks, every redaction is declared."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any

import orjson
import pytest

from rdap.document import EntityFacts, FullDocument, Subject
from rdap.principal import Grant, Principal
from rdap.redaction import (
    RedactedDocument,
    contact_decisions,
    json_bytes,
    load_policy,
    redact,
    removal_declaration,
)
from rdap.redaction.jsonpath import parse
from rdap.redaction.policy import parse_policy
from rdap.settings import PROJECT_ROOT
from tests.redaction import sample

POLICY = load_policy(PROJECT_ROOT / "policies")
FORM = "https://rdap.example/contact?domain=example.post&role={role}"
ICANN_METHODS = {  # icann-conformance.md, Redaction
    "Registry Registrant ID": "removal",
    "Registrant Name": "emptyValue",
    "Registrant Organization": "removal",
    "Registrant Street": "emptyValue",
    "Registrant City": "emptyValue",
    "Registrant Postal Code": "emptyValue",
    "Registrant Phone": "removal",
    "Registrant Phone Ext": "removal",
    "Registrant Fax": "removal",
    "Registrant Fax Ext": "removal",
    "Registrant Email": "removal",
    "Registry Tech ID": "removal",
    "Tech Name": "emptyValue",
    "Tech Phone": "removal",
    "Tech Email": "removal",
}


def run(
    document: FullDocument | None = None, principal: Principal | None = None, **kw: Any
) -> RedactedDocument:
    document = document or sample.domain_document()
    return redact(document, principal or Principal(), POLICY, now=sample.NOW, **kw)


def _text(value: Any) -> str:
    return json_bytes(value).decode()


def _plain(result: RedactedDocument) -> Any:
    """The body as plain JSON (for the JSONPath evaluator, which reads dicts and lists)."""
    return orjson.loads(json_bytes(result.body))


def _wrapped(view: Any) -> Any:
    """The container a read-only view wraps (its private member: these tests are about what
    is shared, not copied)."""
    return view._data


def _name(entry: Any) -> str:
    return str(entry["name"].get("type") or entry["name"]["description"])


def _by_name(result: RedactedDocument) -> dict[str, Any]:
    return {_name(entry): entry for entry in result.redacted}


@pytest.mark.parametrize("kind", ["natural", "legal"])
def test_no_redacted_value_appears_anywhere(kind: str) -> None:
    document = sample.domain_document(person_kind=kind)
    result = run(document, contact_uri=FORM)
    text = _text(result.body) + _text(result.redacted)
    hidden = 0
    for facts, entity in zip(document.entities, document.body["entities"][1:], strict=True):
        for field, values in sample.personal_values(entity).items():
            if not result.decisions[f"{facts.role}.{field}"].shown:
                for value in values:
                    hidden += 1
                    assert value not in text, f"{facts.role}.{field}: {value!r} leaked"
    assert hidden > 30


@pytest.mark.parametrize("kind", ["natural", "legal"])
def test_every_redaction_is_declared_and_its_path_resolves(kind: str) -> None:
    result = run(sample.domain_document(person_kind=kind), contact_uri=FORM)
    declared = _by_name(result)
    hidden = {e for e, d in result.decisions.items() if not d.shown}
    assert len(declared) == len(result.redacted)  # one entry per element
    assert {POLICY.elements[e].name for e in hidden} == set(declared)
    for entry in result.redacted:
        assert entry["pathLang"] == "jsonpath"
        assert entry["reason"]["description"]
        if entry["method"] == "emptyValue":
            assert "prePath" not in entry
            assert parse(entry["postPath"]).values(_plain(result)) == [""]
        else:
            assert entry["method"] == "removal"
            assert "postPath" not in entry
            assert parse(entry["prePath"]).values(_plain(result)) == []
    for name, method in ICANN_METHODS.items():
        if name in declared:
            assert declared[name]["method"] == method, name


def test_icann_names_and_paths_for_a_natural_registrant() -> None:
    declared = _by_name(run())
    registrant = "$.entities[?(@.roles[0]=='registrant')]"
    assert declared["Registrant Name"] == {
        "name": {"type": "Registrant Name"},
        "postPath": registrant + ".vcardArray[1][?(@[0]=='fn')][3]",
        "pathLang": "jsonpath",
        "method": "emptyValue",
        "reason": {"description": "Personal data (GDPR / Registration Data Policy)"},
    }
    assert declared["Registry Registrant ID"]["prePath"] == registrant + ".handle"
    assert declared["Registrant Email"]["prePath"] == (
        registrant + ".vcardArray[1][?(@[0]=='email')]"
    )
    assert set(ICANN_METHODS) <= set(declared)
    # Names the IANA registry does not hold are descriptions, not types.
    assert declared["Admin Email"]["name"] == {"description": "Admin Email"}
    assert declared["Tech Street"]["name"] == {"description": "Tech Street"}
    assert declared["Tech Email"]["name"] == {"type": "Tech Email"}


def test_legal_person_organisation_is_published_and_not_declared() -> None:
    result = run(sample.domain_document(person_kind="legal"))
    declared = _by_name(result)
    for label in ("Registrant", "Admin", "Tech", "Billing"):
        for field in ("Organization", "Phone", "Phone Ext", "State/Province", "Country"):
            assert f"{label} {field}" not in declared
    registrant = result.body["entities"][1]
    props = {p[0]: p for p in registrant["vcardArray"][1]}
    assert props["org"][3] == "Org1 registrant Post"
    assert props["tel"][3] == "tel:+41.31123451;ext=8181"
    assert props["adr"][1] == {"cc": "CH"}
    assert props["adr"][3] == ["", "", "", "", "BE", "", ""]
    assert registrant["handle"] == "C1001-POST"


def test_contact_uri_replaces_a_hidden_email() -> None:
    result = run(contact_uri=FORM)
    for entity, role in zip(result.body["entities"][1:], sample.CONTACT_ROLES, strict=True):
        props = entity["vcardArray"][1]
        assert not [p for p in props if p[0] == "email"]
        uri = f"https://rdap.example/contact?domain=example.post&role={role}"
        assert props[-1] == ["contact-uri", {}, "uri", uri]


def test_no_contact_uri_without_a_form_or_when_the_email_is_shown() -> None:
    result = run()
    assert "contact-uri" not in _text(result.body)
    shown = run(sample.domain_document(consent=frozenset({"email"})), contact_uri=FORM)
    assert "contact-uri" not in _text(shown.body)
    assert "person1@registrant.example" in _text(shown.body)


def test_verification_remark_is_removed_with_an_empty_remarks_array() -> None:
    result = run()
    for entity in result.body["entities"][1:]:
        assert "remarks" not in entity
    document = sample.domain_document()
    document.body["entities"][1]["remarks"].append({"title": "Other", "description": ["x"]})
    kept = run(document).body["entities"][1]["remarks"]
    assert kept == [{"title": "Other", "description": ["x"]}]


def test_input_is_not_mutated_and_unchanged_parts_are_shared() -> None:
    document = sample.domain_document()
    before = copy.deepcopy(document.body)
    result = run(document, contact_uri=FORM)
    assert document.body == before
    assert _wrapped(result.body) is not document.body
    assert _wrapped(result.body["entities"][0]) is document.body["entities"][0]  # registrar
    assert _wrapped(result.body["events"]) is document.body["events"]


def test_non_contact_data_is_untouched() -> None:
    document = sample.domain_document()
    result = run(document)
    for key in ("handle", "ldhName", "status", "events", "nameservers", "secureDNS", "links"):
        assert result.body[key] == document.body[key]
    assert result.body["entities"][0] == sample.REGISTRAR_ENTITY


def test_redacted_document_cannot_be_built_elsewhere() -> None:
    result = run()
    with pytest.raises(TypeError, match=r"only by rdap\.redaction\.redact"):
        RedactedDocument(
            body={},
            redacted=(),
            decisions={},
            disclosed=frozenset(),
            policy_revision="x",
            subject=result.subject,
        )
    with pytest.raises(TypeError):
        RedactedDocument(  # type: ignore[call-arg]
            {}, (), {}, frozenset(), "x", result.subject, object()
        )
    with pytest.raises(AttributeError):
        result.body = {}  # type: ignore[misc]


def test_result_members() -> None:
    document = sample.domain_document()
    result = run(document)
    assert result.subject is document.subject
    assert result.policy_revision == "public.toml=2026-02-01.1;elements.toml=2026-12-05.1"
    assert result.disclosed == frozenset()
    assert len(result.decisions) == 4 * 14
    assert result.decisions["registrant.name"].rule == "fail-closed"
    assert result.decisions["registrant.state"].rule == "public-state-country"


def test_sponsoring_registrar_sees_everything_other_registrar_the_public_view() -> None:
    own = run(principal=Principal(role="registrar", registrar_id=sample.SPONSOR_ID))
    assert own.redacted == ()
    assert own.body == sample.domain_document().body
    assert {d.rule for d in own.decisions.values()} == {"registrar-own-object"}
    other = run(principal=Principal(role="registrar", registrar_id=sample.OTHER_REGISTRAR_ID))
    assert other.redacted == run().redacted
    unbound = run(principal=Principal(role="registrar"))
    assert unbound.redacted == run().redacted


def test_staff_sees_everything() -> None:
    result = run(principal=Principal(role="staff"))
    assert result.redacted == ()
    assert result.body == sample.domain_document().body


def _grant(elements: set[str], **kw: Any) -> Grant:
    values: dict[str, Any] = {
        "grant_id": "G1",
        "domain": sample.DOMAIN,
        "elements": frozenset(elements),
        "purpose": "legalActions",
        "expires_at": sample.NOW + dt.timedelta(days=1),
    }
    values.update(kw)
    return Grant(**values)


def test_a_grant_discloses_exactly_its_elements_and_records_them() -> None:
    principal = Principal(role="requester", grants=(_grant({"registrant.email"}),))
    result = run(principal=principal, contact_uri=FORM)
    assert result.disclosed == frozenset({"registrant.email"})
    assert result.decisions["registrant.email"].rule == "requester-grant"
    assert not result.decisions["registrant.phone"].shown
    declared = _by_name(result)
    assert "Registrant Email" not in declared
    assert "Registrant Phone" in declared
    text = _text(result.body)
    assert "person1@registrant.example" in text
    assert "person2@administrative.example" not in text
    # The email is shown, so no contact-uri is added to the registrant.
    assert "role=registrant" not in text
    assert "role=administrative" in text


def test_a_grant_for_something_public_anyway_is_not_a_disclosure() -> None:
    principal = Principal(role="requester", grants=(_grant({"registrant.org"}),))
    result = run(sample.domain_document(person_kind="legal"), principal)
    assert result.decisions["registrant.org"].rule == "public-legal-person"
    assert result.disclosed == frozenset()


@pytest.mark.parametrize(
    ("grant", "purpose"),
    [
        (_grant({"registrant.email"}, expires_at=sample.NOW), None),
        (_grant({"registrant.email"}, domain="other.post"), None),
        (_grant({"registrant.email"}), "criminalInvestigationAndDNSAbuseMitigation"),
    ],
    ids=["expired", "other-domain", "purpose-mismatch"],
)
def test_grants_that_do_not_apply(grant: Grant, purpose: str | None) -> None:
    principal = Principal(role="law-enforcement", purpose=purpose, grants=(grant,))
    result = run(principal=principal)
    assert not result.decisions["registrant.email"].shown
    assert result.disclosed == frozenset()
    assert result.redacted == run().redacted


def test_phone_shown_without_its_extension_is_a_partial_value() -> None:
    principal = Principal(role="requester", grants=(_grant({"registrant.phone"}),))
    result = run(principal=principal)
    declared = _by_name(result)
    ext = declared["Registrant Phone Ext"]
    assert ext["method"] == "partialValue"
    assert ext["postPath"] == (
        "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[1].type=='voice')][3]"
    )
    assert parse(ext["postPath"]).values(_plain(result)) == ["tel:+41.31123451"]
    assert "Registrant Phone" not in declared
    original = sample.domain_document().body["entities"][1]["vcardArray"][1][4]
    assert original[3] == "tel:+41.31123451;ext=8181"  # the input keeps its extension


def test_phone_without_extension_declares_no_extension() -> None:
    document = sample.domain_document()
    document.body["entities"][1]["vcardArray"][1][4][3] = "tel:+41.31123451;foo=bar"
    principal = Principal(role="requester", grants=(_grant({"registrant.phone"}),))
    result = run(document, principal)
    assert "Registrant Phone Ext" not in _by_name(result)
    assert parse(
        "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[1].type=='voice')][3]"
    ).values(_plain(result)) == ["tel:+41.31123451;foo=bar"]


def test_street_as_a_single_string_and_a_missing_address() -> None:
    document = sample.domain_document()
    registrant = document.body["entities"][1]["vcardArray"][1]
    registrant[3][3][2] = "Only Street 1"
    admin = document.body["entities"][2]["vcardArray"][1]
    del admin[3]  # no adr at all: nothing to empty, so nothing declared
    result = run(document)
    assert "Only Street 1" not in _text(result.body)
    declared = _by_name(result)
    assert declared["Registrant Street"]["method"] == "emptyValue"
    assert "Admin Street" not in declared
    assert "Admin City" not in declared


def test_entity_lookup_uses_the_root_path() -> None:
    result = run(sample.entity_document())
    declared = _by_name(result)
    assert declared["Contact Name"]["postPath"] == "$.vcardArray[1][?(@[0]=='fn')][3]"
    assert declared["Registry Contact ID"]["prePath"] == "$.handle"
    assert "handle" not in result.body
    assert result.body["vcardArray"][1][1] == ["fn", {}, "text", ""]


def test_document_without_contacts() -> None:
    body = {"objectClassName": "nameserver", "ldhName": "ns1.example.post"}
    document = FullDocument(body=body, subject=Subject("nameserver", "ns1.example.post", 7))
    result = run(document)
    assert result.body == body
    assert result.redacted == ()
    assert dict(result.decisions) == {}


def _with_facts(**changes: Any) -> FullDocument:
    document = sample.domain_document()
    facts = dataclasses.replace(document.entities[0], **changes)
    return dataclasses.replace(document, entities=(facts, *document.entities[1:]))


def test_unknown_person_kind_fails_closed() -> None:
    result = run(_with_facts(person_kind="unknown"))
    assert not result.decisions["registrant.org"].shown
    assert result.decisions["registrant.state"].shown


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"role": "reseller"}, "contact role 'reseller' is not in the element catalogue"),
        ({"path": "$.entities[?(@.roles[0]=='nobody')]"}, "selects 0 objects, not one"),
        ({"path": "$.entities"}, "does not select an object"),
        ({"path": "$.handle"}, "does not select an object"),
    ],
)
def test_inconsistent_facts_are_errors(changes: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run(_with_facts(**changes))


def test_odd_jcard_values_are_left_alone() -> None:
    document = sample.domain_document()
    document.body["entities"][1]["vcardArray"][1][4][3] = 5  # not a URI string
    document.body["entities"][2]["vcardArray"][1] = "broken"
    principal = Principal(role="requester", grants=(_grant({"registrant.phone"}),))
    result = run(document, principal, contact_uri=FORM)
    assert "Registrant Phone Ext" not in _by_name(result)
    assert result.body["entities"][2]["vcardArray"] == ["vcard", "broken"]


ROLE_NAMES = ("public", "registrar", "requester", "law-enforcement", "staff")
TEST_ELEMENTS = """
revision = "t1"
[roles.registrant]
label = "Registrant"
[fields.kind]
name = "{label} Kind"
path = "$.kind"
paths = { jscontact = "$.kind" }
method = "removal"
personal = false
reason = "n/a"
note = "not personal"
[fields.secret]
name = "{label} Secret"
path = "$.secret"
paths = { jscontact = "$.secret" }
method = "removal"
personal = true
reason = "Server policy"
note = "personal"
[fields.tagged]
name = "{label} Tagged"
path = "$.meta[?(@.t=='x')]"
paths = { jscontact = "$.meta[?(@.t=='x')]" }
method = "removal"
personal = true
reason = "Server policy"
note = "a filter over an object's members"
"""


def _test_policy(public_rules: str = ""):  # type: ignore[no-untyped-def]
    files = [(f"{r}.toml", f'revision = "r1"\nrole = "{r}"\n') for r in ROLE_NAMES]
    files[0] = ("public.toml", files[0][1] + public_rules)
    return parse_policy(("elements.toml", TEST_ELEMENTS), files)


def test_non_personal_elements_are_shown_without_a_rule() -> None:
    policy = _test_policy()
    body = {"entities": [{"roles": ["registrant"], "kind": "x", "secret": "s3cr3t"}]}
    facts = EntityFacts("$.entities[0]", "registrant", "H", "natural", frozenset(), 1)
    document = FullDocument(body, Subject("domain", "d.post", 1), (facts,))
    result = redact(document, Principal(), policy, now=sample.NOW)
    assert result.decisions["registrant.kind"].rule == "not-personal"
    assert result.body == {"entities": [{"roles": ["registrant"], "kind": "x"}]}
    assert result.redacted[0]["prePath"] == "$.entities[0].secret"


def test_filters_over_objects_and_entities_without_changes() -> None:
    policy = _test_policy(
        '[[show]]\nid = "legal"\nelements = ["*"]\nwhen = { person = "legal" }\nnote = "n"\n'
    )
    body: dict[str, Any] = {
        "entities": [
            {"roles": ["registrant"], "meta": {"a": {"t": "x"}, "b": {"t": "y"}}},
            {"roles": ["registrant"], "meta": "scalar"},
        ]
    }
    facts = (
        EntityFacts("$.entities[0]", "registrant", "H", "natural", frozenset(), 1),
        EntityFacts("$.entities[1]", "registrant", "H", "natural", frozenset(), 1),
    )
    result = redact(
        FullDocument(body, Subject("domain", "d.post", 1), facts),
        Principal(),
        policy,
        now=sample.NOW,
    )
    assert result.body["entities"][0]["meta"] == {"b": {"t": "y"}}
    assert result.body["entities"][1]["meta"] == "scalar"
    legal = (dataclasses.replace(facts[0], person_kind="legal"), facts[1])
    mixed = redact(
        FullDocument(body, Subject("domain", "d.post", 1), legal),
        Principal(),
        policy,
        now=sample.NOW,
    )
    assert _wrapped(mixed.body["entities"][0]) is body["entities"][0]  # nothing hidden: shared
    assert mixed.body["entities"][1] == {"roles": ["registrant"], "meta": "scalar"}


# --- decisions outside a document (accuracy report, complaints) ------------------------------

PRINCIPALS = [
    Principal(),
    Principal(role="registrar", registrar_id=sample.SPONSOR_ID),
    Principal(role="registrar", registrar_id=sample.OTHER_REGISTRAR_ID),
    Principal(role="requester", grants=(_grant({"registrant.email", "technical.name"}),)),
    Principal(role="staff"),
]


@pytest.mark.parametrize("kind", ["natural", "legal"])
@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p.role}-{p.registrar_id}")
def test_contact_decisions_are_those_of_a_redacted_document(
    kind: str, principal: Principal
) -> None:
    consent = frozenset({"email"})
    result = run(sample.domain_document(person_kind=kind, consent=consent), principal)
    for role in sample.CONTACT_ROLES:
        decided = contact_decisions(
            POLICY,
            principal,
            role,
            registrar_id=sample.SPONSOR_ID,
            person_kind=kind,
            consent=consent,
            domain=sample.DOMAIN,
            now=sample.NOW,
        )
        expected = {k: v for k, v in result.decisions.items() if k.startswith(f"{role}.")}
        assert dict(decided) == expected


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p.role}-{p.registrar_id}")
def test_unknown_facts_show_only_what_every_person_kind_shows(principal: Principal) -> None:
    def decided(kind: str | None) -> Any:
        return contact_decisions(
            POLICY,
            principal,
            "registrant",
            registrar_id=sample.SPONSOR_ID,
            person_kind=kind,
            domain=sample.DOMAIN,
            now=sample.NOW,
        )

    unknown, natural, legal = decided(None), decided("natural"), decided("legal")
    assert set(unknown) == set(natural) == set(legal)
    for element_id, decision in unknown.items():
        assert decision.shown == (natural[element_id].shown and legal[element_id].shown)
    if principal.role == "public":
        assert natural["registrant.state"].shown
        assert legal["registrant.org"].shown
        assert not unknown["registrant.org"].shown  # shown for legal persons only
        assert unknown["registrant.org"].rule == "fail-closed"


def test_removal_declaration_is_what_redact_declares() -> None:
    declared = _by_name(run())["Registry Registrant ID"]
    element = POLICY.elements["registrant.handle"]
    assert removal_declaration(element, declared["prePath"]) == declared
    assert removal_declaration(POLICY.elements["technical.verification"], "$.x") == {
        "name": {"description": "Tech Verification"},
        "prePath": "$.x",
        "pathLang": "jsonpath",
        "method": "removal",
        "reason": {"description": "Server policy"},
    }
