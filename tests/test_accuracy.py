"""Accuracy checks: each check with good and bad values, stale verification, per-role findings."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from rdap import accuracy, create_app
from rdap.accuracy import Finding, check_contact, check_domain
from rdap.db import Database
from rdap.models import Registrar
from rdap.records import ContactRecord, DomainRecord, PostalRecord, RegistrarRecord
from rdap.settings import Settings
from tests import factories
from tests.registrar_api import Tokens, bearer, documented, domain_with_bad_email, policy_variant

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def postal(**overrides: Any) -> PostalRecord:
    values: dict[str, Any] = {
        "type": "int",
        "name": "Ada Lovelace",
        "org": "Example Post Ltd",
        "street": ("1 Post Road",),
        "city": "Geneva",
        "state": "GE",
        "postal_code": "1201",
        "country": "CH",
    }
    values.update(overrides)
    return PostalRecord(**values)


def contact(postal_info: PostalRecord | None = None, **overrides: Any) -> ContactRecord:
    values: dict[str, Any] = {
        "id": 1,
        "handle": "C1-POST",
        "roid": "C1-POST",
        "registrar_id": 1,
        "statuses": ("ok",),
        "voice": "+41.225551234",
        "voice_ext": None,
        "fax": None,
        "fax_ext": None,
        "email": "ada@mail.example",
        "created_at": NOW - dt.timedelta(days=100),
        "updated_at": NOW - dt.timedelta(days=50),
        "transferred_at": None,
        "person_kind": "natural",
        "publish_consent": frozenset(),
        "verification_status": "verified",
        "verified_at": NOW - dt.timedelta(days=40),
        "verification_method": "email",
        "community_id": None,
        "eligibility_verified_at": None,
        "registrant_group": None,
        "postal": (postal_info or postal(),),
    }
    values.update(overrides)
    return ContactRecord(**values)


def codes(findings: tuple[Finding, ...]) -> set[tuple[str, str]]:
    return {(f.field, f.code) for f in findings}


def test_a_clean_contact_has_no_findings() -> None:
    assert check_contact(contact(), now=NOW) == ()


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("ada@mail.example", True),
        ("first.last+tag@sub.mail.example", True),
        ("o'neil!#$%&*/=?^_`{|}~-@x.example", True),
        ("user@localhost", True),  # dot-atom domain: RFC 5322 does not require a dot
        ("jörg@bücher.example", True),  # RFC 6532 UTF-8 atext
        ("a" * 64 + "@x.example", True),
        ("a" * 65 + "@x.example", False),  # local part > 64 octets (RFC 5321)
        ("a@" + "b" * 250 + ".ex", False),  # address > 254 octets
        ("plainaddress", False),
        ("@mail.example", False),
        ("ada@", False),
        ("ada@@mail.example", False),
        ("a..b@mail.example", False),
        (".ada@mail.example", False),
        ("ada.@mail.example", False),
        ("ada@mail..example", False),
        ('"quoted"@mail.example', False),  # quoted local parts are not accepted
        ("ada@[192.0.2.1]", False),  # nor domain literals
        ("ada lovelace@mail.example", False),
        ("ada@mail.example\r\nBcc: x@y", False),
        ("ada(comment)@mail.example", False),
    ],
)
def test_email_syntax(value: str, ok: bool) -> None:
    assert accuracy.email_ok(value) is ok
    found = codes(check_contact(contact(email=value), now=NOW))
    assert (("email", "email_syntax") in found) is not ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("+41.225551234", True),
        ("+1.2025550123", True),
        ("+886.212345678", True),
        ("+1.12345678901234", True),  # 15 digits
        ("+41.1234567890123", True),  # 15 digits
        ("+41.12345678901234", False),  # 16 digits
        ("+1234.5678", False),  # country code > 3 digits
        ("41.225551234", False),
        ("+41225551234", False),
        ("+41 22 555 12 34", False),
        ("+41.22-555-1234", False),
        ("+41.", False),
        ("+.225551234", False),
        ("+41.२२५५५", False),  # non-ASCII digits
        ("tel:+41.225551234", False),
    ],
)
def test_phone_e164(value: str, ok: bool) -> None:
    assert accuracy.phone_ok(value) is ok
    found = codes(check_contact(contact(voice=value, fax=value), now=NOW))
    assert (("voice", "phone_not_e164") in found) is not ok
    assert (("fax", "phone_not_e164") in found) is not ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("CH", True), ("DE", True), ("US", True), ("AX", True), ("SS", True), ("XK", False),
     ("UK", False), ("EU", False), ("ZZ", False), ("ch", False), ("C1", False)],
)  # fmt: skip
def test_country_code(value: str, ok: bool) -> None:
    assert accuracy.country_ok(value) is ok
    found = codes(check_contact(contact(postal(country=value, postal_code=None)), now=NOW))
    assert (("country", "country_unknown") in found) is not ok


@pytest.mark.parametrize(
    ("country", "code", "ok"),
    [
        ("CH", "1201", True),
        ("CH", "12010", False),
        ("DE", "10115", True),
        ("DE", "1011", False),
        ("US", "20500", True),
        ("US", "20500-0003", True),
        ("US", "2050", False),
        ("GB", "SW1A 1AA", True),
        ("GB", "sw1a 1aa", True),  # compared upper-cased
        ("GB", "EC1A1BB", True),
        ("GB", "12345", False),
        ("CA", "K1A 0B1", True),
        ("CA", "D1A 0B1", False),
        ("NL", "1012 AB", True),
        ("NL", "AB 1012", False),
        ("PL", "00-950", True),
        ("PL", "00950", False),
        ("PT", "1000-001", True),
        ("JP", "100-0001", True),
        ("JP", "1000", False),
        ("BR", "01310-100", True),
        ("LV", "LV-1050", True),
        ("LV", "1050", False),
        ("FR", "75008", True),
        ("FR", "7500", False),
        ("CN", "100000", True),
        ("IN", "110 001", True),
        ("SE", "114 55", True),
        ("FR", "75008\n", True),  # surrounding white space is not a format error
        ("FR", "75008\nX", False),
        ("FR", "７５００８", False),  # full-width digits are not ASCII digits
        ("AQ", "anything", True),  # no postal system on file: not checked
        ("TV", "", True),
    ],
)
def test_postal_code_format(country: str, code: str, ok: bool) -> None:
    assert accuracy.postal_code_ok(country, code) is ok
    found = codes(check_contact(contact(postal(country=country, postal_code=code)), now=NOW))
    assert (("postal_code", "postal_code_format") in found) is not ok


def test_postal_code_list_covers_the_common_postal_systems() -> None:
    patterns = accuracy.postal_patterns()
    assert len(patterns) >= 40
    assert set(patterns) <= accuracy.country_codes()


def test_country_list_is_iso_3166_alpha_2() -> None:
    countries = accuracy.country_codes()
    assert len(countries) == 249
    assert all(len(c) == 2 and c.isascii() and c.isupper() for c in countries)


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("name", {"postal": postal(name="  ")}),
        ("name", {"postal": postal(name=None)}),
        ("street", {"postal": postal(street=())}),
        ("street", {"postal": postal(street=("", " "))}),
        ("city", {"postal": postal(city=None)}),
        ("country", {"postal": postal(country=None)}),
        ("postal_code", {"postal": postal(postal_code=None)}),  # CH has a postal system
        ("voice", {"voice": None}),
        ("voice", {"voice": ""}),
        ("email", {"email": None}),
        ("org", {"person_kind": "legal", "postal": postal(org=None)}),
    ],
)
def test_required_fields(field: str, change: dict[str, Any]) -> None:
    postal_info = change.pop("postal", None)
    found = codes(check_contact(contact(postal_info, **change), now=NOW))
    assert (field, "missing") in found


def test_required_fields_absent_without_postal_info() -> None:
    bare = dataclasses.replace(contact(), postal=())
    found = codes(check_contact(bare, now=NOW))
    assert {f for f, c in found if c == "missing"} == {"name", "street", "city", "country"}


def test_org_is_optional_for_natural_persons_and_postal_code_where_no_system() -> None:
    assert check_contact(contact(postal(org=None)), now=NOW) == ()
    assert check_contact(contact(postal(country="AQ", postal_code=None)), now=NOW) == ()
    assert check_contact(contact(person_kind="legal"), now=NOW) == ()


@pytest.mark.parametrize(
    ("overrides", "stale"),
    [
        # verified after the last change: fine, however long ago
        ({"verified_at": NOW - dt.timedelta(days=40)}, False),
        # changed after verification, still inside the 15-day window
        ({"updated_at": NOW - dt.timedelta(days=3)}, False),
        ({"updated_at": NOW - dt.timedelta(days=15)}, False),
        # changed after verification, window passed
        ({"updated_at": NOW - dt.timedelta(days=15, seconds=1)}, True),
        # never verified, created long ago
        ({"verification_status": "unverified", "verified_at": None}, True),
        ({"verification_status": "pending", "verified_at": None}, True),
        # never verified, created yesterday
        (
            {
                "verification_status": "pending",
                "verified_at": None,
                "created_at": NOW - dt.timedelta(days=1),
                "updated_at": None,
            },
            False,
        ),
        # a transfer restarts the clock
        ({"transferred_at": NOW - dt.timedelta(days=20)}, True),
        ({"transferred_at": NOW - dt.timedelta(days=2)}, False),
        # "verified" without a date proves nothing
        ({"verified_at": None}, True),
        # no dates at all and not verified: nothing to count from, so not shown as verified
        (
            {
                "verification_status": "unverified",
                "verified_at": None,
                "created_at": None,
                "updated_at": None,
            },
            True,
        ),
    ],
)
def test_stale_verification(overrides: dict[str, Any], stale: bool) -> None:
    found = codes(check_contact(contact(**overrides), now=NOW))
    assert (("verification", "verification_stale") in found) is stale


def test_failed_verification() -> None:
    found = check_contact(contact(verification_status="failed"), now=NOW)
    assert codes(found) == {("verification", "verification_failed")}


def test_finding_codes_are_a_closed_set() -> None:
    with pytest.raises(ValueError, match="unknown finding code"):
        Finding("email", "looks_odd", "x")


def test_messages_never_repeat_the_value() -> None:
    bad = contact(
        postal(country="GB", postal_code="SECRET-PC"),
        email="secret..value@x",
        voice="secret-voice",
    )
    findings = check_contact(bad, now=NOW)
    assert len(findings) == 3
    for finding in findings:
        assert "secret" not in finding.line().lower()


def _registrar() -> RegistrarRecord:
    return RegistrarRecord(
        id=1, client_id="reg", iana_id=9999, name="Reg", street=(), city=None, state=None,
        postal_code=None, country=None, voice=None, voice_ext=None, fax=None, fax_ext=None,
        email=None, url=None, whois_server=None, rdap_base_url=None, abuse_name=None,
        abuse_email=None, abuse_voice=None,
    )  # fmt: skip


def test_check_domain_reports_per_role() -> None:
    registrant = contact(id=1, handle="R-1", email="bad@@x")
    admin = contact(id=2, handle="A-1")
    tech = contact(id=3, handle="T-1", voice="0225551234")
    domain = DomainRecord(
        id=1, roid="D1", ldh_name="example.post", unicode_name=None, tld="post", statuses=(),
        created_at=None, expires_at=None, updated_at=None, transferred_at=None, idn_table=None,
        original_name=None, delegation_signed=True, max_sig_life=None, registrar=_registrar(),
        registrant=registrant,
        contacts=(("tech", tech), ("admin", admin), ("billing", admin), ("other", admin)),
        nameservers=(), ds_records=(), dns_keys=(),
    )  # fmt: skip
    checks = check_domain(domain, now=NOW)
    assert [(c.role, c.contact.handle) for c in checks] == [
        ("registrant", "R-1"),
        ("administrative", "A-1"),
        ("technical", "T-1"),
        ("billing", "A-1"),
    ]
    assert codes(checks[0].findings) == {("email", "email_syntax")}
    assert checks[1].findings == ()
    assert codes(checks[2].findings) == {("voice", "phone_not_e164")}


# --- the report shows what the policy files show ----------------------------------------------

Variant = Callable[..., FlaskClient]


@pytest.fixture
def variant(settings: Settings, tmp_path: Path) -> Iterator[Variant]:
    """variant(*hidden): the server with a registrar.toml that shows sponsors every contact
    element except those matching `hidden`."""
    apps = []

    def make(*hidden: str) -> FlaskClient:
        policies = policy_variant(tmp_path / f"policies-{len(apps)}", hidden=hidden)
        apps.append(create_app(dataclasses.replace(settings, policies_path=policies)))
        return apps[-1].test_client()

    yield make
    for app in apps:
        app.extensions["rdapd"].db.dispose()


def _removed(name: dict[str, str], path: str) -> dict[str, Any]:
    return {
        "name": name,
        "prePath": path,
        "pathLang": "jsonpath",
        "method": "removal",
        "reason": {"description": "Server policy"},
    }


def test_report_shows_what_the_policy_files_show(  # type: ignore[no-untyped-def]
    client, db: Database, registrar: Registrar, token_for, variant: Variant
) -> None:
    with db.session_scope() as session:
        own = session.get(Registrar, registrar.id)
        # every contact changed after its last verification: stale findings for each
        factories.full_domain(
            session, name="stale.post", registrar=own, registrant_kind="natural"
        )  # (a legal person's handle is public: it would be shown anyway)
        # only the registrant has a finding (its email)
        domain_with_bad_email(session, "bad.post", own)
    headers = bearer(Tokens(db, token_for)["own"])

    shipped = client.get("/registrar/accuracy", headers=headers).get_json()
    documented("AccuracyReport", shipped)
    assert [d["ldhName"] for d in shipped["domains"]] == ["bad.post", "stale.post"]
    assert "redacted" not in shipped

    # A registrar.toml without verification detail for sponsors: no finding is theirs to
    # see, so no domain is listed for one (a listing would tell that findings exist).
    hidden = variant("*.verification").get("/registrar/accuracy", headers=headers)
    assert hidden.status_code == 200
    assert hidden.get_json() == {"domains": [], "count": 0}
    documented("AccuracyReport", hidden.get_json())

    # Without the registrant's verification detail and handle: listed for the other contacts'
    # findings; the registrant's part left out and declared as RDAP answers declare it.
    response = variant("registrant.verification", "registrant.handle").get(
        "/registrar/accuracy", headers=headers
    )
    body = response.get_json()
    documented("AccuracyReport", body)
    assert [d["ldhName"] for d in body["domains"]] == ["stale.post"]  # bad.post: registrant only
    registrant, *others = body["domains"][0]["contacts"]
    assert registrant == {"role": "registrant"}
    assert [c["role"] for c in others] == ["administrative", "technical"]
    for contact in others:
        assert contact["handle"]
        assert contact["findings"][0]["code"] == "verification_stale"
    at = "$.domains[0].contacts[0]"
    assert body["redacted"] == [
        _removed({"type": "Registry Registrant ID"}, f"{at}.handle"),
        *(
            _removed({"description": "Registrant Verification"}, f"{at}.{member}")
            for member in ("verificationStatus", "verifiedAt", "verificationDueBy", "findings")
        ),
    ]
    assert b"email_syntax" not in response.data
