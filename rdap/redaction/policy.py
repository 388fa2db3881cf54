"""Redaction policy: load and validate policies/*.toml into frozen rules and per-role plans."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from rdap import cards, principal
from rdap.redaction import jsonpath

ELEMENTS_FILE = "elements.toml"
# Policy files in the same directory that are not role files (read by other stages).
NOT_ROLE_FILES = frozenset({ELEMENTS_FILE, "searches.toml"})
METHODS = ("removal", "emptyValue")
PERSON_KINDS = ("natural", "legal")
PARTS = ("tel-ext",)
# Contact formats an answer can carry (rdap.cards) besides jCard, the default (`path`): each
# element names its location in each of them (elements.toml `paths`).
OTHER_CONTACT_FORMATS = tuple(f for f in cards.FORMATS if f != cards.JCARD)
FAIL_CLOSED = "fail-closed"
NOT_PERSONAL = "not-personal"
_ID = validate.Regexp(r"^[a-z0-9][a-z0-9-]*$", error="must be lower-case letters, digits, '-'")
_NAME = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="must be lower-case letters, digits, '_'")
_TEXT = validate.Length(min=1)


class PolicyError(ValueError):
    """A policy file is missing, malformed, or names something the vocabulary does not know."""


@dataclasses.dataclass(frozen=True)
class Element:
    """One redactable data element of one contact role, e.g. `registrant.email`."""

    id: str
    role: str  # contact role: registrant, administrative, technical, billing, contact
    field: str  # field name shared by all roles: name, email, ...
    name: str  # RFC 9537 redacted name, e.g. "Registrant Email"
    registered: bool  # name is in the IANA registry → name.type, else name.description
    path: jsonpath.JsonPath  # relative to the contact entity
    method: str  # removal | emptyValue
    personal: bool  # personal elements are redacted unless a show rule matches
    consent: str | None  # publish_consent field name that covers this element
    reason: str
    part: str | None = None  # "tel-ext": only the ;ext= parameter of the URI at `path`
    within: str | None = None  # element id whose value contains this one (for parts)
    contact_uri: bool = False  # when redacted, add a vCard contact-uri (RFC 8605) instead
    # Contact format (rdap.cards.FORMATS) → this element's path in answers of that format,
    # relative to the entity; `path` is its place in a jCard (the default format).
    paths: Mapping[str, jsonpath.JsonPath] = dataclasses.field(default_factory=dict)
    # Contact format → the path text after `$`, appended to the entity's path in redacted[].
    suffixes: Mapping[str, str] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        paths = {cards.JCARD: self.path, **self.paths}
        object.__setattr__(self, "paths", MappingProxyType(paths))
        suffixes = {name: str(path)[1:] for name, path in paths.items()}
        object.__setattr__(self, "suffixes", MappingProxyType(suffixes))


@dataclasses.dataclass(frozen=True)
class Rule:
    """A `[[show]]` rule: show `elements` when every condition in `when` holds."""

    id: str
    note: str
    elements: tuple[str, ...]  # expanded element ids
    person: str | None = None  # "natural" | "legal"
    consent: bool = False  # the element's consent field is in the contact's publish_consent
    sponsor: bool = False  # the caller is the object's sponsoring registrar
    grant: bool = False  # an active grant of the caller covers this element and domain


@dataclasses.dataclass(frozen=True)
class ElementPlan:
    """An element with the rules that can show it, grant-free rules first."""

    element: Element
    rules: tuple[Rule, ...]


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: a key of decision caches
class RolePlan:
    """Everything a principal role needs at request time, compiled at load."""

    role: str
    revision: str  # "<role file>=<revision>;elements.toml=<revision>"
    by_contact_role: Mapping[str, tuple[ElementPlan, ...]]


@dataclasses.dataclass(frozen=True)
class Policy:
    """The loaded policy: the element catalogue and one compiled plan per principal role."""

    elements: Mapping[str, Element]
    plans: Mapping[str, RolePlan]
    revisions: Mapping[str, str]  # file name → revision
    rules: Mapping[str, tuple[Rule, ...]]  # principal role → rules in file order
    _may_show: dict[tuple[str, str, bool], bool] = dataclasses.field(
        default_factory=dict, repr=False, compare=False
    )

    def plan(self, role: str) -> RolePlan:
        return self.plans[role]

    def element_plan(self, role: str, element_id: str) -> ElementPlan:
        """The element and the rules of `role` that can show it, in the order the engine tries
        them. Searches turn these into SQL, so they match only values the caller may see."""
        element = self.elements[element_id]
        for plan in self.plan(role).by_contact_role[element.role]:
            if plan.element.id == element_id:
                return plan
        raise KeyError(element_id)  # pragma: no cover - every element has a plan per role

    def may_show(self, role: str, field: str, *, sponsor: bool = True) -> bool:
        """Could any rule of `role` show `field` of some contact, for a caller who is (or, with
        sponsor=False, is not) the sponsoring registrar? False: always redacted.

        The document builder uses this to skip work whose result redaction would remove for
        every caller of the role; what `redacted[]` declares is the same either way, because
        removed elements are declared whether or not their value exists. An emptied element is
        declared only where its value exists, so a field with any emptyValue element counts as
        showable here: it is always built."""
        key = (role, field, sponsor)
        known = self._may_show.get(key)
        if known is None:
            known = any(
                not plan.element.personal
                or plan.element.method != "removal"
                or any(sponsor or not rule.sponsor for rule in plan.rules)
                for plans in self.plan(role).by_contact_role.values()
                for plan in plans
                if plan.element.field == field
            )
            self._may_show[key] = known
        return known


# ---- schemas ---------------------------------------------------------------------------------


class _ContactRoleSchema(Schema):
    label = fields.String(required=True, validate=_TEXT)
    registered = fields.List(fields.String(), load_default=list)
    # The fields this role has; every field when absent.
    fields_ = fields.List(
        fields.String(), data_key="fields", load_default=None, validate=validate.Length(min=1)
    )
    note = fields.String(load_default="")


class _FieldSchema(Schema):
    name = fields.String(required=True, validate=_TEXT)
    path = fields.String(required=True, validate=_TEXT)
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    personal = fields.Boolean(required=True, truthy={True}, falsy={False})
    consent = fields.String(load_default=None)
    reason = fields.String(required=True, validate=_TEXT)
    note = fields.String(required=True, validate=_TEXT)
    part = fields.String(load_default=None, validate=validate.OneOf(PARTS))
    within = fields.String(load_default=None)
    contact_uri = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    paths = fields.Dict(
        keys=fields.String(validate=validate.OneOf(OTHER_CONTACT_FORMATS)),
        values=fields.String(validate=_TEXT),
        load_default=dict,
    )


class _ElementsSchema(Schema):
    revision = fields.String(required=True, validate=_TEXT)
    roles = fields.Dict(
        keys=fields.String(validate=_NAME),
        values=fields.Nested(_ContactRoleSchema),
        required=True,
        validate=validate.Length(min=1),
    )
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(validate=_NAME),
        values=fields.Nested(_FieldSchema),
        required=True,
        validate=validate.Length(min=1),
    )


_TRUE = {"truthy": {True}, "falsy": {False}, "validate": validate.Equal(True, error="only true")}


class _WhenSchema(Schema):
    person = fields.String(validate=validate.OneOf(PERSON_KINDS))
    consent = fields.Boolean(**_TRUE)  # type: ignore[arg-type]
    sponsor = fields.Boolean(**_TRUE)  # type: ignore[arg-type]
    grant = fields.Boolean(**_TRUE)  # type: ignore[arg-type]


class _RuleSchema(Schema):
    id = fields.String(required=True, validate=_ID)
    note = fields.String(required=True, validate=_TEXT)
    elements = fields.List(fields.String(validate=_TEXT), required=True, validate=_TEXT)
    when = fields.Nested(_WhenSchema, load_default=dict)


class _RoleFileSchema(Schema):
    revision = fields.String(required=True, validate=_TEXT)
    role = fields.String(required=True, validate=validate.OneOf(principal.ROLES))
    description = fields.String(load_default="")
    extends = fields.String(load_default=None, validate=validate.OneOf(principal.ROLES))
    show = fields.List(fields.Raw(), load_default=list)


# ---- loading ---------------------------------------------------------------------------------


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Load `elements.toml` and every role file (`*.toml`) in the directory `path`."""
    directory = Path(path)
    catalogue = directory / ELEMENTS_FILE
    if not catalogue.is_file():
        raise PolicyError(f"{catalogue}: missing element catalogue")
    role_files = sorted(p for p in directory.glob("*.toml") if p.name not in NOT_ROLE_FILES)
    return parse_policy(
        (ELEMENTS_FILE, catalogue.read_text(encoding="utf-8")),
        [(p.name, p.read_text(encoding="utf-8")) for p in role_files],
    )


def parse_policy(elements: tuple[str, str], role_files: Iterable[tuple[str, str]]) -> Policy:
    """Build a Policy from (file name, TOML text) pairs: the catalogue and the role files."""
    elements_name, elements_text = elements
    data = _load(_ElementsSchema(), _toml(elements_name, elements_text), elements_name)
    catalogue = _catalogue(elements_name, data)
    revisions = {elements_name: data["revision"]}
    files: dict[str, _RoleFile] = {}
    for name, text in role_files:
        role_file = _load(_RoleFileSchema(), _toml(name, text), name)
        role = role_file["role"]
        if role in files:
            raise PolicyError(f"{name}: role {role!r} is already defined by {files[role].name}")
        own = _rules(name, role_file["show"], catalogue)
        files[role] = _RoleFile(name, role_file["revision"], role_file["extends"], own)
        revisions[name] = role_file["revision"]
    missing = [role for role in principal.ROLES if role not in files]
    if missing:
        raise PolicyError(f"no policy file for role(s) {', '.join(missing)}")
    rules: dict[str, tuple[Rule, ...]] = {}
    plans: dict[str, RolePlan] = {}
    for role in principal.ROLES:
        chain = _chain(role, files)
        role_rules = tuple(rule for link in chain for rule in files[link].rules)
        ids = [rule.id for rule in role_rules]
        duplicate = next((i for i in ids if ids.count(i) > 1), None)
        if duplicate:
            raise PolicyError(f"{files[role].name}: rule {duplicate}: id also used by {chain}")
        revision = ";".join(
            [f"{files[link].name}={files[link].revision}" for link in chain]
            + [f"{elements_name}={data['revision']}"]
        )
        rules[role] = role_rules
        plans[role] = _compile(role, revision, catalogue, role_rules)
    return Policy(
        elements=MappingProxyType(catalogue),
        plans=MappingProxyType(plans),
        revisions=MappingProxyType(revisions),
        rules=MappingProxyType(rules),
    )


@dataclasses.dataclass(frozen=True)
class _RoleFile:
    name: str
    revision: str
    extends: str | None
    rules: tuple[Rule, ...]


def _chain(role: str, files: Mapping[str, _RoleFile]) -> list[str]:
    """The role, then the role it extends, and so on."""
    chain = [role]
    while (parent := files[chain[-1]].extends) is not None:
        if parent in chain:
            raise PolicyError(
                f"{files[role].name}: `extends` loops: {' -> '.join([*chain, parent])}"
            )
        chain.append(parent)
    return chain


def _toml(name: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{name}: not valid TOML: {exc}") from None


def _load(schema: Schema, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    try:
        result: dict[str, Any] = schema.load(raw)
    except ValidationError as exc:
        raise PolicyError(f"{where}: {_flatten(exc.messages)}") from None
    return result


def _flatten(messages: Any, prefix: str = "") -> str:
    if isinstance(messages, dict):
        # marshmallow reports a Dict field's errors under "<key>.value"; "value" says nothing.
        return "; ".join(
            _flatten(v, prefix if k == "value" else f"{prefix}{k}.") for k, v in messages.items()
        )
    if isinstance(messages, list):
        return "; ".join(_flatten(m, prefix) for m in messages)
    return f"{prefix.rstrip('.')}: {messages}" if prefix else str(messages)


def _path(where: str, text: str) -> jsonpath.JsonPath:
    try:
        path = jsonpath.parse(text)
    except jsonpath.JsonPathError as exc:
        raise PolicyError(f"{where}: {exc}") from None
    if not path.steps:
        raise PolicyError(f"{where}: path must select something below the entity")
    return path


def _paths(where: str, others: Mapping[str, str]) -> dict[str, jsonpath.JsonPath]:
    """Contact format → the element's path in the formats other than jCard (`paths`)."""
    missing = sorted(set(OTHER_CONTACT_FORMATS) - set(others))
    if missing:
        raise PolicyError(f"{where}: paths: no location in {missing}")
    return {
        contact_format: _path(f"{where}.paths.{contact_format}", text)
        for contact_format, text in sorted(others.items())
    }


def _catalogue(file: str, data: Mapping[str, Any]) -> dict[str, Element]:
    roles: Mapping[str, Mapping[str, Any]] = data["roles"]
    specs: Mapping[str, Mapping[str, Any]] = data["fields_"]
    has: dict[str, set[str]] = {}
    for role, spec in roles.items():
        has[role] = set(specs) if spec["fields_"] is None else set(spec["fields_"])
        for key in ("fields_", "registered"):
            unknown = sorted(set(spec[key] or ()) - set(specs))
            if unknown:
                name = key.rstrip("_")
                raise PolicyError(f"{file}: roles.{role}.{name}: unknown field(s) {unknown}")
        missing = sorted(set(spec["registered"]) - has[role])
        if missing:
            raise PolicyError(f"{file}: roles.{role}.registered: not among its fields {missing}")
    catalogue: dict[str, Element] = {}
    for field, spec in specs.items():
        where = f"{file}: fields.{field}"
        path = _path(where, spec["path"])
        paths = _paths(where, spec["paths"])
        if spec["part"] and spec["within"] not in specs:
            raise PolicyError(f"{where}: part {spec['part']!r} needs `within` naming a field")
        if spec["within"] and not spec["part"]:
            raise PolicyError(f"{where}: `within` is only meaningful with `part`")
        if "{label}" not in spec["name"]:
            raise PolicyError(f"{where}: name must contain {{label}}")
        for role, role_spec in roles.items():
            if field not in has[role]:
                continue
            if spec["within"] and spec["within"] not in has[role]:
                raise PolicyError(
                    f"{file}: roles.{role}.fields: {field} needs {spec['within']} as well"
                )
            element_id = f"{role}.{field}"
            catalogue[element_id] = Element(
                id=element_id,
                role=role,
                field=field,
                name=spec["name"].replace("{label}", role_spec["label"]),
                registered=field in role_spec["registered"],
                path=path,
                method=spec["method"],
                personal=spec["personal"],
                consent=spec["consent"],
                reason=spec["reason"],
                part=spec["part"],
                within=f"{role}.{spec['within']}" if spec["within"] else None,
                contact_uri=spec["contact_uri"],
                paths=paths,
            )
    return catalogue


def _expand(selector: str, catalogue: Mapping[str, Element]) -> list[str]:
    """`registrant.email`, `*.email`, `registrant.*` or `*` → element ids (catalogue order)."""
    role, _, field = selector.partition(".")
    if not field and role != "*":
        return []
    field = field or "*"
    return [
        element.id
        for element in catalogue.values()
        if role in ("*", element.role) and field in ("*", element.field)
    ]


def _rules(
    file: str, raw_rules: Sequence[Any], catalogue: Mapping[str, Element]
) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_rules, start=1):
        label = raw.get("id", f"#{number}") if isinstance(raw, dict) else f"#{number}"
        where = f"{file}: rule {label}"
        if not isinstance(raw, dict):
            raise PolicyError(f"{where}: a rule must be a table")
        data = _load(_RuleSchema(), raw, where)
        if data["id"] in seen:
            raise PolicyError(f"{where}: duplicate rule id")
        seen.add(data["id"])
        elements: list[str] = []
        for selector in data["elements"]:
            expanded = _expand(selector, catalogue)
            if not expanded:
                raise PolicyError(f"{where}: unknown element {selector!r}")
            elements.extend(e for e in expanded if e not in elements)
        when = data["when"]
        rules.append(
            Rule(
                id=data["id"],
                note=data["note"],
                elements=tuple(elements),
                person=when.get("person"),
                consent=when.get("consent", False),
                sponsor=when.get("sponsor", False),
                grant=when.get("grant", False),
            )
        )
    return tuple(rules)


def _compile(
    role: str, revision: str, catalogue: Mapping[str, Element], rules: Sequence[Rule]
) -> RolePlan:
    ordered = [r for r in rules if not r.grant] + [r for r in rules if r.grant]
    by_contact_role: dict[str, list[ElementPlan]] = {}
    for element in catalogue.values():
        applicable = tuple(r for r in ordered if element.id in r.elements)
        by_contact_role.setdefault(element.role, []).append(ElementPlan(element, applicable))
    return RolePlan(
        role=role,
        revision=revision,
        by_contact_role=MappingProxyType({k: tuple(v) for k, v in by_contact_role.items()}),
    )
