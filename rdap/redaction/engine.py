"""Redaction engine: decide each element from the role's plan, apply it, declare it (RFC 9537).

How a document is redacted for a caller:

1. Compile (`_outcome`, the one compile step): for each contact entity, the facts that decide
   it (the role's plan, the contact's role, person kind, publication consent, whether the
   caller sponsors the object, the elements its grants cover, where the entity sits) give
   every element's decision, the ops that hide what is not shown at the element's location in
   the document's contact format (rdap.cards), one walker for all the ops' JSONPaths (a trie
   compiled into closures, `_compile`: shared prefixes such as `.vcardArray[1]` are walked
   once, sibling filters share one scan of the jCard) and the RFC 9537 declarations. The
   entity paths of a document shape go through the same compiler (`_entity_trie`). Both are
   pure functions of hashable, frozen inputs returning frozen values, memoised process-wide
   because few fact combinations recur: these memos are the only state shared across
   requests, and only ever hold what a fresh call would return.
2. Locate and apply (`redact`, `_apply`): one walk finds every op's locations, copying the
   containers on the way (copy-on-write: the full document and other answers share the
   rest); then values are emptied, stripped or removed (removals last, highest index first)
   and the declaration of each op that hid something is appended; the card's format then
   finishes it (rdap.redaction.formats: the contact form's URI, no empty JSContact maps).

Measured on a cold lookup (benchmarks/read_path.py, benchmarks/README.md): the compiled trie
and the memoised declarations each save more than a plain `JsonPath.locate` per op or
declarations built per answer would cost.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeAlias

from rdap import cards
from rdap.document import FullDocument, Subject
from rdap.principal import Principal
from rdap.redaction import jsonpath
from rdap.redaction.formats import STEPS, CardSteps
from rdap.redaction.policy import (
    FAIL_CLOSED,
    NOT_PERSONAL,
    PERSON_KINDS,
    Element,
    ElementPlan,
    Policy,
    RolePlan,
)
from rdap.redaction.readonly import FrozenObject, ObjectView, frozen

_KEY = object()  # only this module can build a RedactedDocument


@dataclasses.dataclass(frozen=True)
class Decision:
    """Whether one element is shown to this caller, and the rule that decided it."""

    shown: bool
    rule: str  # a rule id from the role file, or "fail-closed" / "not-personal"


class RedactedDocument:
    """A document fit to render: the only type renderers accept. Built only by `redact()`.

    Read-only all the way down, because its body shares every part redaction left alone with
    the full document (and with other answers): `body` is the top-level RDAP object as a
    read-only Mapping, whose objects are read-only Mappings and arrays read-only Sequences (not
    dict or list); `redacted` holds the RFC 9537 declarations, frozen (dicts that refuse every
    change). Read them like plain JSON; `rdap.redaction.json_bytes` serializes them (and
    anything holding them).
    """

    __slots__ = (
        "_body",
        "_contact_format",
        "_decisions",
        "_disclosed",
        "_policy_revision",
        "_redacted",
        "_subject",
    )
    _body: ObjectView
    _contact_format: str
    _redacted: tuple[FrozenObject, ...]
    _decisions: Mapping[str, Decision]
    _disclosed: frozenset[str]
    _policy_revision: str
    _subject: Subject

    def __init__(
        self,
        *,
        body: dict[str, Any],
        redacted: tuple[FrozenObject, ...],
        decisions: Mapping[str, Decision],
        disclosed: frozenset[str],
        policy_revision: str,
        subject: Subject,
        contact_format: str = cards.JCARD,
        _key: object = None,
    ) -> None:
        if _key is not _KEY:
            raise TypeError("RedactedDocument is created only by rdap.redaction.redact()")
        for name, value in (
            ("_body", ObjectView(body)),
            ("_redacted", redacted),
            ("_decisions", decisions),
            ("_disclosed", disclosed),
            ("_policy_revision", policy_revision),
            ("_subject", subject),
            ("_contact_format", contact_format),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a RedactedDocument is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a RedactedDocument is read-only")

    @property
    def body(self) -> Mapping[str, Any]:
        """The RDAP object, read-only (views: nothing is copied)."""
        return self._body

    @property
    def redacted(self) -> tuple[Mapping[str, Any], ...]:
        """The RFC 9537 `redacted` objects, read-only (shared between answers)."""
        return self._redacted

    @property
    def decisions(self) -> Mapping[str, Decision]:
        """Element id → decision."""
        return self._decisions

    @property
    def disclosed(self) -> frozenset[str]:
        """Element ids shown only because of a grant (audit these)."""
        return self._disclosed

    @property
    def policy_revision(self) -> str:
        return self._policy_revision

    @property
    def subject(self) -> Subject:
        return self._subject

    @property
    def contact_format(self) -> str:
        """The format of the document's contact cards (rdap.cards.FORMATS)."""
        return self._contact_format


_EMPTY, _REMOVE, _STRIP, _DECLARE = "emptyValue", "removal", "partialValue", "declare"


@dataclasses.dataclass(frozen=True)
class _Op:
    """One hidden element and how to hide it in this outcome."""

    element: Element
    action: str  # _EMPTY, _REMOVE, _STRIP (drop ;ext= from the URI), _DECLARE (already gone)
    path: jsonpath.JsonPath  # relative to the entity; for _STRIP it ends at the URI
    suffix: str  # the path's text after `$`, as declared


@dataclasses.dataclass(frozen=True)
class _Node:
    """A trie of the ops' paths: shared prefixes (`.vcardArray[1]`, the adr filter) are walked
    once per entity instead of once per element."""

    step: jsonpath.Step
    children: tuple[_Node | _Group, ...]
    targets: tuple[int, ...]  # indices of the ops whose path ends at this step


@dataclasses.dataclass(frozen=True)
class _Group:
    """Sibling filters testing the same `@<rel>`: one pass over the children serves them all
    (`[?(@[0]=='fn')]`, `[?(@[0]=='email')]`, ... each cost a full scan of the jCard)."""

    extract: Any  # Callable[[Any], Any], jsonpath.Filter.extract
    table: Mapping[str, _Node]  # filter value → its node


@dataclasses.dataclass(frozen=True)
class _EntityOutcome:
    """The decisions for one contact entity: the same for every request with the same facts."""

    steps: CardSteps  # what its card's format needs beyond hiding values (rdap.redaction.formats)
    decisions: tuple[tuple[str, Decision], ...]
    disclosed: tuple[str, ...]
    ops: tuple[_Op, ...]
    walk: _Walker = dataclasses.field(compare=False)  # the ops' paths, compiled (see _compile)
    contact_uri: bool  # an element that asks for a contact-uri is hidden
    declarations: tuple[FrozenObject, ...]  # one RFC 9537 declaration per op, for this entity


def _declaration(op: _Op, prefix: str) -> dict[str, Any]:
    """The `redacted` object for one op (RFC 9537 §4.2): emptied and stripped values keep a
    postPath to what is left; removed ones a prePath to where they were."""
    member = "postPath" if op.action in (_EMPTY, _STRIP) else "prePath"
    method = _REMOVE if op.action == _DECLARE else op.action
    return _declared(op.element, member, prefix + op.suffix, method)


def _declared(element: Element, member: str, path: str, method: str) -> dict[str, Any]:
    return {
        "name": {"type" if element.registered else "description": element.name},
        member: path,
        "pathLang": "jsonpath",
        "method": method,
        "reason": {"description": element.reason},
    }


def removal_declaration(element: Element, pre_path: str) -> dict[str, Any]:
    """The RFC 9537 `redacted` object declaring that `element` was removed from `pre_path`
    (a JSONPath into the answer), named and reasoned as RDAP answers declare it."""
    return _declared(element, "prePath", pre_path, _REMOVE)


def contact_decisions(
    policy: Policy,
    principal: Principal,
    contact_role: str,
    *,
    registrar_id: int | None,
    person_kind: str | None,
    consent: frozenset[str] = frozenset(),
    domain: str | None = None,
    now: dt.datetime,
) -> Mapping[str, Decision]:
    """Element id → decision for one contact in `contact_role` of an object (`domain`) that
    `registrar_id` sponsors: what `redact()` decides for it, for answers that report on a
    contact outside an RDAP document (the accuracy report, complaints).

    `person_kind=None` means the contact's facts are not at hand: an element is then shown only
    if it would be both for a natural and for a legal person (fail closed)."""
    plan = policy.plan(principal.role)
    sponsor = principal.sponsors(registrar_id)
    granted = _granted(principal, frozenset({domain}) if domain else frozenset(), now)
    kinds = PERSON_KINDS if person_kind is None else (person_kind,)
    decided: dict[str, Decision] = {}
    for kind in kinds:
        outcome = _outcome(
            plan,
            contact_role,
            kind,
            consent,
            sponsor=sponsor,
            granted=granted,
            prefix="$",
            contact_format=cards.JCARD,  # decisions are the same in every format
        )
        for element_id, decision in outcome.decisions:
            if element_id not in decided or not decision.shown:
                decided[element_id] = decision
    return MappingProxyType(decided)


def redact(
    document: FullDocument,
    principal: Principal,
    policy: Policy,
    *,
    now: dt.datetime,
    contact_uri: str | None = None,
) -> RedactedDocument:
    """Apply `policy` for `principal` to `document`; the input is never modified."""
    plan = policy.plan(principal.role)
    subject = document.subject
    sponsor = principal.sponsors(subject.registrar_id)
    granted = _granted(principal, subject.domains, now)
    # Copy-on-write: containers are copied only on the way to what changes.
    body = document.body.copy()
    copied = {id(body)}
    redacted: list[FrozenObject] = []
    decisions: dict[str, Decision] = {}
    disclosed: list[str] = []
    paths = tuple(f.path for f in document.entities)
    _, prefixes = _entity_trie(paths)
    outcomes = [
        _outcome(
            plan,
            f.role,
            f.person_kind,
            f.publish_consent,
            sponsor=sponsor,
            granted=granted,
            prefix=prefix,
            contact_format=document.contact_format,
        )
        for f, prefix in zip(document.entities, prefixes, strict=True)
    ]
    for outcome in outcomes:
        decisions.update(outcome.decisions)
        disclosed.extend(outcome.disclosed)
    if any(outcome.ops for outcome in outcomes):
        located = _locate_entities(paths, body, copied)
        for facts, outcome, (parent, key, prefix) in zip(
            document.entities, outcomes, located, strict=True
        ):
            if outcome.ops:
                _apply(
                    _writable_entity(parent, key, copied),
                    prefix=prefix,
                    contact_role=facts.role,
                    outcome=outcome,
                    redacted=redacted,
                    contact_uri=contact_uri,
                    copied=copied,
                )
    return RedactedDocument(
        body=body,
        redacted=tuple(redacted),
        decisions=MappingProxyType(decisions),
        disclosed=frozenset(disclosed),
        policy_revision=plan.revision,
        subject=subject,
        contact_format=document.contact_format,
        _key=_KEY,
    )


def with_notices(document: RedactedDocument, notices: Sequence[dict[str, Any]]) -> RedactedDocument:
    """`document` with `notices` after its own top-level notices (a disclosure names itself in
    one); redaction's outcome (declarations, decisions, what was disclosed) is unchanged."""
    body = dict(document.body.items())  # the top level only: every part below stays shared
    body["notices"] = [*document.body.get("notices", ()), *notices]
    return RedactedDocument(
        body=body,
        redacted=document._redacted,
        decisions=document.decisions,
        disclosed=document.disclosed,
        policy_revision=document.policy_revision,
        subject=document.subject,
        contact_format=document.contact_format,
        _key=_KEY,
    )


@functools.lru_cache(maxsize=64)
def _entity_trie(paths: tuple[str, ...]) -> tuple[_Walker, tuple[str, ...]]:
    """The entity paths of a document shape as one compiled trie, and their canonical texts."""
    parsed = [jsonpath.parse(text) for text in paths]
    steps = [(i, path.steps) for i, path in enumerate(parsed) if path.steps]
    return _compile(_trie(steps)), tuple(str(path) for path in parsed)


def _locate_entities(
    paths: tuple[str, ...], body: dict[str, Any], copied: set[int]
) -> list[tuple[Any, jsonpath.Key | None, str]]:
    """Where each contact entity sits (parent and key; None for the root), with its
    canonical path: one walk of the body for all of them."""
    walk, texts = _entity_trie(paths)
    found: list[list[jsonpath.Location]] = [[] for _ in paths]
    walk(body, found, copied)
    located: list[tuple[Any, jsonpath.Key | None, str]] = []
    for text, locations in zip(texts, found, strict=True):
        if text == "$":
            located.append((body, None, text))
        elif len(locations) == 1:
            located.append((*locations[0], text))
        else:
            raise ValueError(f"entity path {text} selects {len(locations)} objects, not one")
    return located


def _writable_entity(parent: Any, key: jsonpath.Key | None, copied: set[int]) -> dict[str, Any]:
    entity = parent if key is None else jsonpath.writable(parent, key, copied)
    if not isinstance(entity, dict):
        raise ValueError("an entity path does not select an object")
    return entity


def _granted(principal: Principal, domains: frozenset[str], now: dt.datetime) -> frozenset[str]:
    """Element ids covered by an active grant for this object's domains and stated purpose."""
    covered: set[str] = set()
    for grant in principal.grants:
        if grant.domain not in domains or not grant.active(now):
            continue
        if principal.purpose is not None and grant.purpose != principal.purpose:
            continue
        covered.update(grant.elements)
    return frozenset(covered)


@functools.lru_cache(maxsize=4096)
def _outcome(
    plan: RolePlan,
    contact_role: str,
    person_kind: str,
    consent: frozenset[str],
    *,
    sponsor: bool,
    granted: frozenset[str],
    prefix: str,
    contact_format: str,
) -> _EntityOutcome:
    """The compile step: every element of one contact role decided, the ops that hide what is
    not shown at its locations in `contact_format`, their paths compiled into one walker, and
    their RFC 9537 declarations for an entity at JSONPath `prefix`. Memoised (see the module
    docstring)."""
    element_plans = plan.by_contact_role.get(contact_role)
    if element_plans is None:
        raise ValueError(f"contact role {contact_role!r} is not in the element catalogue")
    decisions: list[tuple[str, Decision]] = []
    disclosed: list[str] = []
    for element_plan in element_plans:
        decision, by_grant = _decide(element_plan, person_kind, consent, sponsor, granted)
        decisions.append((element_plan.element.id, decision))
        if by_grant:
            disclosed.append(element_plan.element.id)
    shown = {element_id for element_id, d in decisions if d.shown}
    steps = STEPS[contact_format]
    ops: list[_Op] = []
    for element_plan in element_plans:
        element = element_plan.element
        if element.id in shown:
            continue
        path, suffix = element.paths[contact_format], element.suffixes[contact_format]
        if element.part is None:
            ops.append(_Op(element, element.method, path, suffix))
        elif element.within in shown:  # "tel-ext" inside a visible number: strip it
            ops.append(_Op(element, _STRIP, path.join(steps.tel_value), suffix + steps.tel_suffix))
        else:  # removed together with the number that contains it
            ops.append(_Op(element, _DECLARE, path, suffix))
    return _EntityOutcome(
        steps=steps,
        decisions=tuple(decisions),
        disclosed=tuple(disclosed),
        ops=tuple(ops),
        walk=_compile(
            _trie([(i, op.path.steps) for i, op in enumerate(ops) if op.action != _DECLARE])
        ),
        contact_uri=any(op.element.contact_uri for op in ops),
        declarations=tuple(frozen(_declaration(op, prefix)) for op in ops),
    )


def _trie(paths: list[tuple[int, tuple[jsonpath.Step, ...]]]) -> tuple[_Node | _Group, ...]:
    firsts: dict[jsonpath.Step, list[tuple[int, tuple[jsonpath.Step, ...]]]] = {}
    for index, steps in paths:
        firsts.setdefault(steps[0], []).append((index, steps[1:]))
    trie: list[_Node | _Group] = []
    groups: dict[tuple[jsonpath.Member | jsonpath.Index, ...], _Group] = {}
    for step, group in firsts.items():
        node = _Node(
            step=step,
            children=_trie([(i, rest) for i, rest in group if rest]),
            targets=tuple(i for i, rest in group if not rest),
        )
        if isinstance(step, jsonpath.Filter):
            if step.rel not in groups:
                groups[step.rel] = _Group(step.extract, {})
                trie.append(groups[step.rel])
            groups[step.rel].table[step.value] = node  # type: ignore[index]
        else:
            trie.append(node)
    return tuple(trie)


def _decide(
    plan: ElementPlan,
    person_kind: str,
    consent: frozenset[str],
    sponsor: bool,
    granted: frozenset[str],
) -> tuple[Decision, bool]:
    """The first rule whose conditions all hold shows the element; else fail closed."""
    element = plan.element
    for rule in plan.rules:
        if rule.person is not None and rule.person != person_kind:
            continue
        if rule.consent and (element.consent is None or element.consent not in consent):
            continue
        if rule.sponsor and not sponsor:
            continue
        if rule.grant and element.id not in granted:
            continue
        return Decision(shown=True, rule=rule.id), rule.grant
    if element.personal:
        return Decision(shown=False, rule=FAIL_CLOSED), False
    return Decision(shown=True, rule=NOT_PERSONAL), False


_Found: TypeAlias = list[list[jsonpath.Location]]  # per op, the locations its path selects
_Walker: TypeAlias = Callable[[Any, _Found, set[int]], None]
_Visitor: TypeAlias = Callable[[Any, jsonpath.Key, _Found, set[int]], None]


def _compile(nodes: tuple[_Node | _Group, ...]) -> _Walker:
    """A trie as one function that collects, per op, the locations its path selects, and copies
    containers on the way down. Each step becomes a closure specialised to its kind, without the
    list of (key, child) pairs a generic step builds: this runs for every contact entity of
    every answer."""
    parts = [_compile_group(n) if isinstance(n, _Group) else _compile_node(n) for n in nodes]
    if len(parts) == 1:
        return parts[0]

    def walk(container: Any, found: _Found, copied: set[int]) -> None:
        for part in parts:
            part(container, found, copied)

    return walk


def _visitor(node: _Node) -> _Visitor:
    """What to do at a location `node` selects: record it for the ops ending there, then walk
    on into a writable copy of what it holds."""
    targets = node.targets
    children = _compile(node.children) if node.children else None
    writable = jsonpath.writable
    if children is None and len(targets) == 1:
        (target,) = targets

        def record(container: Any, key: jsonpath.Key, found: _Found, copied: set[int]) -> None:
            found[target].append((container, key))

        return record
    if children is not None and not targets:
        inner = children

        def descend(container: Any, key: jsonpath.Key, found: _Found, copied: set[int]) -> None:
            inner(writable(container, key, copied), found, copied)

        return descend

    def visit(container: Any, key: jsonpath.Key, found: _Found, copied: set[int]) -> None:
        for target in targets:
            found[target].append((container, key))
        if children is not None:
            children(writable(container, key, copied), found, copied)

    return visit


def _compile_node(node: _Node) -> _Walker:
    visit, step = _visitor(node), node.step
    if isinstance(step, jsonpath.Member):
        name = step.name

        def member(container: Any, found: _Found, copied: set[int]) -> None:
            if type(container) is dict and name in container:
                visit(container, name, found, copied)

        return member
    if isinstance(step, jsonpath.Index) and step.index >= 0:
        index = step.index

        def element(container: Any, found: _Found, copied: set[int]) -> None:
            if type(container) is list and index < len(container):
                visit(container, index, found, copied)

        return element
    select = step.select  # a negative index or a slice (filters are grouped)

    def selected(container: Any, found: _Found, copied: set[int]) -> None:
        for key, _ in select(container):
            visit(container, key, found, copied)

    return selected


def _compile_group(group: _Group) -> _Walker:
    extract, get = group.extract, {v: _visitor(node) for v, node in group.table.items()}.get

    def matching(container: Any, found: _Found, copied: set[int]) -> None:
        if type(container) is list:
            items: Any = enumerate(container)
        elif type(container) is dict:
            items = container.items()
        else:
            return
        # All hits first: visiting replaces children with copies.
        hits = [
            (key, visit)
            for key, child in items
            if type(value := extract(child)) is str and (visit := get(value)) is not None
        ]
        for key, visit in hits:
            visit(container, key, found, copied)

    return matching


def _apply(
    entity: dict[str, Any],
    *,
    prefix: str,
    contact_role: str,
    outcome: _EntityOutcome,
    redacted: list[FrozenObject],
    contact_uri: str | None,
    copied: set[int],
) -> None:
    """Hide each element in `entity` (a copy) and append its declaration to `redacted`.

    All locations are found before anything changes; removals run last, from the highest
    index down, so no location moves under another.
    """
    found: _Found = [[] for _ in outcome.ops]
    outcome.walk(entity, found, copied)
    removals: dict[int, tuple[Any, list[jsonpath.Key]]] = {}
    for op, locations, declaration in zip(outcome.ops, found, outcome.declarations, strict=True):
        if _hide(op, locations, removals):
            redacted.append(declaration)
    for parent, keys in removals.values():
        for key in sorted(set(keys), reverse=True):
            del parent[key]
    if entity.get("remarks") == []:  # RFC 9083: omit an empty remarks array
        del entity["remarks"]
    if "handle" not in entity and "links" in entity:
        _drop_self_links(entity)
    if outcome.contact_uri and contact_uri:
        outcome.steps.add_contact_uri(entity, contact_uri.replace("{role}", contact_role), copied)
    outcome.steps.finish(entity, copied)


def _hide(
    op: _Op,
    locations: list[jsonpath.Location],
    removals: dict[int, tuple[Any, list[jsonpath.Key]]],
) -> bool:
    """Empty or strip now, or queue a removal; False when there was nothing to hide (then
    nothing is declared)."""
    if op.action == _EMPTY:
        if not locations:
            return False  # nothing to empty; an emptyValue postPath must resolve
        for parent, key in locations:
            parent[key] = ""
        return True
    if op.action == _STRIP:
        return _strip_ext(locations)  # a visible number without an extension hides nothing
    # _REMOVE, or _DECLARE: gone with the element that contains it
    for parent, key in locations:
        if id(parent) in removals:
            removals[id(parent)][1].append(key)
        else:
            removals[id(parent)] = (parent, [key])
    return True


def _strip_ext(locations: list[jsonpath.Location]) -> bool:
    """Drop the ;ext= parameter from each selected tel URI; True if any had one."""
    stripped = False
    for parent, key in locations:
        uri = parent[key]
        if isinstance(uri, str):
            params = uri.split(";")
            kept = [p for p in params[1:] if not p.lower().startswith("ext=")]
            if len(kept) < len(params) - 1:
                parent[key] = ";".join([params[0], *kept])
                stripped = True
    return stripped


def _drop_self_links(entity: dict[str, Any]) -> None:
    """A removed handle takes the entity's self link with it: its href is /entity/{handle}.

    Clients show that link (whoisit's `url`) and follow it (the 20c `rdap` client), so leaving
    it would publish the handle the `redacted` member declares removed. `links` is replaced, not
    changed in place: the list may still be shared with the unredacted document.
    """
    kept = [
        link
        for link in entity["links"]
        if not (isinstance(link, dict) and link.get("rel") == "self")
    ]
    if kept:
        entity["links"] = kept
    else:
        del entity["links"]  # RFC 9083: omit an empty links array
