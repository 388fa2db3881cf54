"""The JSONPath subset: parsing, canonical rendering, selection, copy-on-write."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rdap.redaction import jsonpath
from rdap.redaction.jsonpath import JsonPathError, parse

DOC: dict[str, Any] = {
    "handle": "H1",
    "odd key": 1,
    "entities": [
        {"roles": ["registrar"], "handle": "R"},
        {"roles": ["registrant"], "handle": "C1", "meta": {"a": {"b": "x"}}},
    ],
    "vcard": [
        ["fn", {}, "text", "Jane"],
        ["tel", {"type": "voice"}, "uri", "tel:+1"],
        ["tel", {"type": "fax"}, "uri", "tel:+2"],
        ["tel", {"type": ["voice"]}, "uri", "tel:+3"],
        "not a property",
        [],
    ],
    "remarks": [{"title": "Contact verification"}, {"title": "Other"}, "x"],
    "byname": {"one": {"title": "Other"}, "two": {"title": "Contact verification"}},
}

PATHS = [
    "$",
    "$.handle",
    "$['odd key']",
    "$.entities[1].handle",
    "$.entities[-1].handle",
    "$.vcard[:2]",
    "$.vcard[1:]",
    "$.entities[?(@.roles[0]=='registrant')].handle",
    "$.vcard[?(@[0]=='fn')][3]",
    "$.vcard[?(@[1].type=='voice')]",
    "$.remarks[?(@.title=='Contact verification')]",
    "$.entities[?(@.meta.a.b=='x')]",
    "$.entities[?(@.roles[0]=='it\\'s')]",
]


@pytest.mark.parametrize("text", PATHS)
def test_render_is_the_parsed_text(text: str) -> None:
    assert str(parse(text)) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$", [DOC]),
        ("$.handle", ["H1"]),
        ("$['odd key']", [1]),
        ("$.missing", []),
        ("$.handle.deeper", []),
        ("$.entities[1].handle", ["C1"]),
        ("$.entities[-1].handle", ["C1"]),
        ("$.entities[5]", []),
        ("$.handle[0]", []),
        ("$.vcard[:1]", [["fn", {}, "text", "Jane"]]),
        ("$.handle[:1]", []),
        ("$.entities[?(@.roles[0]=='registrant')].handle", ["C1"]),
        ("$.vcard[?(@[0]=='fn')][3]", ["Jane"]),
        ("$.vcard[?(@[1].type=='voice')][3]", ["tel:+1"]),  # a list-typed type is no match
        ("$.vcard[?(@[1].type=='fax')][3]", ["tel:+2"]),
        ("$.remarks[?(@.title=='Contact verification')]", [{"title": "Contact verification"}]),
        ("$.byname[?(@.title=='Contact verification')]", [{"title": "Contact verification"}]),
        ("$.handle[?(@.title=='x')]", []),
        ("$.entities[?(@.meta.a.b=='x')].handle", ["C1"]),
        ("$.entities[?(@.meta.a.c=='x')].handle", []),
        ("$.entities[?(@.meta.a.b.c=='x')].handle", []),
        ("$.vcard[?(@[0][0]=='f')][3]", []),  # @[0] is a string, not an array
    ],
)
def test_values(text: str, expected: list[Any]) -> None:
    assert parse(text).values(DOC) == expected


def test_filters_on_short_or_odd_children() -> None:
    doc = {"a": [["x", "y"], ["z"], [{"t": "v"}], ["q", "not a dict"]]}
    assert parse("$.a[?(@[1]=='y')]").values(doc) == [["x", "y"]]
    assert parse("$.a[?(@[0].t=='v')]").values(doc) == [[{"t": "v"}]]
    assert parse("$.a[?(@[1].t=='v')]").values(doc) == []
    assert parse("$.a[?(@=='z')]").values({"a": ["z", "y"]}) == ["z"]
    roles = {
        "e": [{"roles": ["r"]}, {"roles": []}, {"roles": "r"}, {"x": 1}, ["r"], {"roles": [["r"]]}]
    }
    assert parse("$.e[?(@.roles[0]=='r')]").values(roles) == [{"roles": ["r"]}]
    assert parse("$.e[?(@.roles[1]=='r')]").values(roles) == []


@pytest.mark.parametrize(
    "text",
    [
        "handle",
        "$..handle",
        "$.a[?(@[-1]=='x')]",
        "$[*]",
        "$.a[?(@.b!='x')]",
        "$.a[?(@.b==1)]",
        "$.",
        "$[1",
        "$ .a",
    ],
)
def test_unsupported_syntax_is_rejected(text: str) -> None:
    with pytest.raises(JsonPathError):
        parse(text)


def test_the_root_has_no_location() -> None:
    with pytest.raises(JsonPathError):
        parse("$").locate(DOC)


def test_join() -> None:
    entity = parse("$.entities[?(@.roles[0]=='registrant')]")
    joined = entity.join(parse("$.meta.a.b"))
    assert str(joined) == "$.entities[?(@.roles[0]=='registrant')].meta.a.b"
    assert joined.values(DOC) == ["x"]


def test_copy_on_write_leaves_the_original_alone() -> None:
    original = copy.deepcopy(DOC)
    root = dict(DOC)
    copied = {id(root)}
    locations = parse("$.vcard[?(@[0]=='fn')][3]").locate(root, copied)
    for parent, key in locations:
        parent[key] = ""
    assert original == DOC
    assert root["vcard"][0][3] == ""
    assert root["vcard"][1] is DOC["vcard"][1]  # untouched properties are shared, not copied
    # A second walk reuses the copies it already made.
    again = parse("$.vcard[?(@[0]=='fn')]").locate(root, copied)
    assert again[0][0] is root["vcard"]


def test_writable_leaves_scalars() -> None:
    holder = {"a": "text"}
    assert jsonpath.writable(holder, "a", set()) == "text"
