"""Visibility in SQL: the policy's show rules for one element as a WHERE condition, for searches.

A search that matches on a field policy may hide must never touch a value the caller may not
see: what it costs would tell what is hidden. So it asks the database only for rows where the
redaction engine would show the field, and this module writes that condition from the same
policy decision the engine makes (rdap.redaction.engine._decide): the element is shown when any
of the role's rules for it has all its conditions true. Each condition of the closed
vocabulary becomes SQL over the facts of the row:

    person = "legal"      the contact's person_kind
    consent = true        the contact's publish_consent names an EPP element that covers the
                          element's consent field (rdap.document.CONSENT_FIELDS)
    sponsor = true        the caller is a registrar and sponsors the object answered (a domain's
                          registrar for domain results, the contact's own for entity results)
    grant = true          an active grant of the caller names the element, for one of the
                          object's domains (and the stated purpose, if any)

The policy files stay the one place that decides; tests/test_visibility.py checks the SQL
against the engine for every role and every combination of facts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, literal, or_, select, true
from sqlalchemy import type_coerce as coerce
from sqlalchemy.dialects import postgresql

from rdap.document import CONSENT_FIELDS
from rdap.principal import REGISTRAR, Principal
from rdap.redaction import Policy
from rdap.redaction.policy import Rule

# The Rule fields this module turns into SQL (the engine's conditions); a new condition must be
# added here too, or every search fails closed (see `shown`).
CONDITIONS = ("person", "consent", "sponsor", "grant")


@dataclasses.dataclass(frozen=True)
class Facts:
    """Where the facts a rule reads are, as SQL expressions over the row being matched."""

    person_kind: Any
    consented: Callable[[str], ColumnElement[bool]]  # publish_consent covers this policy field
    sponsor_registrar: Any  # the registrar that sponsors the object answered
    in_domains: Callable[[Sequence[str]], ColumnElement[bool]]  # the object is one of theirs


def consent_values(field: str) -> tuple[str, ...]:
    """The publish_consent entries that cover a policy field (the inverse of
    rdap.document.consented_fields: `addr` covers street, city and postal code; an entry the
    table does not know covers the field of its own name)."""
    covering = {raw for raw, fields in CONSENT_FIELDS.items() if field in fields}
    if field not in CONSENT_FIELDS:
        covering.add(field)
    return tuple(sorted(covering))


def json_array_has_any(dialect: str, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """Does the JSON array in `column` hold any of `values`?"""
    if not values:
        return false()
    if dialect == "postgresql":
        contains: ColumnElement[bool] = coerce(column, postgresql.JSONB).has_any(
            postgresql.array(list(values))
        )
        return contains
    each = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value.in_(list(values))))


def consent_condition(
    dialect: str, publish_consent: Any, flags: Mapping[str, Any] | None = None
) -> Callable[[str], ColumnElement[bool]]:
    """`Facts.consented` for a contact: a boolean search column where there is one for the
    field (rdap.search_columns), else the JSON list itself."""

    def consented(field: str) -> ColumnElement[bool]:
        if flags and field in flags:
            flag: ColumnElement[bool] = flags[field] == true()
            return flag
        return json_array_has_any(dialect, publish_consent, consent_values(field))

    return consented


class Visibility:
    """For one caller at one moment: SQL that holds where policy shows an element."""

    def __init__(self, policy: Policy, principal: Principal, now: dt.datetime):
        self.policy = policy
        self.principal = principal
        self.now = now

    def shown(self, element_id: str, facts: Facts) -> ColumnElement[bool]:
        """SQL true exactly where the redaction engine would show `element_id`."""
        alternatives = self.alternatives(element_id, facts)
        return or_(*alternatives) if alternatives else false()

    def alternatives(self, element_id: str, facts: Facts) -> list[ColumnElement[bool]]:
        """One condition per rule that can show `element_id` to this caller (none: it is never
        shown). A search runs one branch per condition, each answerable from one index whose
        leading columns are the condition's facts, so it reads no entry of a hidden row."""
        plan = self.policy.element_plan(self.principal.role, element_id)
        if not plan.element.personal:
            return [true()]
        return [
            condition
            for rule in plan.rules
            if (condition := self._rule(rule, element_id, plan.element.consent, facts)) is not None
        ]

    def _rule(
        self, rule: Rule, element_id: str, consent_field: str | None, facts: Facts
    ) -> ColumnElement[bool] | None:
        """A rule's conditions, all of them; None when one can never hold for this caller."""
        conditions: list[ColumnElement[bool]] = []
        if rule.person is not None:
            conditions.append(facts.person_kind == rule.person)
        if rule.consent:
            if consent_field is None:
                return None
            conditions.append(facts.consented(consent_field))
        if rule.sponsor:
            registrar_id = self.principal.registrar_id
            if self.principal.role != REGISTRAR or registrar_id is None:
                return None
            conditions.append(facts.sponsor_registrar == registrar_id)
        if rule.grant:
            domains = self._granted_domains(element_id)
            if not domains:
                return None
            conditions.append(facts.in_domains(domains))
        return and_(*conditions) if conditions else true()

    def _granted_domains(self, element_id: str) -> list[str]:
        """Domains for which an active grant of the caller names this element (the engine's
        `_granted`, turned around)."""
        purpose = self.principal.purpose
        return sorted(
            {
                grant.domain
                for grant in self.principal.grants
                if grant.active(self.now)
                and (purpose is None or grant.purpose == purpose)
                and element_id in grant.elements
            }
        )
