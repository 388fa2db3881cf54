"""A redacted document is read-only all the way down: no renderer can change what it renders.

Each attempt below is something a renderer could write by mistake or on purpose; every one must
fail, and afterwards the answer and the full document it came from are as they were.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
import pytest

from rdap.principal import Principal
from rdap.profile import load_profile
from rdap.redaction import RedactedDocument, json_bytes, load_policy, redact
from rdap.redaction.readonly import ArrayView, ObjectView, view
from rdap.render import rdap_json
from rdap.settings import PROJECT_ROOT, Settings
from tests.redaction import sample

POLICY = load_policy(PROJECT_ROOT / "policies")
PROFILE = load_profile(Settings().service_file)
FORM = "https://rdap.example/contact?role={role}"
HIDDEN_EMAIL = "person1@registrant.example"  # the registrant's; the public may not see it
PUBLIC = Principal()
SPONSOR = Principal(role="registrar", registrar_id=sample.SPONSOR_ID)


def _render(result: RedactedDocument) -> bytes:
    return rdap_json.render(
        result,
        profile=PROFILE,
        base_url="https://rdap.example",
        request_url="https://rdap.example/x",
    )


def _setattr(target: Any, name: str, value: Any) -> None:
    setattr(target, name, value)


def _iadd(document: RedactedDocument) -> None:
    roles = document.body["entities"][1]["roles"]
    roles += ["registrant"]  # an immutable sequence has no in-place `+=`
    document.body["entities"][1]["roles"] = roles  # type: ignore[index]


# Every way a renderer could change a document: on the body, its nested objects and arrays,
# and the document itself.
ATTEMPTS: dict[str, Callable[[RedactedDocument], Any]] = {
    "assign top member": lambda d: d.body.__setitem__("handle", "x"),  # type: ignore[attr-defined]
    "delete top member": lambda d: d.body.__delitem__("handle"),  # type: ignore[attr-defined]
    "setdefault": lambda d: d.body.setdefault("port43", "x"),  # type: ignore[attr-defined]
    "pop": lambda d: d.body.pop("entities"),  # type: ignore[attr-defined]
    "popitem": lambda d: d.body.popitem(),  # type: ignore[attr-defined]
    "update": lambda d: d.body.update({"handle": "x"}),  # type: ignore[attr-defined]
    "clear": lambda d: d.body.clear(),  # type: ignore[attr-defined]
    "merge in place": lambda d: d.body.__ior__({"handle": "x"}),  # type: ignore[attr-defined]
    "assign nested member": lambda d: d.body["entities"][1].__setitem__("handle", "x"),
    "setdefault nested": lambda d: d.body["entities"][1].setdefault("remarks", []),
    "pop nested": lambda d: d.body["secureDNS"].pop("dsData"),
    "append to nested list": lambda d: d.body["entities"][1]["vcardArray"][1].append(
        ["email", {}, "text", HIDDEN_EMAIL]
    ),
    "extend nested list": lambda d: d.body["status"].extend(["x"]),
    "insert into nested list": lambda d: d.body["status"].insert(0, "x"),
    "assign list item": lambda d: d.body["entities"][1]["vcardArray"][1].__setitem__(
        0, ["email", {}, "text", HIDDEN_EMAIL]
    ),
    "assign list slice": lambda d: d.body["status"].__setitem__(slice(0, 0), ["x"]),
    "delete list item": lambda d: d.body["events"].__delitem__(0),
    "pop list": lambda d: d.body["events"].pop(),
    "remove from list": lambda d: d.body["status"].remove("active"),
    "sort list": lambda d: d.body["events"].sort(key=str),
    "reverse list": lambda d: d.body["events"].reverse(),
    "list += in place": _iadd,
    "list *= in place": lambda d: d.body["status"].__imul__(2),
    "assign through iteration": lambda d: [e.__setitem__("handle", 1) for e in d.body["entities"]],
    "assign through items()": lambda d: [v.append("x") for k, v in d.body.items() if k == "status"],
    "assign through values()": lambda d: [v.clear() for v in d.body.values() if v == ["active"]],
    "assign through get()": lambda d: d.body.get("secureDNS").__setitem__("delegationSigned", 0),
    "assign in a slice": lambda d: d.body["entities"][1:][0].__setitem__("handle", "x"),
    "deep jCard value": lambda d: d.body["entities"][1]["vcardArray"][1][1].__setitem__(3, "x"),
    "jCard parameters": lambda d: d.body["entities"][1]["vcardArray"][1][1][1].update(x="y"),
    "decisions": lambda d: d.decisions.__setitem__("registrant.email", None),  # type: ignore[attr-defined]
    "replace body": lambda d: _setattr(d, "body", {"handle": HIDDEN_EMAIL}),
    "replace redacted": lambda d: _setattr(d, "redacted", ()),
    "replace decisions": lambda d: _setattr(d, "decisions", {}),
    "replace disclosed": lambda d: _setattr(d, "disclosed", frozenset()),
    "replace subject": lambda d: _setattr(d, "subject", None),
    "add attribute": lambda d: _setattr(d, "extra", 1),
    "delete body": lambda d: delattr(d, "body"),
    "object.__setattr__": lambda d: object.__setattr__(d, "body", {}),
    "object.__setattr__ redacted": lambda d: object.__setattr__(d, "redacted", ()),
    "dataclasses.replace": lambda d: dataclasses.replace(d, body={"x": HIDDEN_EMAIL}),  # type: ignore[type-var]
    "instance dict": lambda d: vars(d).update(body={}),
}
# The redacted[] declarations are built once per outcome and shared between answers.
DECLARATION_ATTEMPTS: dict[str, Callable[[RedactedDocument], Any]] = {
    "declaration member": lambda d: d.redacted[0].__setitem__("method", "x"),  # type: ignore[attr-defined]
    "declaration name": lambda d: d.redacted[0]["name"].__setitem__("type", "x"),
    "declaration pop": lambda d: d.redacted[0].pop("reason"),  # type: ignore[attr-defined]
    "declaration update": lambda d: d.redacted[-1].update(method="x"),  # type: ignore[attr-defined]
    "declaration delete": lambda d: d.redacted[0].__delitem__("reason"),  # type: ignore[attr-defined]
    "declaration setdefault": lambda d: d.redacted[0].setdefault("x", 1),  # type: ignore[attr-defined]
    "declaration clear": lambda d: d.redacted[0]["reason"].clear(),
    "declaration merge": lambda d: d.redacted[0].__ior__({"method": "x"}),  # type: ignore[attr-defined]
    "declaration re-init": lambda d: d.redacted[0].__init__(method="x"),  # type: ignore[misc]
}


def _check(attempt: Callable[[RedactedDocument], Any], principal: Principal) -> None:
    document = sample.domain_document()
    full_before = copy.deepcopy(document.body)
    result = redact(document, principal, POLICY, now=sample.NOW, contact_uri=FORM)
    rendered = _render(result)
    with pytest.raises((TypeError, AttributeError)):
        attempt(result)
    assert _render(result) == rendered
    assert document.body == full_before  # the full document (and parts shared with it) too
    again = redact(document, principal, POLICY, now=sample.NOW, contact_uri=FORM)
    assert _render(again) == rendered


@pytest.mark.parametrize("principal", [PUBLIC, SPONSOR], ids=["public", "sponsor"])
@pytest.mark.parametrize("attempt", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_every_way_of_changing_a_redacted_document_fails(
    attempt: Callable[[RedactedDocument], Any], principal: Principal
) -> None:
    """Public: a body of copies and shared parts; sponsor: nothing hidden, so the whole body is
    the full document's."""
    _check(attempt, principal)


@pytest.mark.parametrize("attempt", DECLARATION_ATTEMPTS.values(), ids=DECLARATION_ATTEMPTS.keys())
def test_every_way_of_changing_a_declaration_fails(
    attempt: Callable[[RedactedDocument], Any],
) -> None:
    _check(attempt, PUBLIC)


def test_the_public_answer_never_gains_hidden_data() -> None:
    """The attempt that worked before: append the hidden email to the public answer's registrant."""
    result = redact(sample.domain_document(), PUBLIC, POLICY, now=sample.NOW, contact_uri=FORM)
    properties = result.body["entities"][1]["vcardArray"][1]
    with pytest.raises((TypeError, AttributeError)):
        properties.append(["email", {}, "text", HIDDEN_EMAIL])
    assert HIDDEN_EMAIL.encode() not in _render(result)


def test_declarations_shared_between_answers_stay_as_built() -> None:
    first = redact(sample.domain_document(), PUBLIC, POLICY, now=sample.NOW)
    with pytest.raises((TypeError, AttributeError)):
        first.redacted[0]["prePath"] = "$.nothing"  # type: ignore[index]
    second = redact(sample.domain_document(), PUBLIC, POLICY, now=sample.NOW)
    assert second.redacted == first.redacted
    assert all(entry["prePath"] != "$.nothing" for entry in second.redacted if "prePath" in entry)


def test_reading_works_as_for_plain_json() -> None:
    """The reading interface renderers use: Mappings and Sequences, equal to plain JSON."""
    document = sample.domain_document()
    result = redact(document, SPONSOR, POLICY, now=sample.NOW)
    body = result.body
    assert isinstance(body, Mapping)
    assert body == document.body
    assert document.body == body
    assert dict(body) == document.body
    assert list(body) == list(document.body)
    assert len(body) == len(document.body)
    assert "entities" in body
    assert "nothing" not in body
    assert body.get("nothing") is None
    assert body.get("nothing", 5) == 5
    entities = body["entities"]
    assert isinstance(entities, Sequence)
    assert not isinstance(entities, (list, dict, str))
    assert entities == document.body["entities"]
    assert entities[-1] == document.body["entities"][-1]
    assert entities[1:] == document.body["entities"][1:]
    assert list(reversed(entities)) == list(reversed(document.body["entities"]))
    assert entities.index(document.body["entities"][2]) == 2
    assert entities.count(document.body["entities"][2]) == 1
    assert document.body["entities"][2] in entities
    assert dict(body.items())["ldhName"] == sample.DOMAIN
    assert list(body.values())[list(body).index("status")] == ["active"]
    assert ("ldhName", sample.DOMAIN) in body.items()
    properties = entities[1]["vcardArray"][1]
    name, params, kind, value = properties[1]
    assert (name, dict(params), kind) == ("fn", {}, "text")
    assert isinstance(value, str)
    assert [p[0] for p in properties][:2] == ["version", "fn"]
    assert body != {"other": 1}
    assert entities != ["other"]
    assert body != 5
    with pytest.raises(TypeError):
        hash(body)
    assert "ObjectView" in repr(body)
    assert "ArrayView" in repr(entities)
    # A plain copy is the caller's own: changing it changes nothing in the document.
    plain = orjson.loads(json_bytes(body))
    plain["entities"][1]["handle"] = "x"
    assert body == document.body


def test_views_of_every_json_container() -> None:
    """Containers that are not exactly dict or list (tuples, subclasses) are wrapped too."""
    inner = {"k": ["v"]}
    for value in (collections.OrderedDict(inner), types.MappingProxyType(inner)):
        wrapped = view(value) if isinstance(value, dict) else ObjectView(dict(value))
        assert isinstance(wrapped, ObjectView)
        assert wrapped == inner
        assert wrapped == types.MappingProxyType(inner)  # any Mapping with the same content
        with pytest.raises(AttributeError):
            wrapped["k"].append("w")
    for value in (("a", {"b": 1}), collections.UserList(["a"])):
        wrapped = view(value)
        if isinstance(value, tuple):
            assert isinstance(wrapped, ArrayView)
            with pytest.raises(TypeError):
                wrapped[1]["b"] = 2
        else:
            assert wrapped is value  # not JSON: left to the serializer to refuse
    marker = object()
    assert view(marker) is marker
    assert view(1.5) == 1.5
    assert view(None) is None


def test_declarations_are_plain_json_that_never_changes() -> None:
    result = redact(sample.domain_document(), PUBLIC, POLICY, now=sample.NOW)
    entry = result.redacted[0]
    assert isinstance(entry, dict)  # orjson serializes it directly
    assert copy.copy(entry) is entry
    assert copy.deepcopy(entry) is entry
    plain = orjson.loads(orjson.dumps(entry))
    assert entry == plain
    assert dict(entry) == plain  # a copy is the caller's own
    assert json_bytes(result.redacted) == orjson.dumps([dict(e) for e in result.redacted])


def test_json_bytes_is_what_orjson_gives_for_the_plain_body() -> None:
    document = sample.domain_document()
    for principal in (PUBLIC, SPONSOR):
        result = redact(document, principal, POLICY, now=sample.NOW, contact_uri=FORM)
        assert json_bytes(result.body) == orjson.dumps(orjson.loads(json_bytes(result.body)))
        assert json_bytes([result.body, result.redacted, (1, "x")]).startswith(b"[{")
    assert json_bytes(redact(document, SPONSOR, POLICY, now=sample.NOW).body) == orjson.dumps(
        document.body
    )
    with pytest.raises(TypeError):
        json_bytes({"x": object()})
