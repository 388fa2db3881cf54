"""Accuracy checks: contact and domain records → findings (WAPS §1 validation and verification)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import tomllib
from pathlib import Path

from rdap.records import ContactRecord, DomainRecord

DATA = Path(__file__).resolve().parent / "data"

# WAPS §1: validate and verify within fifteen days of registration, transfer or change.
VERIFICATION_WINDOW = dt.timedelta(days=15)

# The closed set of finding codes.
MISSING = "missing"
EMAIL_SYNTAX = "email_syntax"
PHONE_NOT_E164 = "phone_not_e164"
COUNTRY_UNKNOWN = "country_unknown"
POSTAL_CODE_FORMAT = "postal_code_format"
VERIFICATION_STALE = "verification_stale"
VERIFICATION_FAILED = "verification_failed"
CODES = frozenset(
    {
        MISSING,
        EMAIL_SYNTAX,
        PHONE_NOT_E164,
        COUNTRY_UNKNOWN,
        POSTAL_CODE_FORMAT,
        VERIFICATION_STALE,
        VERIFICATION_FAILED,
    }
)

# Domain contact roles in document order (RDAP entity roles, RFC 9083 §10.2.4).
ROLES = ("registrant", "administrative", "technical", "billing")
_ROLE_OF_TYPE = {"admin": "administrative", "tech": "technical", "billing": "billing"}


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One accuracy problem of one field. `message` never repeats the field's value."""

    field: str
    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")

    def line(self) -> str:
        return f"{self.field}: {self.code} — {self.message}"


@dataclasses.dataclass(frozen=True, slots=True)
class ContactCheck:
    """The findings for one contact in one role of a domain."""

    role: str
    contact: ContactRecord
    findings: tuple[Finding, ...]


# --- reference data -----------------------------------------------------------------------------


@functools.cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes from rdap/data/iso3166.txt."""
    lines = (DATA / "iso3166.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(s for s in (line.strip() for line in lines) if s and not s.startswith("#"))


@functools.cache
def postal_patterns() -> dict[str, re.Pattern[str]]:
    """Postal-code patterns per country from rdap/data/postal_codes.toml (whole-value match)."""
    data = tomllib.loads((DATA / "postal_codes.toml").read_text(encoding="utf-8"))
    return {cc: re.compile(f"(?:{pattern})", re.ASCII) for cc, pattern in data["patterns"].items()}


# --- syntax checks ------------------------------------------------------------------------------

# RFC 5322 §3.2.3 atext, extended by RFC 6532 §3.2 with any non-ASCII character (UTF8-non-ascii).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_ADDR_SPEC = re.compile(rf"{_DOT_ATOM}@{_DOT_ATOM}")
# RFC 5321 §4.5.3.1: local part at most 64 octets, a path at most 256 (254 for the address).
_MAX_LOCAL = 64
_MAX_ADDRESS = 254


def email_ok(value: str) -> bool:
    """An RFC 5322 addr-spec with dot-atom local part and domain (no quoted strings, no
    domain literals, no comments), within the RFC 5321 length limits."""
    if not _ADDR_SPEC.fullmatch(value):
        return False
    local = value.rsplit("@", 1)[0]
    return len(local.encode()) <= _MAX_LOCAL and len(value.encode()) <= _MAX_ADDRESS


# EPP (RFC 5733 §2.5) phone form of E.164: "+CC.NNNN", at most 15 digits in all (ITU-T E.164).
_E164 = re.compile(r"\+([0-9]{1,3})\.([0-9]{1,14})", re.ASCII)
_MAX_E164_DIGITS = 15


def phone_ok(value: str) -> bool:
    match = _E164.fullmatch(value)
    return match is not None and len(match[1]) + len(match[2]) <= _MAX_E164_DIGITS


def country_ok(value: str) -> bool:
    return value in country_codes()


def postal_code_ok(country: str, value: str) -> bool:
    """True when the country has no known format, or the code matches it."""
    pattern = postal_patterns().get(country.upper())
    return pattern is None or pattern.fullmatch(value.strip().upper()) is not None


# --- contact and domain checks -------------------------------------------------------------------


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _presence(contact: ContactRecord) -> list[Finding]:
    postal = contact.preferred_postal
    required: dict[str, bool] = {
        "name": postal is not None and not _blank(postal.name),
        "street": postal is not None and any(not _blank(line) for line in postal.street),
        "city": postal is not None and not _blank(postal.city),
        "country": postal is not None and not _blank(postal.country),
        "voice": not _blank(contact.voice),
        "email": not _blank(contact.email),
    }
    if contact.person_kind == "legal":
        required["org"] = postal is not None and not _blank(postal.org)
    if postal is not None and postal.country and postal.country.upper() in postal_patterns():
        required["postal_code"] = not _blank(postal.postal_code)
    return [
        Finding(name, MISSING, "required field is empty")
        for name, present in required.items()
        if not present
    ]


def _formats(contact: ContactRecord) -> list[Finding]:
    findings: list[Finding] = []
    if contact.email and not email_ok(contact.email):
        findings.append(Finding("email", EMAIL_SYNTAX, "not an RFC 5322 address (addr-spec)"))
    for name, number in (("voice", contact.voice), ("fax", contact.fax)):
        if number and not phone_ok(number):
            findings.append(
                Finding(name, PHONE_NOT_E164, "not in E.164 form +CC.NNNN (at most 15 digits)")
            )
    postal = contact.preferred_postal
    if postal is not None and postal.country:
        if not country_ok(postal.country):
            findings.append(
                Finding("country", COUNTRY_UNKNOWN, "not an ISO 3166-1 alpha-2 country code")
            )
        elif postal.postal_code and not postal_code_ok(postal.country, postal.postal_code):
            findings.append(
                Finding("postal_code", POSTAL_CODE_FORMAT, "does not match the country's format")
            )
    return findings


def last_change(contact: ContactRecord) -> dt.datetime | None:
    """When the data was last provided: creation, last update or transfer, whichever is latest."""
    moments = [m for m in (contact.created_at, contact.updated_at, contact.transferred_at) if m]
    return max(moments) if moments else None


def verified(contact: ContactRecord) -> bool:
    """Verified, with a date, and not changed since (a change restarts the WAPS clock)."""
    changed = last_change(contact)
    return (
        contact.verification_status == "verified"
        and contact.verified_at is not None
        and (changed is None or contact.verified_at >= changed)
    )


def verification_due(contact: ContactRecord) -> dt.datetime | None:
    """The WAPS deadline for verifying the current data (None: no date to count from)."""
    changed = last_change(contact)
    return changed + VERIFICATION_WINDOW if changed is not None else None


def _verification(contact: ContactRecord, now: dt.datetime) -> list[Finding]:
    if contact.verification_status == "failed":
        return [Finding("verification", VERIFICATION_FAILED, "verification of the contact failed")]
    if verified(contact):
        return []
    due = verification_due(contact)
    if due is None or now > due:
        return [
            Finding(
                "verification",
                VERIFICATION_STALE,
                "not verified within 15 days of registration, transfer or change (WAPS §1)",
            )
        ]
    return []


def check_contact(contact: ContactRecord, *, now: dt.datetime) -> tuple[Finding, ...]:
    """Every finding for one contact: presence, formats, then verification."""
    return (*_presence(contact), *_formats(contact), *_verification(contact, now))


def check_domain(domain: DomainRecord, *, now: dt.datetime) -> tuple[ContactCheck, ...]:
    """Findings per contact role, registrant first; one entry per role and contact."""
    pairs: list[tuple[str, ContactRecord]] = []
    if domain.registrant is not None:
        pairs.append(("registrant", domain.registrant))
    for contact_type, contact in domain.contacts:
        role = _ROLE_OF_TYPE.get(contact_type)
        if role is not None and (role, contact.id) not in {(r, c.id) for r, c in pairs}:
            pairs.append((role, contact))
    pairs.sort(key=lambda pair: ROLES.index(pair[0]))  # stable: keeps order within a role
    return tuple(ContactCheck(role, c, check_contact(c, now=now)) for role, c in pairs)
