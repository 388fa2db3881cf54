"""Runs every case in policies/cases/: (principal, registration facts) → shown / redacted ids."""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from pathlib import Path
from typing import Any

import pytest

from rdap.complaints import CONTACT_ROLES, REPORTER
from rdap.principal import PURPOSES, Grant, Principal
from rdap.redaction import contact_decisions, json_bytes, load_policy, redact
from rdap.settings import PROJECT_ROOT
from tests.redaction import sample

POLICIES = PROJECT_ROOT / "policies"
CASE_KEYS = {"id", "note", "principal", "person", "consent", "lookup", "shown", "redacted"}
PRINCIPAL_KEYS = {"role", "registrar", "purpose", "grants"}
GRANT_KEYS = {"elements", "domain", "purpose", "expired"}
# Grants are for RFC 9560 purposes (rdap.principal.PURPOSES), as production creates them.
DEFAULT_PURPOSE = {"law-enforcement": "criminalInvestigationAndDNSAbuseMitigation"}


def _cases() -> list[Any]:
    params = []
    for path in sorted((POLICIES / "cases").glob("*.toml")):
        for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
            params.append(pytest.param(case, id=f"{path.stem}:{case['id']}"))
    return params


CASES = _cases()


@pytest.fixture(scope="module")
def policy():  # type: ignore[no-untyped-def]
    return load_policy(POLICIES)


def _principal(spec: dict[str, Any]) -> Principal:
    assert set(spec) <= PRINCIPAL_KEYS, f"unknown principal keys {set(spec) - PRINCIPAL_KEYS}"
    role = spec["role"]
    registrar_id = {"own": sample.SPONSOR_ID, "other": sample.OTHER_REGISTRAR_ID, None: None}[
        spec.get("registrar")
    ]
    grants = []
    stated = spec.get("purpose")
    assert stated is None or stated in PURPOSES, f"{stated!r} is not an RFC 9560 purpose"
    # Production loads grants only for a query that states a purpose (rdap.lookup).
    assert stated is not None or not spec.get("grants"), "a principal with grants states a purpose"
    for n, grant in enumerate(spec.get("grants", [])):
        assert set(grant) <= GRANT_KEYS, f"unknown grant keys {set(grant) - GRANT_KEYS}"
        assert grant.get("purpose", "legalActions") in PURPOSES
        delta = dt.timedelta(days=-1 if grant.get("expired") else 30)
        grants.append(
            Grant(
                grant_id=f"G{n}",
                domain="other.post" if grant.get("domain") == "other" else sample.DOMAIN,
                elements=frozenset(grant["elements"]),
                purpose=grant.get("purpose", DEFAULT_PURPOSE.get(role, "legalActions")),
                expires_at=sample.NOW + delta,
            )
        )
    return Principal(
        role=role, registrar_id=registrar_id, purpose=spec.get("purpose"), grants=tuple(grants)
    )


def _expected(element_id: str, case: dict[str, Any]) -> bool:
    shown = any(fnmatch.fnmatchcase(element_id, p) for p in case["shown"])
    hidden = any(fnmatch.fnmatchcase(element_id, p) for p in case["redacted"])
    assert shown != hidden, f"{element_id} must match exactly one of shown / redacted"
    return shown


def _complaint_decisions(case: dict[str, Any], policy) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A complaint routed to the sponsor: the decisions rdap.complaints takes (contacts' facts
    not looked up, so `person` is not part of a complaint case)."""
    assert "person" not in case
    assert "consent" not in case
    principal = _principal(case["principal"])
    return {
        element_id: decision
        for role in (*CONTACT_ROLES, REPORTER)
        for element_id, decision in contact_decisions(
            policy,
            principal,
            role,
            registrar_id=sample.SPONSOR_ID,
            person_kind=None,
            domain=sample.DOMAIN,
            now=sample.NOW,
        ).items()
    }


@pytest.mark.parametrize("case", CASES)
def test_case(case: dict[str, Any], policy) -> None:  # type: ignore[no-untyped-def]
    assert set(case) <= CASE_KEYS, f"unknown case keys {set(case) - CASE_KEYS}"
    assert case["note"].strip()
    if case.get("lookup") == "complaint":
        decisions = _complaint_decisions(case, policy)
        wrong = {e: d for e, d in decisions.items() if d.shown != _expected(e, case)}
        assert not wrong, f"decisions differ from the case: {wrong}"
        return
    consent = frozenset(case.get("consent", []))
    if case.get("lookup", "domain") == "entity":
        document = sample.entity_document(person_kind=case["person"], consent=consent)
    else:
        document = sample.domain_document(person_kind=case["person"], consent=consent)
    principal = _principal(case["principal"])

    result = redact(document, principal, policy, now=sample.NOW, contact_uri="https://x/form")

    wrong = {
        element_id: decision
        for element_id, decision in result.decisions.items()
        if decision.shown != _expected(element_id, case)
    }
    assert not wrong, f"decisions differ from the case: {wrong}"
    # Whatever is redacted must not appear in the output, whatever the case.
    text = json_bytes(result.body).decode()
    for facts in document.entities:
        entity = next(iter(_entities(document.body, facts.path)))
        for field, values in sample.personal_values(entity).items():
            if not result.decisions[f"{facts.role}.{field}"].shown:
                for value in values:
                    assert value not in text, f"{facts.role}.{field} leaked: {value}"


def _entities(body: dict[str, Any], path: str) -> list[dict[str, Any]]:
    if path == "$":
        return [body]
    role = path.split("'")[1]
    return [e for e in body["entities"] if e.get("roles") == [role]]


def test_every_role_has_cases() -> None:
    roles = {case.values[0]["principal"]["role"] for case in CASES}  # type: ignore[index]
    assert roles == {"public", "registrar", "requester", "law-enforcement", "staff"}


def test_cases_directory_is_not_a_role_file(policy) -> None:  # type: ignore[no-untyped-def]
    assert all(not name.startswith("cases") for name in policy.revisions)
    assert Path(POLICIES / "cases").is_dir()
