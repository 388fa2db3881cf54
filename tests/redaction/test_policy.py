"""Loading and validating the policy files: the real ones load; bad ones fail with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdap.principal import ROLES
from rdap.redaction import PolicyError, load_policy
from rdap.redaction.policy import parse_policy
from rdap.settings import PROJECT_ROOT

POLICIES = PROJECT_ROOT / "policies"
ELEMENTS = (POLICIES / "elements.toml").read_text(encoding="utf-8")
from rdap.redaction.policy import NOT_ROLE_FILES  # noqa: E402

ROLE_FILES = {
    p.name: p.read_text(encoding="utf-8")
    for p in sorted(POLICIES.glob("*.toml"))
    if p.name not in NOT_ROLE_FILES
}
PUBLIC = ROLE_FILES["public.toml"]


def _parse(elements: str = ELEMENTS, **files: str):  # type: ignore[no-untyped-def]
    role_files = {**ROLE_FILES, **{name.replace("_", ".", 1): t for name, t in files.items()}}
    return parse_policy(("elements.toml", elements), list(role_files.items()))


def _error(elements: str = ELEMENTS, **files: str) -> str:
    with pytest.raises(PolicyError) as info:
        _parse(elements, **files)
    return str(info.value)


def test_the_shipped_policy_loads() -> None:
    policy = load_policy(POLICIES)
    assert set(policy.plans) == set(ROLES)
    assert len(policy.elements) == 5 * 14 + 1  # the reporter of a complaint has an email only
    assert [e for e in policy.elements if e.startswith("reporter.")] == ["reporter.email"]
    assert policy.elements["reporter.email"].name == "Reporter Email"
    element = policy.elements["registrant.email"]
    assert element.name == "Registrant Email"
    assert element.registered
    assert not policy.elements["administrative.email"].registered
    assert policy.elements["technical.handle"].name == "Registry Tech ID"
    assert policy.elements["contact.phone_ext"].within == "contact.phone"
    assert policy.revisions["public.toml"] == "2026-02-01.1"
    plan = policy.plan("registrar")
    assert plan.revision == (
        "registrar.toml=2026-12-04.1;public.toml=2026-02-01.1;elements.toml=2026-12-05.1"
    )
    # Rules needing a grant are tried last, so nothing visible anyway is logged as disclosed.
    email = next(
        p
        for p in policy.plan("requester").by_contact_role["registrant"]
        if p.element.id == "registrant.email"
    )
    assert [r.id for r in email.rules] == ["public-consent", "requester-grant"]


def test_every_rule_has_an_id_and_a_note() -> None:
    policy = load_policy(POLICIES)
    for rules in policy.rules.values():
        for rule in rules:
            assert rule.id
            assert rule.note.strip()


def test_missing_catalogue(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="missing element catalogue"):
        load_policy(tmp_path)


def test_missing_role_file() -> None:
    files = [(n, t) for n, t in ROLE_FILES.items() if n != "staff.toml"]
    with pytest.raises(PolicyError, match=r"no policy file for role.*staff"):
        parse_policy(("elements.toml", ELEMENTS), files)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            (
                '[[show]]\nid = "public-state-country"',
                '[[show]]\nid = "x"\ncolour = "red"\n[[show]]\nid = "public-state-country"',
            ),
            "public.toml: rule x: note: Missing data for required field.; elements: Missing data "
            "for required field.; colour: Unknown field.",
        ),
        (
            ('when = { person = "legal" }', 'when = { person = "legal", weekday = "monday" }'),
            "public.toml: rule public-legal-person: when.weekday: Unknown field",
        ),
        (
            ('when = { person = "legal" }', 'when = { person = "robot" }'),
            "public.toml: rule public-legal-person: when.person: Must be one of: natural, legal",
        ),
        (
            ("when = { consent = true }", "when = { consent = false }"),
            "public.toml: rule public-consent: when.consent: only true",
        ),
        (
            ('elements = ["*.state", "*.country"]', 'elements = ["*.state", "registrant.shoe"]'),
            "public.toml: rule public-state-country: unknown element 'registrant.shoe'",
        ),
        (
            ('elements = ["*.state", "*.country"]', 'elements = ["registrar.state"]'),
            "unknown element 'registrar.state'",
        ),
        (
            ('elements = ["*.state", "*.country"]', 'elements = ["registrant"]'),
            "unknown element 'registrant'",
        ),
        (
            ('elements = ["*.state", "*.country"]', "elements = []"),
            "public-state-country: elements: Shorter than minimum length 1",
        ),
        (('role = "public"', 'role = "janitor"'), "public.toml: role: Must be one of"),
        (('role = "public"', 'role = "staff"'), "role 'staff' is already defined by"),
        (('revision = "2026-02-01.1"', ""), "public.toml: revision: Missing data"),
        (('id = "public-consent"', 'id = "public-legal-person"'), "duplicate rule id"),
        (('id = "public-consent"', 'id = "Public Consent"'), "id: must be lower-case"),
        (
            (
                'note = "State/province and country are published for every contact '
                '(Registration Data Policy)."',
                'note = ""',
            ),
            "public.toml: rule public-state-country: note: Shorter than minimum length 1",
        ),
        (('role = "public"', 'role = "public\n'), "public.toml: not valid TOML"),
    ],
)
def test_bad_public_file(edit: tuple[str, ...], message: str) -> None:
    old, new, *count = edit
    text = PUBLIC.replace(old, new, *count)
    assert text != PUBLIC
    assert message in _error(public_toml=text)


def test_show_must_be_a_list() -> None:
    text = PUBLIC.split("[[show]]")[0] + 'show = "x"\n'
    assert "public.toml: show: Not a valid list." in _error(public_toml=text)


def test_rule_that_is_not_a_table() -> None:
    text = PUBLIC.replace('role = "public"', 'role = "public"\nshow = ["x"]').split("[[show]]")[0]
    assert "public.toml: rule #1: a rule must be a table" in _error(public_toml=text)


def test_extends_unknown_role_and_loops() -> None:
    registrar = ROLE_FILES["registrar.toml"]
    assert "registrar.toml: extends: Must be one of" in _error(
        registrar_toml=registrar.replace('extends = "public"', 'extends = "nobody"')
    )
    looped = PUBLIC.replace('role = "public"', 'role = "public"\nextends = "registrar"')
    assert "`extends` loops: public -> registrar -> public" in _error(public_toml=looped)


def test_rule_id_repeated_in_an_extended_file() -> None:
    registrar = ROLE_FILES["registrar.toml"].replace("registrar-own-object", "public-consent")
    message = _error(registrar_toml=registrar)
    assert "registrar.toml: rule public-consent: id also used" in message


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('revision = "2026-12-05.1"\n', "", "elements.toml: revision: Missing data"),
        ('method = "emptyValue"', 'method = "blur"', "fields.name.method: Must be one of"),
        ("personal = true", 'personal = "yes"', "personal: Not a valid boolean"),
        ('path = "$.handle"', 'path = "handle"', "fields.handle: path 'handle' must start"),
        ('path = "$.handle"', 'path = "$"', "fields.handle: path must select something"),
        ('name = "{label} Name"', 'name = "Name"', "fields.name: name must contain {label}"),
        (
            'paths = { jscontact = "$.handle" }',
            "",
            "fields.handle: paths: no location in ['jscontact']",
        ),
        (
            'paths = { jscontact = "$.handle" }',
            'paths = { jscontact = "$.handle", xcard = "$.x" }',
            "fields.handle.paths",
        ),
        (
            'paths = { jscontact = "$.handle" }',
            'paths = { jscontact = "handle" }',
            "fields.handle.paths.jscontact: path 'handle' must start",
        ),
        ('within = "phone"', 'within = "telephone"', "part 'tel-ext' needs `within`"),
        ('part = "tel-ext"\nwithin = "phone"', 'within = "phone"', "`within` is only meaningful"),
        ('part = "tel-ext"', 'part = "tel-ext2"', "part: Must be one of"),
        (
            'registered = []\nnote = "Billing',
            'registered = ["shoe"]\nnote = "Billing',
            "roles.billing.registered: unknown field(s) ['shoe']",
        ),
        ("[roles.billing]", "[roles.Billing]", "roles.Billing.key: must be lower-case"),
        (
            'fields = ["email"]',
            'fields = ["email", "shoe"]',
            "roles.reporter.fields: unknown field(s) ['shoe']",
        ),
        (
            'fields = ["email"]\nregistered = []',
            'fields = ["email"]\nregistered = ["name"]',
            "roles.reporter.registered: not among its fields ['name']",
        ),
        (
            'fields = ["email"]',
            'fields = ["phone_ext"]',
            "roles.reporter.fields: phone_ext needs phone as well",
        ),
        ('fields = ["email"]', "fields = []", "roles.reporter.fields: Shorter than minimum"),
        ("[fields.handle]", "[fields.handle]\ncolour = 1", "fields.handle.colour: Unknown"),
    ],
)
def test_bad_catalogue(old: str, new: str, message: str) -> None:
    text = ELEMENTS.replace(old, new, 1)
    assert text != ELEMENTS
    assert message in _error(elements=text)
